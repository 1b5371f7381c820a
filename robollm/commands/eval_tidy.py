"""`robollm eval tidy`: placement accuracy on the tidy benchmark's seen and unseen objects
for every method side by side, per split, and optionally execution in physics."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

from robollm.commands.parser import Parser
from robollm.errors import UserError

SPLIT_CHOICES = ("validation", "test", "all")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="robollm eval tidy", description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", metavar="FILE", help="a tidy benchmark file (default: the shipped one)")
    parser.add_argument("--split", choices=SPLIT_CHOICES, default="all",
                        help="validation (for choosing settings), test (measure once), or all")
    parser.add_argument("--config", help="launch file (its planner.llm and tidy sections)")
    parser.add_argument("--limit", type=int, help="only the first N scenarios of each split")
    parser.add_argument("--physics", action="store_true",
                        help="also put each scenario's objects away in physics with the summary method's "
                             "decisions, and count the objects where they should be at the end")
    parser.add_argument("--physics-limit", type=int,
                        help="run physics on the first N scenarios of each split only")
    parser.add_argument("--seed", type=int, default=0, help="layout seed of the physics scenes")
    parser.add_argument("--out", help="write results.json (every scenario's decisions) here")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def eval_tidy_command(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    for name in ("limit", "physics_limit"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    from robollm.config import load_config
    from robollm.planner.tidy.benchmark import METHODS, load_benchmark, run_methods, summary_table
    from robollm.planner.tidy.tidier import summary_options, tidy_language_model

    config = load_config(args.config)
    scenarios = load_benchmark(args.benchmark)
    splits = ("validation", "test") if args.split == "all" else (args.split,)
    chosen = []
    for split in splits:
        part = [s for s in scenarios if s.split == split]
        chosen += part[: args.limit] if args.limit else part
    if not chosen:
        raise UserError(f"the tidy benchmark has no {args.split} scenarios")
    started = time.perf_counter()
    llm = tidy_language_model(config)
    options = summary_options(config)
    results = []
    for i, scenario in enumerate(chosen, 1):
        result = run_methods(llm, scenario, options)
        results.append(result)
        if not args.json:
            right = {m: sum(a == b for a, b in zip(r.placed, result.goes, strict=True))
                     for m, r in result.methods.items()}
            print(f"[{i}/{len(chosen)}] {scenario.id} ({scenario.split}, {result.seconds:.1f} s): "
                  f"summary {right['summary']}/{len(result.goes)} | {result.methods['summary'].rule}", flush=True)
    table = summary_table(results, METHODS)
    summary = {"benchmark": args.benchmark or "tidy", "model": llm.name, "options": vars(options),
               "table": table, "seconds": round(time.perf_counter() - started, 1),
               "machine": f"{platform.machine()}, {platform.node()}"}
    if args.physics:
        summary["physics"] = physics(config, chosen, results, args)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps({"summary": summary, "scenarios": [
            {"id": r.scenario, "split": r.split, "seen": r.seen, "goes": r.goes,
             "methods": {m: {"placed": v.placed, "rule": v.rule} for m, v in r.methods.items()}} for r in results]}, indent=1))
    if args.json:
        print(json.dumps(summary))
    else:
        print(format_table(summary))
    return 0


def physics(config, scenarios, results, args) -> dict:
    """The summary method's decisions executed by the skills in physics, scenario by scenario."""
    from robollm.planner.tidy.act import put_away, sense_materials
    from robollm.session import Session

    per_split: dict[str, dict] = {}
    started = time.perf_counter()
    for scenario, result in zip(scenarios, results, strict=True):
        counts = per_split.setdefault(scenario.split, {"scenarios": 0, "objects": 0, "as_decided": 0,
                                                       "as_wanted": 0})
        if args.physics_limit and counts["scenarios"] >= args.physics_limit:
            continue
        by_words = {r.words: r for r in scenario.receptacles}
        method = result.methods["summary"]
        with Session(config, scenario.scene, args.seed, executor="physics") as session:
            # Perception does not know materials: they are sensed (knocked) where the rule
            # needs them, and the rule decides again from what sensing found.
            unknown = [replace(o.thing, material=None) for o in scenario.objects]
            sensed = sense_materials(session, unknown, method.rule_set)
            decided = [(method.rule_set.place(t) or by_words[w]).words
                       for t, w in zip(sensed, method.placed, strict=True)]
            placements = put_away(session, [(t.name, by_words[w]) for t, w in zip(sensed, decided, strict=True)])
        counts["scenarios"] += 1
        counts["objects"] += len(placements)
        counts["as_decided"] += sum(p.holds for p in placements)
        counts["as_wanted"] += sum(p.holds and w == o.goes.words for p, w, o in
                                   zip(placements, decided, scenario.objects, strict=True))
        if not args.json:
            print(f"physics {scenario.id}: {sum(p.holds for p in placements)}/{len(placements)} placed as decided"
                  + "".join(f" | {p.obj}: {p.reason or 'not there'}" for p in placements if not p.holds), flush=True)
    for counts in per_split.values():
        n = max(1, counts["objects"])
        counts["as_decided_rate"] = round(counts["as_decided"] / n, 4)
        counts["as_wanted_rate"] = round(counts["as_wanted"] / n, 4)
    return {"splits": per_split, "seconds": round(time.perf_counter() - started, 1), "seed": args.seed}


def format_table(summary: dict) -> str:
    lines = [f"tidy benchmark: model {summary['model']} | prior weight {summary['options']['prior_weight']} | "
             f"alpha {summary['options']['alpha']} | {summary['seconds']} s"]
    for split, part in summary["table"].items():
        lines.append(f"\n{split} ({part['scenarios']} scenarios)")
        lines.append(f"  {'method':<24} {'seen':>16} {'unseen':>16} {'all':>16}")
        for method, row in part["methods"].items():
            cells = [f"{row[k]['accuracy'] * 100:5.1f}% ({row[k]['correct']}/{row[k]['total']})"
                     if row[k]["total"] else "—" for k in ("seen", "unseen", "all")]
            lines.append(f"  {method:<24} " + " ".join(f"{c:>16}" for c in cells))
    if "physics" in summary:
        for split, c in summary["physics"]["splits"].items():
            lines.append(f"\nphysics, {split} ({c['scenarios']} scenarios, {c['objects']} objects, seed "
                         f"{summary['physics']['seed']}): {c['as_decided_rate'] * 100:.1f}% where the summary put "
                         f"them, {c['as_wanted_rate'] * 100:.1f}% where the person wants them")
    return "\n".join(lines)


def main() -> None:  # pragma: no cover - for python -m
    sys.exit(eval_tidy_command(sys.argv[1:]))
