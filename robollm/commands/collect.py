"""`robollm collect affordance`: skill calls tried in physics, kept as training data.

    robollm collect affordance --episodes 200 --out data/afford --workers 2
    robollm collect affordance --episodes 2000 --out data/afford --ray HEAD:6379

Each episode is one random scene (`robollm.sim.affordance_rollouts`) and a short random
walk of calls in it; see docs/affordance.md for the cases and the record format.
"""

from __future__ import annotations

import argparse
import shlex

from robollm.commands.parser import Parser
from robollm.errors import UserError
from robollm.eval.evaluate import LOCAL_RAY


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="robollm collect affordance")
    parser.add_argument("--episodes", type=int, required=True, help="random scenes to run")
    parser.add_argument("--out", required=True, help="data folder (train.jsonl, heldout.jsonl, collection.json)")
    parser.add_argument("--seed", type=int, default=0, help="first scene seed (default 0)")
    parser.add_argument("--calls", type=int, default=8, help="skill calls per scene (default 8)")
    parser.add_argument("--workers", type=int, help="worker processes (default 1)")
    parser.add_argument("--ray", nargs="?", const=LOCAL_RAY, metavar="ADDRESS",
                        help="run on Ray: a local instance, or the cluster at ADDRESS (HEAD:6379)")
    parser.add_argument("--config", help="launch file")
    parser.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    return parser


def collect_command(what: str, argv: list[str]) -> int:
    if what != "affordance":
        raise UserError(f"unknown collection {what!r}; expected affordance")
    from robollm.affordance.collect import collect

    args = build_parser().parse_args(argv)
    meta = collect(args.out, args.episodes, seed=args.seed, calls=args.calls, workers=args.workers,
                   ray=args.ray, config=args.config, force=args.force,
                   command=shlex.join(["robollm", "collect", what, *argv]))
    print(f"{meta['records']} calls from {meta['scenes_done']} scenes ({meta['successes']} succeeded): "
          f"{meta['train_records']} training, {meta['heldout_records']} held out, in {args.out} "
          f"({meta['seconds']:.0f} s)")
    if meta["errors"]:
        print(f"{len(meta['errors'])} scenes failed; see {args.out}/collection.json")
    return 130 if meta["interrupted"] else (1 if meta["errors"] else 0)
