"""A language model with fixed answers, so planner and runtime tests need no weights.

Tokens are whitespace-separated words. A candidate found in the table gets its fixed
log-prob spread evenly over its words; any other candidate gets ``default``, all of it on the
last word. Both the candidate path (:meth:`score`) and the whole-text path
(:meth:`token_logprobs`, used by the completions server) follow that rule, so scores served
over HTTP equal in-process scores whenever candidates start at a word boundary.
"""

from __future__ import annotations

from collections.abc import Mapping

from robollm.llm.base import CandidateScore, LanguageModel, TokenLogprob, split_words


class FakeLanguageModel(LanguageModel):
    """Fixed log-probs keyed by candidate text (surrounding whitespace ignored).

    ``prompt_scores`` overrides the table for prompts that equal one of its keys, which is how
    a test gives the neutral calibration prompt its own, different answers.
    """

    name = "fake"

    def __init__(
        self,
        scores: Mapping[str, float] | None = None,
        default: float = -20.0,
        *,
        prompt_scores: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self.scores = {k.strip(): float(v) for k, v in (scores or {}).items()}
        self.default = float(default)
        self.prompt_scores = {
            p: {k.strip(): float(v) for k, v in table.items()}
            for p, table in (prompt_scores or {}).items()
        }
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def _lookup(self, prompt_table: Mapping[str, float], key: str) -> float | None:
        if key in prompt_table:
            return prompt_table[key]
        return self.scores.get(key)

    def _spread(self, value: float | None, n: int) -> list[float]:
        if value is None:
            return [0.0] * (n - 1) + [self.default]
        return [value / n] * n

    def _score(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        self.calls.append((prompt, tuple(candidates)))
        table = self.prompt_scores.get(prompt, {})
        results = []
        for candidate in candidates:
            n = len(split_words(candidate))
            per_token = self._spread(self._lookup(table, candidate.strip()), n)
            results.append(
                CandidateScore(candidate, sum(per_token), n, token_logprobs=tuple(per_token))
            )
        return results

    def count_tokens(self, text: str) -> int:
        return len(split_words(text))

    def token_logprobs(self, text: str) -> list[TokenLogprob]:
        words = split_words(text)
        if not words:
            return []
        table: Mapping[str, float] = {}
        for prompt in sorted(self.prompt_scores, key=len, reverse=True):
            if text.startswith(prompt):
                table = self.prompt_scores[prompt]
                break
        value, start = None, words[-1][1]
        for key in sorted({*table, *self.scores}, key=len, reverse=True):
            begin = len(text.rstrip()) - len(key)
            if key and text.rstrip().endswith(key) and (begin == 0 or text[begin - 1].isspace()):
                value, start = self._lookup(table, key), begin
                break
        tail = [i for i, (word, offset) in enumerate(words) if offset + len(word) > start]
        per_token = dict(zip(tail, self._spread(value, len(tail)), strict=True))
        return [
            TokenLogprob(word, offset, None if i == 0 else per_token.get(i, 0.0))
            for i, (word, offset) in enumerate(words)
        ]
