"""`robollm discover`: propose, train, verify and add new skills within a time budget.

    robollm discover --budget-minutes 60 --out runs/discovery
    robollm discover --budget-minutes 60 --out runs/discovery --install   # into skills/discovered/

Writes `OUT/discovery.json` (every proposal: the stage it reached, its reason, training
steps, success rates, times), `OUT/runs/NAME/` (checkpoint, policy, manifest) and
`OUT/library/NAME/` for each verified skill. Running it again with the same --out
resumes: proposals already added are skipped, and training continues from the last
checkpoint. `--install` copies the verified skills into the shipped library, where the
planner finds them; a skill of the same name there is replaced only with --overwrite.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from robollm.commands.parser import Parser
from robollm.errors import UserError


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="robollm discover", description="Discover new skills: propose, train, verify, add.")
    p.add_argument("--out", required=True, help="folder for the runs, the verified skills and discovery.json")
    p.add_argument("--budget-minutes", type=float, default=60.0, help="wall-clock budget (default 60)")
    p.add_argument("--steps", type=int, default=40_000, help="most training steps per proposal (default 40000)")
    p.add_argument("--envs", type=int, default=2, help="environment processes per proposal (default 2)")
    p.add_argument("--verify-scenes", type=int, default=50, help="held-out scenes per skill (default 50)")
    p.add_argument("--proposer", choices=("auto", "templates"), default="auto",
                   help="auto: the launch file's language model when it can generate, else the templates")
    p.add_argument("--scene", default="discovery", help="scene to propose and train in (default: discovery)")
    p.add_argument("--config", help="launch file (default: launch/sim_bimanual.yaml)")
    p.add_argument("--only", nargs="*", default=[], help="train only these proposals (by name)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ray", action="store_true", help="train independent proposals side by side on Ray")
    p.add_argument("--install", action="store_true", help="copy verified skills into skills/discovered/")
    p.add_argument("--overwrite", action="store_true", help="with --install, replace skills of the same name")
    return p


def discover_command(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.budget_minutes <= 0 or args.steps < 1 or args.envs < 1 or args.verify_scenes < 1:
        raise UserError("--budget-minutes, --steps, --envs and --verify-scenes must be positive")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {str(out)!r} is a file; expected a folder")
    out.mkdir(parents=True, exist_ok=True)
    from robollm.config import load_config
    from robollm.registry import load_entry_point
    from robollm.training.discovery.loop import DiscoverOptions, discover
    from robollm.training.discovery.verify import write_skill
    from robollm.world.scene import load_scene

    load_config(args.config)
    load_scene(args.scene)  # bad names fail here, before anything starts
    shipped = Path(load_entry_point("robollm.skills.catalog:DISCOVERED_DIR"))
    options = DiscoverOptions(out=out, budget_minutes=args.budget_minutes, steps=args.steps, n_envs=args.envs,
                              verify_scenes=args.verify_scenes, proposer=args.proposer, scene=args.scene,
                              config=args.config, seed=args.seed, ray=args.ray, only=args.only,
                              command=shlex.join(["robollm", "discover", *argv]))
    report = discover(options, log=lambda s: print(s, flush=True))
    print()
    print(f"proposals from: {report['proposals_from']}")
    print(f"{'proposal':<20} {'stage':<9} {'steps':>7} {'train':>6} {'verified':>9} {'minutes':>8}  reason")
    for p in report["proposals"]:
        f = p["figures"]
        verified = f.get("verified", {})
        rate = f"{verified['success_rate']:.2f}" if verified else "-"
        minutes = f"{f['seconds'] / 60:.1f}" if "seconds" in f else "-"
        print(f"{p['name']:<20} {p['stage']:<9} {f.get('steps', 0):>7} {f.get('train_success', '-'):>6} "
              f"{rate:>9} {minutes:>8}  {p['reason'] or f.get('stop_reason', '')}")
    print(f"added {len(report['added'])} skill(s) in {report['minutes']} minutes: {', '.join(report['added']) or '-'}")
    if args.install:
        import json

        fresh = [p["name"] for p in report["proposals"]
                 if p["stage"] == "added" and p["reason"] != "added by an earlier run"]
        for name in fresh:
            folder = out / "library" / name
            manifest = json.loads((folder / "manifest.json").read_text())
            record = json.loads((folder / "training.json").read_text())
            write_skill(shipped, manifest, folder / "policy.safetensors", record, overwrite=args.overwrite)
            print(f"installed {name} into {shipped / name}")
    sys.stdout.flush()
    return 0 if report["added"] else 1
