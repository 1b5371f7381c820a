"""`robollm bench evidence-style`: which evidence style lets the planner choose the right object.

    robollm bench evidence-style [--suite property] [--limit N] [--json]

For each episode of the suite, the look-alikes are sensed first with the cue the episode
turns on (knock each for a material, weigh each for heaviest or lightest, touch each
for soft or hard), in PyBullet with the real interpreters. Then the planner of the
launch file scores its next step once with the evidence written in each style, on the
same readings. Reported: how often the language model's best-scored pick among the
look-alikes is the object the instruction asks for (chance: one in two or three), and how
often the whole next step is that pick. Only the style changes between the two scores:
how the evidence reads to the model.
"""

from __future__ import annotations

import argparse
import json
import time

from robollm.config import load_config
from robollm.eval.suites import load_suite
from robollm.plan import SkillCall
from robollm.planner.saycan import SayCanPlanner, outcome_line
from robollm.session import Session
from robollm.world.predicates import atoms, parse

CUE_SKILL = {"sound": "knock", "weight": "weigh", "touch": "touch"}
STYLES = ("beliefs", "adjectives")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robollm bench evidence-style", description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", default="property")
    p.add_argument("--config", help="launch file (default: launch/sim_bimanual.yaml)")
    p.add_argument("--limit", type=int, help="only the first N episodes")
    p.add_argument("--json", action="store_true")
    return p


def bench_style(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    config = load_config(args.config)
    planner = SayCanPlanner.from_config(config)
    episodes = load_suite(args.suite).episodes[: args.limit]
    started = time.time()
    rows = []
    for ep in episodes:
        cue = ep.id.split("_")[1]
        target = atoms(parse(ep.success))[0].args[0]
        with Session(config, ep.scene_spec(), ep.seeds[0]) as session:
            looks = [n for n in session.scene.objects if n.split("_")[0] == target.split("_")[0]]
            records = [session.execute(SkillCall(CUE_SKILL[cue], (n,))) for n in looks]
            row = {"id": ep.id, "cue": cue, "target": target, "sensed": len(records)}
            for style in STYLES:
                lines = [outcome_line(r.text + ".", r.outcome, r.evidence, style) for r in records]
                scored, _ = planner.score(session, ep.instruction, lines, session.state)
                picks = [c for c in scored if c.call.skill == "pick" and c.call.args[0] in looks]
                best = max(picks, key=lambda c: c.llm if c.llm is not None else -1e9)
                row[style] = scored[0].text
                row[f"{style}_right"] = scored[0].text == f"pick up the {target.replace('_', ' ')}"
                row[f"{style}_pick"] = best.text
                row[f"{style}_pick_right"] = best.call.args[0] == target
            rows.append(row)
    summary = {style: sum(r[f"{style}_right"] for r in rows) / max(1, len(rows)) for style in STYLES}
    picks = {style: sum(r[f"{style}_pick_right"] for r in rows) / max(1, len(rows)) for style in STYLES}
    per_cue = {cue: {style: sum(r[f"{style}_pick_right"] for r in rows if r["cue"] == cue)
                     / max(1, sum(r["cue"] == cue for r in rows)) for style in STYLES}
               for cue in sorted({r["cue"] for r in rows})}
    out = {"episodes": len(rows), "right_first_step": summary, "right_object_among_picks": picks,
           "per_cue_right_object_among_picks": per_cue,
           "llm": planner.llm.name, "seconds": round(time.time() - started, 1), "rows": rows}
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print("the language model's best pick among the look-alikes is the asked-for one:")
    for cue, by_style in per_cue.items():
        print(f"  {cue:<7} " + "  ".join(f"{s} {v:.3f}" for s, v in by_style.items()))
    print("  overall " + "  ".join(f"{s} {v:.3f}" for s, v in picks.items()))
    print("the whole next step is that pick: " + "  ".join(f"{s} {v:.3f}" for s, v in summary.items())
          + f" ({len(rows)} episodes, {out['seconds']:.0f} s)")
    return 0
