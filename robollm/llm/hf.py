"""Score candidates with a local transformers causal LM, sharing the prompt's computation.

A SayCan step scores dozens of candidates after the same ~250-token prompt. Running the
prompt once and reusing its key/value cache for all candidates does the expensive part once
instead of once per candidate (see ``robollm bench scoring``).

Candidates are packed into a prefix tree (:mod:`robollm.llm.token_tree`), so their shared
words are computed once too. Prompt and candidate are tokenised separately and their ids
concatenated, in both the batched and the naive path, so both score exactly the same token
sequences.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from robollm.errors import UserError
from robollm.llm.base import CandidateScore, LanguageModel, TokenLogprob
from robollm.llm.hf_loading import load_pretrained, parse_dtype
from robollm.llm.model_files import ensure_converted, resolve_model
from robollm.llm.token_tree import build_tree, tree_mask


def _cache_tensors(cache: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per-layer (key, value) tensors of a transformers cache, across cache API versions."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    if hasattr(cache, "to_legacy_cache"):
        return [tuple(kv) for kv in cache.to_legacy_cache()]
    return [tuple(kv) for kv in cache]


def _fresh_cache(tensors: list[tuple[torch.Tensor, torch.Tensor]], config: Any) -> Any:
    """A new cache holding the prompt, so each chunk of candidates starts from it unchanged.

    With ``config=None`` every layer keeps all its keys, also a sliding-window layer's:
    the masks then limit what such a layer sees (see :func:`sliding_window`)."""
    from transformers import DynamicCache

    try:
        return DynamicCache(tensors, config=config)
    except TypeError:  # transformers < 4.56
        return DynamicCache.from_legacy_cache(tuple(tensors))


def sliding_window(config: Any) -> int | None:
    """The window of a model whose layers include sliding-window attention (Gemma 3), else None.

    Such a model's own cache keeps only a window of keys in those layers, which breaks
    reusing a prompt's prefix and the candidates' tree mask over the whole prompt. So for
    these models the caches keep every key and each layer type gets its own mask."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    if "sliding_attention" in (getattr(text, "layer_types", None) or ()):
        return getattr(text, "sliding_window", None)
    return None


ANSWER_CACHE = 32  # steps whose whole answers are kept (none when prompt_cache is 0)


class HFCausalLM(LanguageModel):
    """A transformers causal LM on CPU (or any device the model is on), in eval mode."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str = "hf",
        chunk_tokens: int = 2048,
        prompt_cache: int = 4,
    ) -> None:
        if chunk_tokens < 1:
            raise UserError(f"chunk_tokens must be at least 1, got {chunk_tokens}")
        if prompt_cache < 0:
            raise UserError(f"prompt_cache must be >= 0, got {prompt_cache}")
        # Recent prompts' token ids and key/value tensors, newest last. A planner's prompts
        # grow by one step at a time and share their examples, so a new prompt usually
        # starts with most of an old one and only its new tail needs computing.
        self.prompt_cache = prompt_cache
        self._prompts: list[tuple[list[int], list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]] = []
        # Whole answers for the same number of recent steps. An evaluation runs each episode
        # once symbolically and once in physics; while both follow the same plan, the second
        # asks exactly the same questions, and gets the first answers without any compute.
        self._answers: dict[tuple[str, tuple[str, ...]], list[CandidateScore]] = {}
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.chunk_tokens = chunk_tokens
        fallback = tokenizer.bos_token_id
        self._start_id = fallback if fallback is not None else tokenizer.eos_token_id
        accepted = inspect.signature(model.forward).parameters
        names = [n for n in ("logits_to_keep", "num_logits_to_keep") if n in accepted]
        self._keep_name = names[0] if names else None
        # transformers renamed `past_key_values` to `cache` (argument and output field);
        # the old name still works there but warns on every call.
        self._cache_name = "cache" if "cache" in accepted else "past_key_values"
        self._window = sliding_window(model.config)
        self._cache_config = None if self._window else model.config

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        dtype: str = "float32",
        cache_dir: str | os.PathLike[str] | None = None,
        chunk_tokens: int = 2048,
        seed: int = 0,
        prompt_cache: int = 4,
        adapter: str | os.PathLike[str] | None = None,
    ) -> HFCausalLM:
        """Load a model folder or GGUF file (default: the embedded SmolLM2-135M-Instruct).

        ``threads`` sets torch's (process-wide) intra-op thread count. float32 is the
        default: on the 2-core reference CPU bfloat16 made batched scoring slower, and it
        moved log-probs by ~0.2 nats (batched vs naive), against ~1e-4 in float32.
        """
        torch_dtype = parse_dtype(dtype)
        if threads is not None:
            if threads < 1:
                raise UserError(f"threads must be at least 1, got {threads}")
            torch.set_num_threads(threads)
        torch.manual_seed(seed)
        source = resolve_model(path)
        folder = ensure_converted(source, Path(cache_dir) if cache_dir else None)
        model, tokenizer = load_pretrained(folder, torch_dtype)
        name = Path(source.gguf_file).stem if source.gguf_file else source.folder.name
        if adapter is not None:
            from robollm.llm.adapters import merge_adapter, read_meta, resolve_adapter

            where = resolve_adapter(adapter)
            trained_on = read_meta(where).get("base_model")
            if trained_on and trained_on != Path(source.label).name:
                raise UserError(f"language-model adapter {str(where)!r} was trained on {trained_on}, "
                                f"not on {Path(source.label).name}; use its base model, retrain it on this one, "
                                "or set planner.llm.adapter: null")
            merge_adapter(model, where)
            name += f"+{where.name}"
        return cls(model, tokenizer, name=name, chunk_tokens=chunk_tokens, prompt_cache=prompt_cache)

    def _keep(self, n: int) -> dict[str, int]:
        """Ask for the last ``n`` logits only: the prompt's other positions would cost a
        vocabulary-sized projection each. The argument's name changed in transformers 4.50."""
        if self._keep_name is None:
            return {}
        return {self._keep_name: n}

    def _check_length(self, n: int) -> None:
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit is not None and n > limit:
            raise UserError(
                f"prompt plus candidate is {n} tokens, more than the model's {limit}; "
                "shorten the prompt"
            )

    # -- tokenisation shared by every path -------------------------------------------------

    def encode_prompt(self, prompt: str) -> list[int]:
        ids = list(self.tokenizer(prompt, add_special_tokens=True)["input_ids"])
        if not ids:  # an empty prompt still needs one position to predict the first token
            if self._start_id is None:
                raise UserError("the prompt is empty and the tokenizer has no BOS/EOS token")
            ids = [self._start_id]
        return ids

    def encode_candidate(self, candidate: str) -> list[int]:
        ids = list(self.tokenizer(candidate, add_special_tokens=False)["input_ids"])
        if not ids:
            raise UserError(f"candidate {candidate!r} tokenizes to nothing")
        return ids

    # -- scoring ----------------------------------------------------------------------------

    def _score(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        key = (prompt, tuple(candidates))
        if key in self._answers:
            self._answers[key] = self._answers.pop(key)  # now the newest
            return list(self._answers[key])
        scores = self._compute(prompt, candidates)
        if self.prompt_cache:
            self._answers[key] = scores
            while len(self._answers) > ANSWER_CACHE:
                del self._answers[next(iter(self._answers))]
        return list(scores)

    def _compute(self, prompt: str, candidates: list[str]) -> list[CandidateScore]:
        prompt_ids = self.encode_prompt(prompt)
        encoded = [self.encode_candidate(c) for c in candidates]
        self._check_length(len(prompt_ids) + max(len(ids) for ids in encoded))
        with torch.inference_mode():
            first, prompt_kv = self._run_prompt(prompt_ids)
            token_lps = [[first[ids[0]].item()] for ids in encoded]
            chunk: list[int] = []
            size = 0
            for i in [i for i, ids in enumerate(encoded) if len(ids) > 1]:
                if chunk and size + len(encoded[i]) > self.chunk_tokens:
                    self._extend(token_lps, chunk, encoded, prompt_kv, len(prompt_ids))
                    chunk, size = [], 0
                chunk.append(i)
                size += len(encoded[i])
            if chunk:
                self._extend(token_lps, chunk, encoded, prompt_kv, len(prompt_ids))
        return [
            CandidateScore(c, float(sum(lps)), len(lps), token_logprobs=tuple(lps))
            for c, lps in zip(candidates, token_lps, strict=True)
        ]

    def forget_prompts(self) -> None:
        """Drop the cached prompts and answers, so the next call computes its whole prompt."""
        self._prompts.clear()
        self._answers.clear()

    def _run_prompt(
        self, ids: list[int]
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Log-probs of the token after the prompt, and the prompt's keys and values.

        Only the part after the longest cached prefix is computed; the keys and values of
        the shared prefix are the ones an uncached pass computes. A prompt seen before is
        not recomputed at all, so scoring it again gives identical numbers.
        """
        reuse, past = 0, None
        for cached_ids, kv, first in self._prompts:
            if cached_ids == ids:
                return first, kv
            n, limit = 0, min(len(cached_ids), len(ids) - 1)
            while n < limit and cached_ids[n] == ids[n]:
                n += 1
            if n > reuse:
                reuse, past = n, kv
        extra: dict[str, Any] = {}
        if past is not None:
            trimmed = [(k[:, :, :reuse], v[:, :, :reuse]) for k, v in past]
            extra[self._cache_name] = _fresh_cache(trimmed, self._cache_config)
        elif self._window:
            extra[self._cache_name] = _fresh_cache([], None)
        out = self.model(
            input_ids=torch.tensor([ids[reuse:]], device=self.model.device),
            use_cache=True,
            **extra,
            **self._keep(1),
        )
        kv = _cache_tensors(out[self._cache_name])
        first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
        if self.prompt_cache:
            self._prompts = (self._prompts + [(list(ids), kv, first)])[-self.prompt_cache :]
        return first, kv

    def _extend(
        self,
        token_lps: list[list[float]],
        chunk: list[int],
        encoded: list[list[int]],
        prompt_kv: list[tuple[torch.Tensor, torch.Tensor]],
        prompt_len: int,
    ) -> None:
        """Append log-probs of tokens 2..n of the chunk's candidates, given the cached prompt.

        The candidates' shared prefixes are packed into one prefix-tree row (no padding, no
        per-candidate copy of the prompt's keys and values); the tree mask and explicit
        positions give every token exactly the context and position of the naive pass.
        """
        device = self.model.device
        tree = build_tree([encoded[i] for i in chunk])
        positions = torch.tensor([[prompt_len + d for d in tree.depths]], device=device)
        mask: Any = tree_mask(tree, prompt_len, self.model.dtype).to(device)
        if self._window:
            mask = {"full_attention": mask,
                    "sliding_attention": tree_mask(tree, prompt_len, self.model.dtype, self._window).to(device)}
        logits = self.model(
            input_ids=torch.tensor([tree.tokens], device=device),
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            **{self._cache_name: _fresh_cache(prompt_kv, self._cache_config)},
        ).logits[0]
        logz = torch.logsumexp(logits.float(), dim=-1)
        nodes = torch.tensor([n for path in tree.paths for n in path], device=device)
        targets = torch.tensor([t for i in chunk for t in encoded[i][1:]], device=device)
        picked = logits[nodes, targets].float() - logz[nodes]
        sizes = [len(path) for path in tree.paths]
        for i, values in zip(chunk, picked.split(sizes), strict=True):
            token_lps[i].extend(values.tolist())

    def score_naive(self, prompt: str, candidates: Sequence[str]) -> list[CandidateScore]:
        """One full forward pass per candidate: the reference the batched path must match."""
        prompt_ids = self.encode_prompt(prompt)
        results = []
        for candidate in candidates:
            self._check_length(len(prompt_ids) + len(self.encode_candidate(candidate)))
        with torch.inference_mode():
            for candidate in candidates:
                ids = self.encode_candidate(candidate)
                sequence = torch.tensor([prompt_ids + ids[:-1]], device=self.model.device)
                logits = self.model(input_ids=sequence, **self._keep(len(ids))).logits[0]
                logits = logits[-len(ids) :]
                logp = torch.log_softmax(logits.float(), dim=-1)
                lps = logp[torch.arange(len(ids)), torch.tensor(ids)].tolist()
                results.append(CandidateScore(candidate, float(sum(lps)), len(ids), tuple(lps)))
        return results

    def generate(self, prompt: str, max_tokens: int = 256) -> str:
        ids = self.tokenizer(prompt, add_special_tokens=True, return_tensors="pt")["input_ids"]
        ids = ids.to(self.model.device)
        with torch.no_grad():
            out = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                      max_new_tokens=max_tokens, pad_token_id=self.tokenizer.eos_token_id)
        return self.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=True)["input_ids"])

    def token_logprobs(self, text: str) -> list[TokenLogprob]:
        """Whole-text scoring for the completions server's ``echo`` answers.

        Token texts tile the input (each token spans from the previous token's end to its
        own), so offsets are character offsets into ``text`` like OpenAI's ``text_offset``.
        """
        encoding = self.tokenizer(text, add_special_tokens=True, return_offsets_mapping=True)
        ids = list(encoding["input_ids"])
        if not ids:
            return []
        self._check_length(len(ids))
        lps: list[float] = []
        if len(ids) > 1:  # one token has no context, so nothing to compute
            with torch.inference_mode():
                device = self.model.device
                logits = self.model(input_ids=torch.tensor([ids], device=device)).logits
                logp = torch.log_softmax(logits[0, :-1].float(), dim=-1)
                targets = torch.tensor(ids[1:], dtype=torch.long, device=device)
                lps = logp[torch.arange(len(ids) - 1, device=device), targets].tolist()
        tokens, previous_end = [], 0
        for i, (_, end) in enumerate(encoding["offset_mapping"]):
            end = max(end, previous_end)
            tokens.append(
                TokenLogprob(text[previous_end:end], previous_end, lps[i - 1] if i else None)
            )
            previous_end = end
        return tokens
