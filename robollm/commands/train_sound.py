"""`robollm train sound`: the knock classifier, from knocks in the simulator.

    robollm train sound --out my-sound            # a few minutes on 2 CPU cores
    robollm train sound --out my-sound --device cuda

It knocks objects of every material and shape with the real skill in PyBullet
(`--real-per-pair` of each), renders `--clips` fast clips from those knocks' impacts
at other sizes and strengths, trains on the fast clips with augmentation and reports
the accuracy on other real knocks (`--valid-per-pair`, another seed). The folder gets
`knock_sound.safetensors` and `knock_sound.json` (how it was made); the default in
robollm/perception/models/ was made by this command with its defaults.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from robollm.errors import UserError

KNOCKS = "robollm.sim.knocks"  # named by entry point: the core never imports the simulator


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robollm train sound",
                                description="Train the knock classifier (sound -> material) on simulated knocks.")
    p.add_argument("--out", required=True, help="folder for the model (must not exist, or be empty)")
    p.add_argument("--real-per-pair", type=int, default=12,
                   help="real knocks per material and shape, the source of impacts (default: 12)")
    p.add_argument("--valid-per-pair", type=int, default=3,
                   help="real knocks per material and shape for validation (default: 3)")
    p.add_argument("--clips", type=int, default=4000, help="fast training clips (default: 4000)")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default: auto)")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--seed", type=int, default=0)
    return p


def _progress(label: str):
    def show(done: int, total: int) -> None:
        if done == total or done % 24 == 0:
            print(f"  {label}: {done}/{total}", file=sys.stderr, flush=True)
    return show


def train_sound(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    for name in ("real_per_pair", "valid_per_pair", "clips", "epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not args.lr > 0:
        raise UserError(f"--lr must be positive, got {args.lr}")
    from robollm.commands.training_options import check_out, pick_device

    device = pick_device(args.device)
    out = Path(args.out)
    check_out(out)

    import numpy as np
    import torch
    from safetensors.torch import save_file

    from robollm.registry import load_entry_point
    from robollm.training.sound import (
        TrainSettings,
        labels_of,
        plain_windows,
        predict,
        train,
        window_note,
    )

    if args.threads:
        torch.set_num_threads(args.threads)
    record = load_entry_point(f"{KNOCKS}:record_knocks")
    plan = load_entry_point(f"{KNOCKS}:knock_plan")
    synth = load_entry_point(f"{KNOCKS}:synthesise_knocks")
    started = time.time()
    print(f"knocking {args.real_per_pair} objects of every material and shape (real physics) ...")
    real = record(plan(args.real_per_pair, args.seed), args.seed, progress=_progress("real knocks"))
    valid = [k for k in record(plan(args.valid_per_pair, args.seed + 1), args.seed + 1_000_003,
                               progress=_progress("validation knocks")) if k.ok]
    recorded = time.time() - started
    fast = synth(real, args.clips, args.seed)
    clips = np.stack([k.clip.samples for k in fast])
    valid_clips = np.stack([k.clip.samples for k in valid])
    valid_labels = labels_of([k.material for k in valid])
    settings = TrainSettings(args.epochs, args.batch_size, args.lr, seed=args.seed, device=device)

    def show(epoch: int, loss: float, accuracy: float) -> None:
        print(f"  epoch {epoch}/{args.epochs}: loss {loss:.3f}, real-knock accuracy {accuracy:.3f}", flush=True)

    net, history = train(clips, labels_of([k.material for k in fast]), valid_clips, valid_labels, settings, show)
    predicted = predict(net, plain_windows(valid_clips))
    from robollm.world.scene import MATERIALS

    confusion = np.zeros((len(MATERIALS), len(MATERIALS)), dtype=int)
    for t, p in zip(valid_labels, predicted, strict=True):
        confusion[t, p] += 1
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(out / "knock_sound.safetensors"))
    meta = {
        "what": "knock sound -> material classifier (log-mel CNN)",
        "materials": list(MATERIALS),
        "features": f"log-mel, {window_note()}, torch.stft",
        "real_knocks": len(real), "real_knocks_failed": sum(not k.ok for k in real),
        "fast_clips": len(fast), "validation_real_knocks": len(valid),
        "settings": {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                     "seed": args.seed, "device": device},
        "history": history,
        "validation_accuracy": history[-1]["valid_accuracy"],
        "validation_confusion": {"rows_true_cols_predicted": list(MATERIALS), "counts": confusion.tolist()},
        "parameters": sum(p.numel() for p in net.parameters()),
        "seconds_recording": round(recorded, 1),
        "seconds": round(time.time() - started, 1),
        "machine": f"{platform.machine()} {torch.get_num_threads()} torch threads, {platform.python_version()}",
        "command": "robollm train sound " + " ".join(argv),
    }
    (out / "knock_sound.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"real-knock validation accuracy {meta['validation_accuracy']:.3f}; model written to {out} "
          f"({meta['seconds']:.0f} s)")
    return 0
