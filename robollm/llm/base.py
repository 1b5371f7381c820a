"""The one interface every language-model backend offers, and how its scores become choices.

SayCan needs a single number per candidate skill: how likely the model is to continue the
prompt with that skill's text. Backends only report raw log-likelihoods
(:class:`CandidateScore`); turning them into a ranking (length handling, calibration against
the candidate's prior) is a planning decision, kept in :func:`combine` so that every backend
is ranked the same way.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from robollm.errors import UserError

LengthMode = Literal["sum", "mean"]

# Used when calibration is on and no neutral prompt is given. It mirrors the line that
# introduces a step in the planner's prompt, so the prior p(candidate | neutral prompt)
# measures how "typical" the candidate text is, not how well it fits the instruction.
DEFAULT_NEUTRAL_PROMPT = "Robot: I would"


@dataclass(frozen=True)
class CandidateScore:
    """The log-likelihood of one candidate continuation, in nats.

    ``token_logprobs`` keeps the per-token terms so that scores from different backends (for
    example in-process and over HTTP) can be compared token by token.
    """

    text: str
    logprob: float
    num_tokens: int
    token_logprobs: tuple[float, ...] = ()
    unconditional_logprob: float | None = None


@dataclass(frozen=True)
class TokenLogprob:
    """One token of a scored text: its characters, where they start, and log p(token | before).

    The first token of a text has no context and therefore no log-probability (``None``).
    """

    text: str
    offset: int
    logprob: float | None


@dataclass(frozen=True)
class ScoringOptions:
    """How raw log-likelihoods are turned into one number per candidate.

    ``length``: ``"sum"`` keeps the summed log-prob, which favours short candidates;
    ``"mean"`` divides by ``num_tokens ** length_power`` (1.0 is the per-token mean, values
    between 0 and 1 soften the correction).
    ``calibration``: subtract ``alpha`` times the candidate's log-prob after
    ``neutral_prompt``, which removes the preference for texts that are likely anywhere.
    """

    length: LengthMode = "sum"
    length_power: float = 1.0
    calibration: bool = False
    alpha: float = 1.0
    neutral_prompt: str = DEFAULT_NEUTRAL_PROMPT

    def __post_init__(self) -> None:
        if self.length not in ("sum", "mean"):
            raise UserError(f"scoring length must be 'sum' or 'mean', got {self.length!r}")
        if not (math.isfinite(self.length_power) and self.length_power >= 0):
            raise UserError(f"scoring length_power must be >= 0, got {self.length_power}")
        if not math.isfinite(self.alpha):
            raise UserError(f"scoring alpha must be a finite number, got {self.alpha}")
        if self.calibration and not self.neutral_prompt:
            raise UserError("scoring calibration needs a non-empty neutral_prompt")


def combine(scores: Sequence[CandidateScore], options: ScoringOptions) -> list[float]:
    """Reduce each candidate's raw scores to the single value the planner ranks by.

    Calibration is applied to the summed log-probs first, then the length correction, so a
    calibrated mean is "per-token pointwise mutual information".
    """
    values = []
    for score in scores:
        value = score.logprob
        if options.calibration:
            if score.unconditional_logprob is None:
                raise ValueError(
                    f"calibration is on but {score.text!r} has no unconditional log-prob; "
                    "score it with neutral_prompt=options.neutral_prompt"
                )
            value -= options.alpha * score.unconditional_logprob
        if options.length == "mean":
            value /= max(score.num_tokens, 1) ** options.length_power
        values.append(value)
    return values


def softmax(values: Sequence[float]) -> list[float]:
    """Turn combined scores into a distribution over the candidates of one step."""
    if not values:
        return []
    top = max(values)
    weights = [math.exp(v - top) for v in values]
    total = sum(weights)
    return [w / total for w in weights]


def score_candidates(
    model: LanguageModel, prompt: str, candidates: Sequence[str], options: ScoringOptions
) -> list[float]:
    """Score and combine in one call: what a planner step needs."""
    neutral = options.neutral_prompt if options.calibration else None
    return combine(model.score(prompt, candidates, neutral_prompt=neutral), options)


class LanguageModel(ABC):
    """Scores how likely each candidate text is to follow a prompt.

    Subclasses implement :meth:`_score`; :meth:`score` adds input checks and the optional
    unconditional pass so that calibration works identically for every backend.
    """

    name: str = "language-model"

    def score(
        self, prompt: str, candidates: Sequence[str], *, neutral_prompt: str | None = None
    ) -> list[CandidateScore]:
        """Score all candidates of a step together (backends batch them).

        With ``neutral_prompt``, each score also carries the candidate's log-prob after that
        prompt (``unconditional_logprob``), which :func:`combine` needs for calibration.
        """
        candidates = list(candidates)
        _check_candidates(candidates)
        if not candidates:
            return []
        scores = self._score(prompt, candidates)
        if neutral_prompt is not None:
            priors = self._score(neutral_prompt, candidates)
            scores = [
                replace(s, unconditional_logprob=p.logprob)
                for s, p in zip(scores, priors, strict=True)
            ]
        return scores

    @abstractmethod
    def _score(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        """Score non-empty candidates after ``prompt``; one result per candidate, in order."""

    def token_logprobs(self, text: str) -> list[TokenLogprob]:
        """Score every token of one whole text, as an OpenAI ``echo`` request reports it."""
        raise NotImplementedError(f"{type(self).__name__} cannot score whole texts")

    def generate(self, prompt: str, max_tokens: int = 256) -> str:
        """Greedy continuation of ``prompt`` (skill discovery asks for proposals this way).
        Backends that only score raise NotImplementedError, and callers fall back."""
        raise NotImplementedError(f"{type(self).__name__} cannot generate text")

    def count_tokens(self, text: str) -> int | None:
        """How many tokens :meth:`token_logprobs` would score, without scoring them, so a
        server can refuse an over-long prompt before computing it; ``None`` if unknown."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release resources (connections, threads); scoring after this is undefined."""

    def __enter__(self) -> LanguageModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_candidates(candidates: list[str]) -> None:
    for candidate in candidates:
        if not isinstance(candidate, str):
            raise TypeError(f"candidates must be strings, got {type(candidate).__name__}")
        if not candidate.strip():
            raise UserError("cannot score an empty candidate; every candidate needs some text")


_WORD = re.compile(r"\s*\S+")


def split_words(text: str) -> list[tuple[str, int]]:
    """Whitespace tokenisation with character offsets; leading spaces stay with their word,
    the way candidates start with a space. Used by the fake backend and its tests."""
    return [(m.group(0), m.start()) for m in _WORD.finditer(text)]
