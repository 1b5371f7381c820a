"""Tune a causal LM for SayCan scoring with a LoRA adapter, .

SayCan asks the model for log p(step text | prompt). A 135M-parameter model read cold
often prefers the wrong step (it stops after the first of several objects, it avoids
repeating a colour), so ``robollm train planner-lm`` fine-tunes low-rank adapters on
synthetic expert plans (:mod:`robollm.training.synthetic`): for every step of every plan,
the loss is the negative log-likelihood of the expert's step text after exactly the
prompt the planner renders at that step, tokenised exactly as the scorer tokenises it
(prompt with special tokens, then the candidate without).

An adapter is a folder with ``adapter_config.json`` and ``adapter_model.safetensors``
in peft's layout, plus ``robollm-adapter.json`` recording the base model and prompt it was
trained with. Loading and merging live in :mod:`robollm.llm.adapters`.
"""


from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from robollm.llm.adapters import META, TARGETS

# -- training ---------------------------------------------------------------------------
Row = tuple[list[int], list[tuple[int, int]]]  # token ids, and the [start, end) spans scored


def tokenise(tokenizer: Any, samples: Sequence[tuple[str, str]]) -> list[tuple[list[int], int]]:
    """(ids, number of prompt ids) per sample: the prompt with special tokens, then the
    continuation without, as :class:`robollm.llm.hf.HFCausalLM` scores them."""
    out = []
    for prompt, continuation in samples:
        p = list(tokenizer(prompt, add_special_tokens=True)["input_ids"])
        c = list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
        out.append((p + c, len(p)))
    return out


def pack(tokenizer: Any, samples: Sequence[tuple[str, str]]) -> list[Row]:
    """One row per chain of samples that extend each other: the steps of one plan.

    The prompt of step i+1 is the prompt of step i, then step i's text, then the next
    line's number, so one causal pass over the last step's prompt and text gives every
    step's log-likelihood: a plan of k steps costs one sequence instead of k, each of
    them nearly as long. A sample joins the row before it only where the ids agree
    exactly (the earlier prompt's ids and its continuation's ids are the start of the
    later prompt's ids), so the loss is the one that scoring each step alone gives.
    """
    rows: list[Row] = []
    last_text = ""
    for (ids, n_prompt), (prompt, continuation) in zip(tokenise(tokenizer, samples), samples, strict=True):
        if rows and last_text and prompt.startswith(last_text):
            prev_ids, spans = rows[-1]
            if ids[: len(prev_ids)] == prev_ids and n_prompt >= len(prev_ids):
                rows[-1] = (ids, [*spans, (n_prompt, len(ids))])
                last_text = prompt + continuation
                continue
        rows.append((ids, [(n_prompt, len(ids))]))
        last_text = prompt + continuation
    return rows


def unpack(rows: Sequence[Row]) -> list[Row]:
    """One row per step text again: each step's prompt and text alone."""
    return [(seq[:end], [(start, end)]) for seq, spans in rows for start, end in spans]


Branch = tuple[int, list[int]]  # a position in a row's ids, and the ids the candidates allow there


def branch_points(tokenizer: Any, rows: Sequence[Row], samples: Sequence[tuple[str, str]],
                  alternatives: Sequence[Sequence[str] | None]) -> list[list[Branch]]:
    """Per row, where the candidate texts part ways along the expert's step.

    The planner picks the candidate with the highest log-likelihood, so what matters is
    how the expert's step compares with the other candidates. Laid out as a tree of
    tokens, the candidates share a start ("pick up the") and part at a token ("red" /
    "pink"); at every such position the expert's token is set against the tokens the
    other candidates that agree so far would put there. `rows` are `pack`'s (or
    `unpack`'s) rows of `samples`, in order; `alternatives[i]` are sample i's candidate
    texts (None: no ranking for that sample).
    """
    cache: dict[str, list[int]] = {}

    def ids(text: str) -> list[int]:
        if text not in cache:
            cache[text] = list(tokenizer(text, add_special_tokens=False)["input_ids"])
        return cache[text]

    out: list[list[Branch]] = []
    i = 0
    for seq, spans in rows:
        here: list[Branch] = []
        for start, end in spans:
            options = alternatives[i]
            if options:
                mine = seq[start:end]
                assert mine == ids(samples[i][1]), "rows and samples are out of step"
                others = [ids(o) for o in options]
                for j, token in enumerate(mine):
                    allowed = {o[j] for o in others if len(o) > j and o[:j] == mine[:j]} | {token}
                    if len(allowed) > 1:
                        here.append((start + j, sorted(allowed)))
            i += 1
        out.append(here)
    if i != len(samples):
        raise ValueError(f"{len(samples)} samples but the rows hold {i}")
    return out


def _steps(row: Row) -> int:
    return len(row[1])


MIN_SHARED = 16  # a shared start shorter than this is not worth a separate pass


def shared_start(rows: Sequence[Row | tuple[list[int], int]]) -> int:
    """How many leading ids every row has in common, stopping before the first scored
    position (the prompt's fixed opening: its instructions and worked examples)."""
    first = rows[0][0]
    n = min(len(ids) for ids, _ in rows)
    for ids, spans in rows:
        start = spans if isinstance(spans, int) else min(a for a, _ in spans)
        n = min(n, start - 1)
        while n > 0 and ids[:n] != first[:n]:
            n = next((i for i in range(n) if ids[i] != first[i]), n)
    return max(0, n)


def _batch(rows: Sequence[Row | tuple[list[int], int]], pad: int, device: str,
           share: bool = False, branches: Sequence[list[Branch]] | None = None) -> dict[str, torch.Tensor]:
    """Padded ids, labels (-100 where not scored) and mask. With `share`, the ids every
    row starts with go in `prefix` (one row) and the rows hold only what follows. With
    `branches` (`branch_points` of these rows), where the candidates part: `branch_at`
    indexes the scored positions in the order the loss takes them, `branch_ids` holds the
    allowed ids (-1 pads) and `branch_target` the expert's."""
    cut = shared_start(rows) if share else 0
    cut = cut if cut >= MIN_SHARED else 0
    width = max(len(ids) for ids, _ in rows) - cut
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (seq, spans) in enumerate(rows):
        ids[i, : len(seq) - cut] = torch.tensor(seq[cut:])
        for start, end in ([(spans, len(seq))] if isinstance(spans, int) else spans):
            labels[i, start - cut:end - cut] = torch.tensor(seq[start:end])
        mask[i, : len(seq) - cut] = 1
    out = {"input_ids": ids.to(device), "labels": labels.to(device), "attention_mask": mask.to(device)}
    if cut:
        out["prefix"] = torch.tensor([rows[0][0][:cut]], dtype=torch.long, device=device)
    points = [(i, pos, allowed) for i, here in enumerate(branches or ()) for pos, allowed in here]
    if points:
        # The logits at shifted position p predict id p + 1; the loss keeps the scored ones in order.
        order = torch.cumsum((labels[:, 1:] != -100).flatten(), 0) - 1
        wide = max(len(a) for _, _, a in points)
        allowed = torch.full((len(points), wide), -1, dtype=torch.long)
        for k, (_, _, a) in enumerate(points):
            allowed[k, : len(a)] = torch.tensor(a)
        out["branch_at"] = torch.tensor([int(order[i * (width - 1) + pos - cut - 1]) for i, pos, _ in points],
                                        device=device)
        out["branch_ids"] = allowed.to(device)
        out["branch_target"] = torch.tensor([rows[i][0][pos] for i, pos, _ in points], device=device)
    return out


def batches(rows: Sequence[Row], order: Sequence[int], steps: int) -> list[list[Row]]:
    """Rows in `order`, grouped so that each batch holds about `steps` step texts."""
    return [[rows[j] for j in group] for group in index_batches(rows, order, steps)]


def index_batches(rows: Sequence[Row], order: Sequence[int], steps: int) -> list[list[int]]:
    """`batches`, as the rows' indices."""
    out: list[list[int]] = []
    current: list[int] = []
    count = 0
    for j in order:
        current.append(j)
        count += _steps(rows[j])
        if count >= steps:
            out.append(current)
            current, count = [], 0
    if current:
        out.append(current)
    return out


def _cache_keyword(body: torch.nn.Module) -> str:
    """`cache` from transformers 5 on, `past_key_values` before."""
    import inspect

    return "cache" if "cache" in inspect.signature(body.forward).parameters else "past_key_values"


def _mean_loss(model: Any, batch: dict[str, torch.Tensor], rank_weight: float = 0.0) -> tuple[torch.Tensor, int]:
    """Summed token NLL of the continuations and their token count; with `rank_weight`
    and a batch with branches, plus that weight times the ranking loss: at each position
    where the candidates part, -log of the expert's token's probability over the allowed
    tokens' (a softmax over the candidates' next tokens, not the whole vocabulary).

    Only the continuation positions go through the vocabulary projection and softmax (a
    tenth of a batch's tokens): for the usual body + `lm_head` layout the hidden states
    are taken from the body and projected where needed, otherwise from the full logits.
    A batch with a `prefix` (the start every row shares) runs it once, and the rows
    attend to its keys and values, repeated per row: the same loss, with the prompt's
    fixed opening computed once a batch rather than once a row (gradients flow through it).
    """
    labels = batch["labels"][:, 1:]
    keep = labels != -100
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    body, head = getattr(inner, "model", None), getattr(inner, "lm_head", None)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    if "prefix" in batch:
        if not (isinstance(body, torch.nn.Module) and isinstance(head, torch.nn.Module)):
            raise ValueError("a shared prefix needs the body + lm_head layout")
        prefix = batch["prefix"]
        out = body(input_ids=prefix, use_cache=True)
        cache = out.get("cache") or out.get("past_key_values")  # the name changed in transformers 5
        cache.batch_repeat_interleave(batch["input_ids"].shape[0])
        ones = torch.ones((batch["input_ids"].shape[0], prefix.shape[1]), dtype=batch["attention_mask"].dtype,
                          device=prefix.device)
        hidden = body(input_ids=batch["input_ids"], attention_mask=torch.cat([ones, batch["attention_mask"]], 1),
                      **{_cache_keyword(body): cache}, use_cache=True).last_hidden_state
        logits = head(hidden[:, :-1][keep])
    elif isinstance(body, torch.nn.Module) and isinstance(head, torch.nn.Module):
        logits = head(body(**inputs).last_hidden_state[:, :-1][keep])
    else:
        logits = model(**inputs).logits[:, :-1][keep]
    logp = torch.log_softmax(logits.float(), dim=-1)
    loss = -logp.gather(-1, labels[keep].unsqueeze(-1)).sum()
    if rank_weight and "branch_at" in batch:
        loss = loss + rank_weight * ranking_loss(logp[batch["branch_at"]], batch["branch_ids"],
                                                 batch["branch_target"]).sum()
    return loss, int(keep.sum())


def ranking_loss(logp: torch.Tensor, allowed: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per branch point: -log p(expert's id) / sum of p(allowed ids); `allowed` pads with -1."""
    options = logp.gather(-1, allowed.clamp(min=0)).masked_fill(allowed < 0, float("-inf"))
    return torch.logsumexp(options, dim=-1) - logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)


def train_lora(
    model: Any,
    tokenizer: Any,
    train: Sequence[tuple[str, str]],
    valid: Sequence[tuple[str, str]],
    *,
    rank: int = 8,
    alpha: float = 16.0,
    dropout: float = 0.05,
    lr: float = 1e-3,
    epochs: int = 2,
    batch_size: int = 32,
    seed: int = 0,
    device: str = "cpu",
    packed: bool = True,
    alternatives: Sequence[Sequence[str] | None] | None = None,
    rank_weight: float = 0.0,
    init: str | Path | None = None,
    layers: int | None = None,
    bf16: bool = False,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[Any, dict[str, float]]:
    """Fine-tune LoRA adapters on (prompt, continuation) pairs; return the peft model and
    the validation loss per continuation token before and after. A batch holds about
    `batch_size` step texts; with `packed` the steps of one plan share one row (see
    :func:`pack`) and the prompt's opening, common to every row, runs once a batch.
    With `rank_weight` > 0 and `alternatives` (each training pair's candidate texts),
    the loss adds that weight times the ranking loss (:func:`branch_points`). `init`: an
    adapter folder to go on training (its rank and alpha hold) instead of new adapters.
    `layers`: adapt only the top that many transformer layers (default: all); the layers
    below then need no gradients, so a step costs less (see :func:`top_layers`). `bf16`:
    the training passes under bfloat16 autocast (the weights, optimiser and losses stay
    float32; validation runs in float32)."""
    from peft import LoraConfig, PeftModel, get_peft_model

    torch.manual_seed(seed)
    rng = random.Random(seed)
    if init is not None:
        model = PeftModel.from_pretrained(model.float(), str(init), is_trainable=True).to(device)
    else:
        config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(TARGETS),
                            layers_to_transform=top_layers(model.config, layers), bias="none", task_type="CAUSAL_LM")
        model = get_peft_model(model.float(), config).to(device)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rows, vrows = pack(tokenizer, train), pack(tokenizer, valid)
    if not packed:  # each step its own row: the slower way, kept to measure the difference
        rows = unpack(rows)
    ranked = rank_weight > 0 and alternatives is not None
    if ranked and len(alternatives) != len(train):  # type: ignore[arg-type]
        raise ValueError(f"{len(train)} training pairs but {len(alternatives)} candidate lists")  # type: ignore[arg-type]
    points = branch_points(tokenizer, rows, train, alternatives) if ranked else None  # type: ignore[arg-type]

    def valid_loss() -> float:
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for group in batches(vrows, range(len(vrows)), batch_size):
                loss, n = _mean_loss(model, _batch(group, pad, device, share=packed))
                total, count = total + float(loss), count + n
        model.train()
        return total / max(1, count)

    before = valid_loss()
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    orders = []
    for _ in range(epochs):
        order = list(range(len(rows)))
        rng.shuffle(order)
        orders.append(index_batches(rows, order, batch_size))
    total_steps, step = sum(len(o) for o in orders), 0
    model.train()
    for epoch in orders:
        for indices in epoch:
            group = [rows[j] for j in indices]
            batch = _batch(group, pad, device, share=packed, branches=[points[j] for j in indices] if points else None)
            with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
                loss, n = _mean_loss(model, batch, rank_weight)
            (loss / max(1, n)).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            warm = min(1.0, (step + 1) / max(1, total_steps // 20))
            for group in optimiser.param_groups:  # linear warm-up, then cosine decay
                group["lr"] = lr * warm * 0.5 * (1 + math.cos(math.pi * step / total_steps))
            optimiser.step()
            optimiser.zero_grad(set_to_none=True)
            step += 1
            if progress:
                progress(step, total_steps, loss.item() / max(1, n))
    return model, {"valid_nll_before": before, "valid_nll_after": valid_loss()}


def top_layers(config: Any, layers: int | None) -> list[int] | None:
    """The indices of the top `layers` transformer layers of a model with this config
    (None: all of them)."""
    if layers is None:
        return None
    total = int(config.num_hidden_layers)
    if not 1 <= layers <= total:
        raise ValueError(f"the model has {total} layers; cannot adapt the top {layers}")
    return list(range(total - layers, total))


def save_adapter(peft_model: Any, out: Path, meta: dict[str, Any]) -> None:
    """peft's adapter layout (config and weights, the weights as float16), plus robollm's
    metadata."""
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    peft_model.peft_config["default"].save_pretrained(str(out))
    weights = {k: v.detach().to(torch.float16).cpu().contiguous()
               for k, v in get_peft_model_state_dict(peft_model).items()}
    save_file(weights, str(out / "adapter_model.safetensors"))
    (out / META).write_text(json.dumps(meta, indent=2) + "\n")


