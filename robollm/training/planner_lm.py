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


def _steps(row: Row) -> int:
    return len(row[1])


def _batch(rows: Sequence[Row | tuple[list[int], int]], pad: int, device: str) -> dict[str, torch.Tensor]:
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (seq, spans) in enumerate(rows):
        ids[i, : len(seq)] = torch.tensor(seq)
        for start, end in ([(spans, len(seq))] if isinstance(spans, int) else spans):
            labels[i, start:end] = torch.tensor(seq[start:end])
        mask[i, : len(seq)] = 1
    return {"input_ids": ids.to(device), "labels": labels.to(device), "attention_mask": mask.to(device)}


def batches(rows: Sequence[Row], order: Sequence[int], steps: int) -> list[list[Row]]:
    """Rows in `order`, grouped so that each batch holds about `steps` step texts."""
    out: list[list[Row]] = []
    current: list[Row] = []
    count = 0
    for j in order:
        current.append(rows[j])
        count += _steps(rows[j])
        if count >= steps:
            out.append(current)
            current, count = [], 0
    if current:
        out.append(current)
    return out


def _mean_loss(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Summed token NLL of the continuations and their token count.

    Only the continuation positions go through the vocabulary projection and softmax (a
    tenth of a batch's tokens): for the usual body + `lm_head` layout the hidden states
    are taken from the body and projected where needed, otherwise from the full logits.
    """
    labels = batch["labels"][:, 1:]
    keep = labels != -100
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    body, head = getattr(inner, "model", None), getattr(inner, "lm_head", None)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    if isinstance(body, torch.nn.Module) and isinstance(head, torch.nn.Module):
        logits = head(body(**inputs).last_hidden_state[:, :-1][keep])
    else:
        logits = model(**inputs).logits[:, :-1][keep]
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -logp.gather(-1, labels[keep].unsqueeze(-1)).sum(), int(keep.sum())


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
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[Any, dict[str, float]]:
    """Fine-tune LoRA adapters on (prompt, continuation) pairs; return the peft model and
    the validation loss per continuation token before and after. A batch holds about
    `batch_size` step texts; with `packed` the steps of one plan share one row (see
    :func:`pack`)."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    rng = random.Random(seed)
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(TARGETS),
                        bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model.float(), config).to(device)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rows, vrows = pack(tokenizer, train), pack(tokenizer, valid)
    if not packed:  # each step its own row: the slower way, kept to measure the difference
        rows = [(seq[: end], [(start, end)]) for seq, spans in rows for start, end in spans]

    def valid_loss() -> float:
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for group in batches(vrows, range(len(vrows)), batch_size):
                loss, n = _mean_loss(model, _batch(group, pad, device))
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
        orders.append(batches(rows, order, batch_size))
    total_steps, step = sum(len(o) for o in orders), 0
    model.train()
    for epoch in orders:
        for group in epoch:
            loss, n = _mean_loss(model, _batch(group, pad, device))
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


