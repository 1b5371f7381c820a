"""`robollm bench planner-lm`: the planner model's training step, one row per step text
against one row per plan (the steps of a plan packed into one sequence), and one row per
plan with the prompt's opening run once a batch (how `robollm train planner-lm` trains).

Both ways train on the same step texts of the same synthetic plans with LoRA adapters
on the embedded model; the benchmark checks that they give the same loss, times
forward and backward passes over the same batches, and projects the shipped training
run (`robollm train planner-lm` with its defaults) from the packed figure. Beside them, the
cheaper settings of `robollm train planner-lm`, on the same batches: `--bf16` (bfloat16
autocast) on every layer, and `--bf16 --layers N` (adapters on the top N layers only).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from robollm.errors import UserError

DEFAULT_TASKS, DEFAULT_SENSING, DEFAULT_EPOCHS = 3500, 1200, 1  # robollm train planner-lm's defaults


CHUNK_ROWS = 8  # rows of one step text each per backward pass: 32 of the scene prompt's need over 24 GB


def _time(model: Any, groups: list[list], pad: int, share: bool = False,
          bf16: bool = False, chunk: int | None = None) -> tuple[float, int, float]:
    """Seconds, step texts and summed loss of forward and backward over `groups`; with
    `chunk`, each group's gradients accumulate over passes of at most that many rows."""
    import torch

    from robollm.training.planner_lm import _batch, _mean_loss

    started, steps, total = time.perf_counter(), 0, 0.0
    for group in groups:
        for part in [group[i:i + chunk] for i in range(0, len(group), chunk)] if chunk else [group]:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss, tokens = _mean_loss(model, _batch(part, pad, "cpu", share=share))
            (loss / max(1, tokens)).backward()  # the gradients are dropped: only the time counts
            total += float(loss.detach())
        model.zero_grad(set_to_none=True)
        steps += sum(len(spans) for _, spans in group)
    return time.perf_counter() - started, steps, total


def bench_planner_lm(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="robollm bench planner-lm", description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=24, help="synthetic plans to time (default: 24)")
    parser.add_argument("--batch-size", type=int, default=32, help="step texts per batch (default: 32)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    parser.add_argument("--layers", type=int, default=10,
                        help="top layers adapted in the cheapest setting timed (default: 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    for name in ("tasks", "batch_size", "threads", "layers"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    from robollm.util.compat import ensure_torchvision

    ensure_torchvision()  # before peft imports transformers (robollm/util/compat.py)
    import torch
    from peft import LoraConfig, get_peft_model

    from robollm.commands.train import DEFAULT_PROMPT, adapted_layers, make_samples
    from robollm.llm.adapters import TARGETS
    from robollm.llm.hf_loading import load_pretrained
    from robollm.llm.model_files import ensure_converted, resolve_model
    from robollm.planner.prompt import load_prompt
    from robollm.training.planner_lm import batches, pack, unpack

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    template = load_prompt(DEFAULT_PROMPT)
    source = ensure_converted(resolve_model(None))
    top_chosen = adapted_layers(source, args.layers)  # a count the model cannot give fails before any work
    train, _ = make_samples(template, args.tasks, args.seed, args.tasks * DEFAULT_SENSING // DEFAULT_TASKS)

    def tuned(chosen: list[int] | None) -> Any:
        model, tokenizer = load_pretrained(source, torch.float32)
        config = LoraConfig(r=8, lora_alpha=16.0, lora_dropout=0.0, target_modules=list(TARGETS),
                            layers_to_transform=chosen, bias="none", task_type="CAUSAL_LM")
        model = get_peft_model(model, config)
        model.train()
        return model, tokenizer

    model, tokenizer = tuned(None)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    packed = pack(tokenizer, train)
    single = unpack(packed)
    _time(model, batches(packed, range(min(2, len(packed))), args.batch_size), pad)  # warm-up
    groups = batches(packed, range(len(packed)), args.batch_size)
    shared_s, steps, shared_loss = _time(model, groups, pad, share=True)
    packed_s, _, packed_loss = _time(model, groups, pad)
    single_s, single_steps, single_loss = _time(model, batches(single, range(len(single)), args.batch_size), pad,
                                                chunk=CHUNK_ROWS)
    bf16_s, _, bf16_loss = _time(model, groups, pad, share=True, bf16=True)
    top, _ = tuned(top_chosen)
    _time(top, batches(packed, range(min(2, len(packed))), args.batch_size), pad, bf16=True)  # warm-up
    top_s, _, top_loss = _time(top, groups, pad, share=True, bf16=True)
    per_task = steps / max(1, len(packed))
    projected = (DEFAULT_TASKS + DEFAULT_SENSING) * 0.97 * per_task * DEFAULT_EPOCHS * shared_s / steps
    result = {
        "tasks": len(packed), "step_texts": steps,
        "tokens_per_step_row": sum(len(s) for s, _ in single), "tokens_packed": sum(len(s) for s, _ in packed),
        "per_step_row_s_per_step": single_s / single_steps, "packed_s_per_step": packed_s / steps,
        "packed_shared_s_per_step": shared_s / steps,
        "speedup_packed": single_s / packed_s, "speedup": single_s / shared_s,
        "same_loss": all(abs(v - single_loss) <= 1e-3 * max(1.0, abs(single_loss)) for v in (packed_loss, shared_loss)),
        "bf16_s_per_step": bf16_s / steps, "speedup_bf16": shared_s / bf16_s,
        "layers": args.layers, "top_layers_bf16_s_per_step": top_s / steps, "speedup_top_layers_bf16": shared_s / top_s,
        "bf16_loss_change": max(abs(bf16_loss - shared_loss), abs(top_loss - shared_loss)) / max(1e-9, abs(shared_loss)),
        "threads": torch.get_num_threads(),
        "projected_default_training_h": projected / 3600,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['tasks']} plans, {steps} step texts, {result['threads']} torch thread(s)")
        print(f"  one row per step text : {result['per_step_row_s_per_step']:.3f} s per step text "
              f"({result['tokens_per_step_row']} tokens)")
        print(f"  one row per plan      : {result['packed_s_per_step']:.3f} s per step text "
              f"({result['tokens_packed']} tokens), {result['speedup_packed']:.2f}x")
        print(f"  ... and the prompt's opening once a batch: {result['packed_shared_s_per_step']:.3f} s per step text, "
              f"{result['speedup']:.2f}x")
        print(f"  same loss all three ways: {'yes' if result['same_loss'] else 'NO'}")
        print(f"  --bf16, all layers    : {result['bf16_s_per_step']:.3f} s per step text, "
              f"{result['speedup_bf16']:.2f}x the float32 row above")
        print(f"  --bf16 --layers {args.layers:<6}: {result['top_layers_bf16_s_per_step']:.3f} s per step text, "
              f"{result['speedup_top_layers_bf16']:.2f}x (bfloat16 moves the loss by "
              f"{100 * result['bf16_loss_change']:.2f}% at most)")
        print(f"  the default training run ({DEFAULT_TASKS} + {DEFAULT_SENSING} tasks, {DEFAULT_EPOCHS} epoch) at this speed: "
              f"{result['projected_default_training_h']:.1f} h")
    return 0 if result["same_loss"] else 1
