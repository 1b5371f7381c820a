"""`robollm eval SUITE`: run every episode of a suite and report success rates.

Success means the episode's goal holds at the end and no object that the goal does
not name has moved. Plan success is success under the symbolic executor (the skills' stated
effects, no physics): it measures the planner. Execution success is success under physics:
planner and controllers together. Episodes run in this process (`--workers 1`), in local
worker processes (`--workers N`) or on Ray (`--ray [ADDRESS]`), each worker loading its own
language model once. The work is done by `robollm.eval`; this module parses arguments.
"""

from __future__ import annotations

import argparse
import json
import sys

from robollm.commands.parser import Parser
from robollm.eval.evaluate import LOCAL_RAY, evaluate
from robollm.eval.executors import WorkerLost
from robollm.eval.summary import format_summary

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="robollm eval")
    parser.add_argument("suite", help="a suite file, a built-in suite name, 'all', or a held-out suite (heldout, wording)")
    parser.add_argument("--executor", choices=("physics", "symbolic"),
                        help="run only this executor (default: both)")
    parser.add_argument("--workers", type=int,
                        help="worker processes (default 1; with --ray, one actor a CPU)")
    parser.add_argument("--ray", nargs="?", const=LOCAL_RAY, metavar="ADDRESS",
                        help="run on Ray: a local instance, or the cluster at ADDRESS (HEAD:6379)")
    parser.add_argument("--out", help="folder for run.json, episodes.jsonl and summary.json")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted evaluation in --out, skipping finished runs")
    parser.add_argument("--config", help="launch file")
    parser.add_argument("--perception", help="a perception name (ground_truth, clip) instead of the launch file's")
    parser.add_argument("--affordance", help="an affordance model (learned, heuristic) instead of the launch file's")
    parser.add_argument("--limit", type=int, help="only the first N episodes of each suite")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def eval_command(argv: list[str]) -> int:
    if argv and argv[0] == "tidy":  # the tidy benchmark scores placements, not episodes
        from robollm.commands.eval_tidy import eval_tidy_command

        return eval_tidy_command(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        result = evaluate(args.suite, executors=[args.executor] if args.executor else None,
                          workers=args.workers, ray=args.ray, out=args.out, resume=args.resume,
                          config=args.config, limit=args.limit,
                          overrides={"perception": args.perception, "affordance": args.affordance})
    except WorkerLost as e:
        print(f"robollm: error: {e}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(result.summary))
    else:
        print(format_summary(result.summary))
        if result.out is not None and not result.problems:
            print(f"results: {result.out.episodes_path}, {result.out.summary_path}")
    for problem in result.problems:
        print(f"robollm: error: {problem}", file=sys.stderr)
    errored = result.errored
    if errored:
        print(f"{len(errored)} of {len(result.results)} runs ended in an error (stop_reason "
              "'error: ...'); the first of each kind is printed above", file=sys.stderr)
    if result.interrupted:
        where = f"; the summary of those is in {result.out.summary_path}, continue with --resume" \
            if result.out is not None and not result.problems else ""
        print(f"robollm: interrupted after {len(result.results)} of {result.total_runs} runs{where}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_FAILED if errored or result.problems else EXIT_OK
