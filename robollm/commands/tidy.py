"""`robollm tidy`: summarise a person's example placements into rules, print them, and
put every loose object on the table away by those rules."""

from __future__ import annotations

import argparse
import json
import sys
import time

from robollm.commands.parser import Parser
from robollm.errors import UserError

DEFAULT_SCENE = "tidy"
DESCRIPTION = ("summarise example placements into rules, print them, and put every loose object "
               "on the table away by them")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="robollm tidy", description=DESCRIPTION)
    parser.add_argument("examples", nargs="?",
                        help="example placements, e.g. 'the red block went in the box, the blue block "
                             "went on the plate' (with --prefs: they replace the file's and are saved)")
    parser.add_argument("--prefs", metavar="FILE",
                        help="a person's preferences file (YAML: person, examples, summary); "
                             "the derived summary is written back to it")
    parser.add_argument("--config", help="launch file (default: launch/sim_bimanual.yaml)")
    parser.add_argument("--scene", help=f"scene file or built-in scene name (default: {DEFAULT_SCENE})")
    parser.add_argument("--perception", help="a perception name (ground_truth, clip) instead of the launch file's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--executor", choices=("physics", "symbolic"), default=None,
                        help="physics runs the motions; symbolic applies only the skills' effects")
    parser.add_argument("--dry-run", action="store_true", help="print the rules and the plan, move nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def tidy_command(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    from pathlib import Path

    from robollm.config import load_config
    from robollm.launch_check import check_launch
    from robollm.planner.tidy.prefs import Preferences, load_preferences, split_examples

    if args.seed < 0:
        raise UserError(f"--seed must be 0 or more, got {args.seed}")
    if args.examples is not None and not args.examples.strip():
        raise UserError("the examples are empty; give placements like 'the red block went in the box'")
    prefs = None
    if args.prefs and Path(args.prefs).exists():
        prefs = load_preferences(args.prefs)
    if args.examples is not None:
        given = split_examples(args.examples)
        if prefs is None or given != prefs.examples:
            prefs = Preferences(prefs.person if prefs else "", given, source=args.prefs or "<command line>")
    if prefs is None:
        raise UserError(f"preferences {args.prefs!r}: no such file; give example placements on the command line "
                        "to start one" if args.prefs else
                        "give example placements ('the red block went in the box, ...') or --prefs FILE")
    if not prefs.examples:
        raise UserError(f"{prefs.source}: no examples; add sentences like 'the red block went in the box' "
                        "under 'examples'")
    config = load_config(args.config, perception=args.perception)
    scene = check_launch(config, scene=args.scene or DEFAULT_SCENE, planner=False).scene
    from robollm.planner.tidy.run import tidy

    report = tidy(config, scene, prefs, seed=args.seed, executor=args.executor or config.skills.executor,
                  save_to=args.prefs, dry_run=args.dry_run, echo=not args.json)
    report["total_time"] = round(time.perf_counter() - started, 2)
    if args.json:
        print(json.dumps(report))
    sys.stdout.flush()
    return 0 if report["success"] else 1
