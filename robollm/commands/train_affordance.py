"""`robollm train affordance`: the `learned-v0` value model from collected rollouts.

    robollm train affordance --data data/afford --out my-affordance
    robollm train affordance --data data/afford --out my-affordance --device cuda
    robollm train affordance --data data/afford data/afford-more --out my-affordance

The data folder is checked first (missing, empty, another skill-library version,
malformed records: one line, exit 2, nothing trained); an output folder that holds
anything is only written into with --force. It writes `learned-v0.pt` and
`learned-v0.json` (data sizes, settings, losses, held-out metrics against the
heuristic, time, machine, the command) and `heldout-test.jsonl.gz`, the held-out calls
used for neither training nor calibration, which `robollm bench affordance` reads when
the weights ship. Point `planner.affordance` at the file with
`{name: learned, weights: my-affordance/learned-v0.pt}`.
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

WEIGHTS, RECORD, HELDOUT_TEST = "learned-v0.pt", "learned-v0.json", "heldout-test.jsonl.gz"


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="robollm train affordance",
               description="Train the learned affordance model on collected rollouts.")
    p.add_argument("--data", required=True, nargs="+", metavar="DIR",
                   help="folder(s) written by `robollm collect affordance` (several: trained on together)")
    p.add_argument("--out", required=True, help="folder for learned-v0.pt and learned-v0.json")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=800)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--config", help="launch file whose rig and skills the data was collected with")
    p.add_argument("--force", action="store_true", help="overwrite learned-v0.* in an existing --out")
    return p


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise UserError(f"--out {str(out)!r} already exists and is not empty; choose a new folder "
                        "or pass --force (nothing was overwritten)")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {str(out)!r} is a file")


def write_heldout_test(path: Path, heldout: list[dict]) -> int:
    """The reporting half of the held-out scenes, gzipped with no timestamp so the same
    data gives the same bytes: small enough to ship beside the weights, so that
    `robollm bench affordance` needs no collection to run."""
    import gzip

    from robollm.training.affordance import is_calibration

    rows = [r for r in heldout if not is_calibration(r["scene_seed"])]
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        for r in rows:
            f.write((json.dumps(r, sort_keys=True) + "\n").encode())
    return len(rows)


def train_affordance(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.epochs < 1 or args.hidden < 1:
        raise UserError("--epochs and --hidden must be at least 1")
    out = Path(args.out)
    _check_out(out, args.force)
    from robollm.affordance.records import load_datasets
    from robollm.commands.training_options import pick_device
    from robollm.config import load_config

    data = load_datasets(args.data)  # every problem with the data stops here, before training
    device = pick_device(args.device)
    config = load_config(args.config)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out {str(out)!r}: cannot create the folder ({e.strerror})") from None

    import torch

    from robollm.affordance.dataset import RecordReader
    from robollm.affordance.learned import save_model
    from robollm.affordance.records import LIBRARY_VERSION
    from robollm.training.affordance import Settings, compare, split, train_model

    started = time.time()
    reader = RecordReader(config)
    parts = split(reader.encode(data.train), reader.encode(data.heldout))
    skills = sorted(reader.skills)
    settings = Settings(epochs=args.epochs, hidden=args.hidden, seed=args.seed, device=device)
    sizes = {k: {"records": len(v.y), "rules_allow": int((v.heuristic > 0).sum()),
                 "scenes": len(set(v.scene_seeds.tolist())), "successes": int(v.y.sum())}
             for k, v in parts.items()}
    print("records: " + ", ".join(f"{k} {v['records']} ({v['scenes']} scenes)" for k, v in sizes.items()))
    net, fit = train_model(parts, skills, settings)
    metrics = compare(net, parts["test"], skills)
    record = {
        "model": "learned-v0", "skill_library": LIBRARY_VERSION, "data": [str(Path(d).resolve()) for d in args.data],
        "collection": data.meta, "sizes": sizes, "settings": settings.__dict__,
        "fit": fit, "test_metrics": metrics,
        "seconds": round(time.time() - started, 1), "torch": torch.__version__,
        "machine": f"{platform.node()} {platform.machine()}, {torch.get_num_threads()} threads, {device}",
        "command": shlex.join(["robollm", "train", "affordance", *argv]),
    }
    # Skills no training call used (a two-arm lift when no scene had a tray): their calls
    # keep the rules' answer, not an untrained embedding's.
    trained = sorted({k for k, h in zip(parts["fit"].skills, parts["fit"].heuristic, strict=True) if h > 0})
    record["trained_skills"] = trained
    save_model(out / WEIGHTS, net, skills, reader.geometry,
               {"skill_library": LIBRARY_VERSION, "command": record["command"], "seed": args.seed,
                "trained_skills": trained})
    (out / RECORD).write_text(json.dumps(record, indent=1) + "\n")
    write_heldout_test(out / HELDOUT_TEST, data.heldout)
    learned, rules = metrics["all"]["learned"], metrics["all"]["heuristic"]
    print(f"held-out test ({learned['n']} calls): learned AUROC {learned['auroc']} ECE {learned['ece']} "
          f"Brier {learned['brier']} | heuristic AUROC {rules['auroc']} ECE {rules['ece']} Brier {rules['brier']}")
    print(f"written {out / WEIGHTS}, {out / RECORD} and {out / HELDOUT_TEST} ({record['seconds']:.0f} s)")
    return 0
