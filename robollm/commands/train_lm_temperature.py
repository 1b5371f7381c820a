"""`robollm train lm-temperature`: calibrate the planner language model's usefulness.

    robollm train lm-temperature                      # the launch file's adapter
    robollm train lm-temperature --limit 200 --force  # fewer steps, replace a fitted one

Scores the held-out steps of the synthetic plan generator (the validation tasks of the
split the adapter was tuned on, never an evaluation suite) exactly as the planner
scores a step, fits one temperature for held-out log-likelihood of the expert's step,
and writes `robollm-temperature.json` beside the adapter (or into --out): the
temperature, NLL and calibration of the chosen call before and after, data sizes, time,
machine and the command. The planner divides the model's scores by it before the
softmax (`robollm.llm.temperature`).
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import time
from pathlib import Path

from robollm.commands.parser import Parser
from robollm.errors import UserError


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="robollm train lm-temperature",
               description="Fit the temperature of the planner language model's usefulness on held-out "
                           "planning steps.")
    p.add_argument("--config", help="launch file whose language model, adapter and prompt are calibrated")
    p.add_argument("--out", help="folder for robollm-temperature.json (default: the adapter's folder)")
    p.add_argument("--limit", type=int, help="score at most this many held-out steps (default: all)")
    p.add_argument("--force", action="store_true", help="replace an existing robollm-temperature.json")
    return p


def train_lm_temperature(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    from robollm.config import load_config
    from robollm.llm.adapters import read_meta, resolve_adapter
    from robollm.llm.options import HFOptions
    from robollm.llm.temperature import TEMPERATURE_FILE, chosen_ece, fit_temperature, nll

    config = load_config(args.config)
    pc = config.planner
    adapter = pc.llm.options.adapter if isinstance(pc.llm.options, HFOptions) else None
    if adapter is None and args.out is None:
        raise UserError("the launch file's language model has no adapter; pass --out for the fitted temperature")
    folder = Path(args.out) if args.out else resolve_adapter(adapter)
    target = folder / TEMPERATURE_FILE
    if target.exists() and not args.force:
        raise UserError(f"{target} already exists; pass --force to replace it (nothing was written)")
    meta = read_meta(resolve_adapter(adapter)) if adapter else {}
    if pc.scoring.calibration:
        raise UserError("planner.scoring.calibration is on; the temperature is fitted for scores without it")

    import torch

    from robollm.planner.prompt import load_prompt
    from robollm.training.lm_temperature import heldout_steps, planner_scorer, score_steps
    from robollm.training.sensing_tasks import BANK_COPY
    from robollm.training.task_split import recorded_settings, split_tasks

    started = time.time()
    template = load_prompt(pc.prompt)
    library = config.skills.library
    # the split the adapter was tuned on, its own evidence lines included
    settings = recorded_settings(meta, resolve_adapter(adapter) if adapter else None)
    _, valid = split_tasks(**settings, language=template.uses_scene, library=library)
    steps, skipped = heldout_steps(valid, template, args.limit, library)
    print(f"{len(steps)} held-out planning steps from {len(valid)} validation tasks "
          f"({skipped} left out: an expert step outside the candidates)", flush=True)
    llm, options = planner_scorer(pc)

    def progress(i: int) -> None:
        if (i + 1) % 50 == 0:
            print(f"  scored {i + 1}/{len(steps)} steps ({time.time() - started:.0f} s)", flush=True)

    scored = score_steps(llm, steps, options, progress)
    t = fit_temperature(scored)
    record = {
        "temperature": round(t, 4),
        "adapter": str(adapter) if adapter else None, "prompt": str(pc.prompt), "scoring": options.length,
        "data": {"generator": "robollm.training.synthetic (validation split of robollm train planner-lm)",
                 "tasks": settings["count"], "seed": settings["seed"], "sensing_tasks": settings["sensing"],
                 "evidence_style": settings["evidence_style"], "sense_past": settings["sense_past"],
                 "evidence_bank": settings["evidence_bank"] and BANK_COPY, "validation_tasks": len(valid),
                 "steps": len(steps), "tasks_left_out": skipped,
                 "mean_candidates": round(sum(len(s.candidates) for s in steps) / max(1, len(steps)), 1)},
        "before": {"temperature": 1.0, "nll": round(nll(scored, 1.0), 4), **chosen_ece(scored, 1.0)},
        "after": {"temperature": round(t, 4), "nll": round(nll(scored, t), 4), **chosen_ece(scored, t)},
        "seconds": round(time.time() - started, 1), "torch": torch.__version__,
        "machine": f"{platform.node()} {platform.machine()}, {torch.get_num_threads()} threads",
        "command": shlex.join(["robollm", "train", "lm-temperature", *argv]),
    }
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record, indent=1) + "\n")
    b, a = record["before"], record["after"]
    print(f"temperature {t:.3f}: NLL of the expert step {b['nll']:.4f} -> {a['nll']:.4f}; chosen call "
          f"accuracy {a['accuracy']:.3f}, confidence {b['confidence']:.3f} -> {a['confidence']:.3f}, "
          f"ECE {b['ece']:.4f} -> {a['ece']:.4f}")
    print(f"written {target} ({record['seconds']:.0f} s)")
    return 0
