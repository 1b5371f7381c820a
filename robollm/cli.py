"""The `robollm` command line.

Exit status: 0 when a task succeeds (or a check passes), 1 when it ran and failed,
2 for a user mistake, reported as one line without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from robollm.commands.parser import Parser
from robollm.errors import RobotError, UserError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


_Parser = Parser


def _run(args: argparse.Namespace) -> int:
    from robollm.commands.run import run_command

    return run_command(args)


def _check_config(args: argparse.Namespace) -> int:
    from robollm.config import load_config
    from robollm.launch_check import check_launch

    cfg = load_config(args.file)
    found = check_launch(cfg)
    parts = [f"driver {found.driver}", f"scene {found.scene.source}",
             f"skills {cfg.skills.library} ({len(found.skills)})",
             f"language model {cfg.planner.llm.name}" + (f" {found.model}" if found.model else ""),
             f"prompt {found.prompt}"]
    if found.adapter:
        parts.append(f"adapter {found.adapter}")
    print(f"{args.file}: ok ({', '.join(parts)})")
    return EXIT_OK


def _bench(args: argparse.Namespace) -> int:
    from robollm.commands.bench import bench_command

    return bench_command(args.what, args.rest)


def _serve(args: argparse.Namespace) -> int:
    from robollm.commands.serve import serve_command

    return serve_command(args.rest)


def _eval(args: argparse.Namespace) -> int:
    from robollm.commands.eval import eval_command

    return eval_command(args.rest)


def _tidy(args: argparse.Namespace) -> int:
    from robollm.commands.tidy import tidy_command

    return tidy_command(args.rest)


def _calibrate_camera(args: argparse.Namespace) -> int:
    from robollm.commands.calibrate import calibrate_command

    return calibrate_command(args.rest)


def _train(args: argparse.Namespace) -> int:
    from robollm.commands.train import train_command

    return train_command(args.what, args.rest)


def _collect(args: argparse.Namespace) -> int:
    from robollm.commands.collect import collect_command

    if not args.rest or args.rest[0].startswith("-"):
        raise UserError("robollm collect needs what to collect: affordance")
    return collect_command(args.rest[0], args.rest[1:])


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="robollm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="plan and act from an instruction, or run a scripted --plan")
    run.add_argument("instruction", nargs="?", help="what to do, e.g. 'put the red block in the green bowl'")
    run.add_argument("--plan",
                     help="skill steps separated by ';', e.g. 'pick red_block; place red_block in green_bowl'")
    run.add_argument("--success", help="success predicate, e.g. 'in(red_block, green_bowl)'")
    run.add_argument("--config", help="launch file (default: launch/sim_bimanual.yaml)")
    run.add_argument("--scene", help="scene file or built-in scene name (default: the launch file's)")
    run.add_argument("--perception", help="a perception name (ground_truth, clip) instead of the launch file's")
    run.add_argument("--affordance", help="an affordance model (learned, heuristic) instead of the launch file's")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--executor", choices=("physics", "symbolic"), default=None,
                     help="physics runs the motions; symbolic applies only the skills' effects")
    run.add_argument("--record", metavar="FILE.gif", help="save the front camera's view of the episode")
    run.add_argument("--force", action="store_true", help="let --record overwrite an existing file")
    run.add_argument("--gui", action="store_true", help="open the PyBullet window")
    run.add_argument("--json", action="store_true", help="print one JSON object instead of a trace")
    run.set_defaults(func=_run)

    check = sub.add_parser("check-config", help="validate a launch file without running anything")
    check.add_argument("file")
    check.set_defaults(func=_check_config)

    ev = sub.add_parser("eval", help="run an evaluation suite: plan and execution success",
                        add_help=False)
    ev.add_argument("rest", nargs=argparse.REMAINDER, help="SUITE and options (robollm eval -h)")
    ev.set_defaults(func=_eval)

    collect = sub.add_parser("collect", help="collect training data: affordance (skill calls in physics)",
                             add_help=False)
    collect.add_argument("rest", nargs=argparse.REMAINDER, help="affordance and options")
    collect.set_defaults(func=_collect)

    serve = sub.add_parser("serve", help="serve a language model as an OpenAI-compatible scoring server",
                           add_help=False)
    serve.add_argument("rest", nargs=argparse.REMAINDER, help="options (robollm serve -h)")
    serve.set_defaults(func=_serve)

    perceive = sub.add_parser("perceive", help="print what perception sees on the table, and draw it",
                              add_help=False)
    perceive.add_argument("rest", nargs=argparse.REMAINDER, help="options (robollm perceive -h)")
    perceive.set_defaults(func=_perceive)

    from robollm.commands.bench import BENCHMARKS

    benches = tuple(BENCHMARKS)
    bench = sub.add_parser("bench", help="measure speed and accuracy: " + ", ".join(benches))
    bench.add_argument("what", choices=benches)
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="options of that benchmark")
    bench.set_defaults(func=_bench)

    tidy = sub.add_parser("tidy", add_help=False,
                          help="summarise example placements into rules and put the table's objects away")
    tidy.add_argument("rest", nargs=argparse.REMAINDER, help="examples and options (robollm tidy -h)")
    tidy.set_defaults(func=_tidy)
    disc = sub.add_parser("discover", add_help=False,
                          help="discover new skills: propose, train, verify and add them to the library")
    disc.add_argument("rest", nargs=argparse.REMAINDER, help="options (robollm discover -h)")
    disc.set_defaults(func=_discover)

    calib = sub.add_parser("calibrate-camera", add_help=False,
                           help="measure a camera's extrinsics from a marker the robot holds")
    calib.add_argument("rest", nargs=argparse.REMAINDER, help="options (robollm calibrate-camera -h)")
    calib.set_defaults(func=_calibrate_camera)

    train = sub.add_parser("train", help="train a learned part: planner-lm (the planner's language model), "
                                         "lm-temperature (its usefulness's calibration), perception (the camera's CLIP model), sound (knock -> material), "
                                         "touch (touch-word thresholds), affordance (the learned affordance model)")
    train.add_argument("what", choices=("planner-lm", "lm-temperature", "perception", "sound", "touch",
                                          "affordance"))
    train.add_argument("rest", nargs=argparse.REMAINDER, help="options of that job (robollm train planner-lm -h)")
    train.set_defaults(func=_train)
    return parser


# Subcommands whose options are parsed by their own parser: everything after the
# name goes to it untouched (argparse's REMAINDER drops options that come first).
def _perceive(args: argparse.Namespace) -> int:
    from robollm.commands.perceive import perceive_command

    return perceive_command(args.rest)


def _discover(args: argparse.Namespace) -> int:
    from robollm.commands.discover import discover_command

    return discover_command(args.rest)


PASS_THROUGH = {"tidy": _tidy, "serve": _serve, "eval": _eval, "calibrate-camera": _calibrate_camera, "perceive": _perceive,
                "collect": _collect, "discover": _discover}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PASS_THROUGH:
        func: Callable[[argparse.Namespace], int] = PASS_THROUGH[argv[0]]
        args = argparse.Namespace(rest=argv[1:])
    else:
        args = build_parser().parse_args(argv)
        func = args.func
    try:
        return func(args)
    except UserError as e:
        print(f"robollm: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except RobotError as e:
        print(f"robollm: robot stopped: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("robollm: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
