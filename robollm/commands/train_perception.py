"""`robollm train perception`: render crops in simulation and train the default CLIP model.

    robollm train perception --out my-clip                 # ~47 min on a 2-core CPU
    robollm train perception --out my-clip --device cuda   # the rendering still runs on the CPU

Rendering is the slow half, so the crops are cached (`--cache FILE.npz`, reused when its
settings match). The model file `clip.pt` and the record `clip.json` (settings, data
sizes, losses and accuracies per epoch, time, machine, the exact command) go into
`--out`. Point a launch file's `perception.model` at the `.pt` file to use it. The model
that ships in `launch/perception/` was made by this command with its defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from robollm.commands.train import check_out, pick_device
from robollm.errors import UserError
from robollm.registry import load_entry_point

RENDER = "robollm.sim.perception_data:training_crops"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robollm train perception",
                                description="Render table scenes in simulation and train the default "
                                            "CLIP model of camera perception on their crops.")
    p.add_argument("--out", required=True, help="folder for clip.pt and clip.json (must not exist, or be empty)")
    p.add_argument("--scenes", type=int, default=2000, help="random scene layouts to render (default: 2000)")
    p.add_argument("--photos", type=int, default=2, help="photographs per layout, other light and camera pose")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default: auto)")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for torch (default: 1; batches of 64-pixel crops gain little from more, "
                        "and on a busy 2-core machine 2 threads ran 5-15x slower than 1)")
    p.add_argument("--cache", metavar="FILE.npz", help="rendered crops: read when present with the same "
                                                       "settings, else written")
    return p


def rendered(args: argparse.Namespace) -> tuple[dict[str, np.ndarray], float]:
    key = f"scenes={args.scenes} photos={args.photos} seed={args.seed}"
    cache = Path(args.cache) if args.cache else None
    if cache and cache.is_file():
        with np.load(cache) as z:
            if str(z["key"]) == key:
                print(f"crops from {cache} ({key})")
                took = float(z["render_seconds"]) if "render_seconds" in z else 0.0
                return {k: z[k] for k in ("crops", "colours", "types")}, took
            print(f"{cache} holds other settings ({z['key']}); rendering again")
    from tqdm import tqdm

    bar = tqdm(total=args.scenes, desc="rendering", unit="scene", file=sys.stderr, disable=None)

    def progress(i: int, total: int, crops: int) -> None:
        bar.update(1)
        bar.set_postfix(crops=crops)
        if bar.disable and i % 50 == 0:  # no bar without a terminal: a line now and then
            print(f"rendered {i}/{total} scenes, {crops} crops, {time.time() - started:.0f} s", flush=True)

    started = time.time()
    data = load_entry_point(RENDER)(args.scenes, args.seed, photos=args.photos, progress=progress)
    bar.close()
    if cache:
        try:
            np.savez_compressed(cache, key=key, render_seconds=time.time() - started, **data)
        except OSError as e:
            raise UserError(f"--cache {str(cache)!r}: cannot write ({e.strerror})") from None
    return data, time.time() - started


def train_perception(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    for name in ("scenes", "photos", "epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not args.lr > 0:
        raise UserError(f"--lr must be positive, got {args.lr}")
    device = pick_device(args.device)
    out = Path(args.out)
    check_out(out)
    import torch

    from robollm.training.perception import TrainSettings, all_prompts, train

    if args.threads < 1:
        raise UserError(f"--threads must be at least 1, got {args.threads}")
    if device == "cpu":
        torch.set_num_threads(args.threads)
    started = time.time()
    data, render_s = rendered(args)
    started = time.time()  # training alone; the rendering is timed by `rendered`
    print(f"{len(data['crops'])} crops from {args.scenes} scenes x {args.photos} photos ({render_s:.0f} s)")
    from robollm.llm.embed import SentenceEncoder

    encoder = SentenceEncoder()
    from tqdm import tqdm

    bar = tqdm(total=1, desc="training", unit="batch", file=sys.stderr, disable=None)

    def progress(step: int, total: int, loss: float) -> None:
        bar.total = total
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
        if bar.disable and step % 50 == 0:
            print(f"step {step}/{total}, loss {loss:.3f}, {time.time() - started:.0f} s", flush=True)

    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    model, stats = train(data, encoder.encode, settings, device=device, progress=progress)
    bar.close()
    model._encoder = encoder
    last = stats["history"][-1]
    record = {
        "model": "open_clip image tower " + json.dumps(model.config["vision_cfg"]) +
                 " + frozen all-MiniLM-L6-v2 with a linear projection",
        "scenes": args.scenes, "photos": args.photos, "crops": int(len(data["crops"])),
        "seed": args.seed, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
        "device": device, **stats,
        # With a cache, the rendering time is that of the run that wrote it.
        "render_seconds": round(render_s, 1), "crops_cache": str(args.cache) if args.cache else None,
        "train_seconds": round(time.time() - started, 1),
        "seconds": round(render_s + time.time() - started, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
                   f"{platform.release()}, torch {torch.__version__}, {torch.get_num_threads()} threads",
        "command": "robollm train perception " + " ".join(argv),
    }
    model.save(out / "clip.pt", record, all_prompts())
    (out / "clip.json").write_text(json.dumps(record, indent=2) + "\n")
    size = (out / "clip.pt").stat().st_size / 1e6
    print(f"validation: colour {last['valid_colour_acc']:.3f}, type {last['valid_type_acc']:.3f}")
    print(f"model written to {out / 'clip.pt'} ({size:.1f} MB, {record['seconds']:.0f} s); use it with "
          f"perception: {{name: clip, model: {out / 'clip.pt'}}}")
    return 0
