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
def tokenise(tokenizer: Any, samples: Sequence[tuple[str, str]]) -> list[tuple[list[int], int]]:
    """(ids, number of prompt ids) per sample: the prompt with special tokens, then the
    continuation without, as :class:`robollm.llm.hf.HFCausalLM` scores them."""
    out = []
    for prompt, continuation in samples:
        p = list(tokenizer(prompt, add_special_tokens=True)["input_ids"])
        c = list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
        out.append((p + c, len(p)))
    return out


def _batch(rows: list[tuple[list[int], int]], pad: int, device: str) -> dict[str, torch.Tensor]:
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (seq, n_prompt) in enumerate(rows):
        ids[i, : len(seq)] = torch.tensor(seq)
        labels[i, n_prompt: len(seq)] = torch.tensor(seq[n_prompt:])
        mask[i, : len(seq)] = 1
    return {"input_ids": ids.to(device), "labels": labels.to(device), "attention_mask": mask.to(device)}


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
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[Any, dict[str, float]]:
    """Fine-tune LoRA adapters on (prompt, continuation) pairs; return the peft model and
    the validation loss per continuation token before and after."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    rng = random.Random(seed)
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(TARGETS),
                        bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model.float(), config).to(device)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rows, vrows = tokenise(tokenizer, train), tokenise(tokenizer, valid)

    def valid_loss() -> float:
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for i in range(0, len(vrows), batch_size):
                loss, n = _mean_loss(model, _batch(vrows[i: i + batch_size], pad, device))
                total, count = total + float(loss), count + n
        model.train()
        return total / max(1, count)

    before = valid_loss()
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    per_epoch = math.ceil(len(rows) / batch_size)
    total_steps, step = per_epoch * epochs, 0
    model.train()
    for _ in range(epochs):
        order = list(range(len(rows)))
        rng.shuffle(order)
        for i in range(0, len(order), batch_size):
            batch = _batch([rows[j] for j in order[i: i + batch_size]], pad, device)
            loss, n = _mean_loss(model, batch)
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


