"""`robollm bench NAME`: speed and reliability measured side by side in one run.

Each benchmark lives with what it measures (the simulator's in `robollm.sim`, the
scorer's beside the language models) and is named here by entry point, so the command
line imports none of them until one is asked for.
"""

from __future__ import annotations

from robollm.errors import UserError
from robollm.registry import load_entry_point

BENCHMARKS = {
    "sim": "robollm.sim.bench:bench_sim",
    "skills": "robollm.sim.bench_skills:bench_skills",
    "scoring": "robollm.commands.bench_scoring:bench_scoring",
    "eval": "robollm.eval.bench:bench_eval",
    "perception": "robollm.sim.bench_perception:bench_perception",
    "sensing": "robollm.sim.bench_sensing:bench_sensing",
    "evidence-style": "robollm.sim.bench_style:bench_style",
    "affordance": "robollm.commands.bench_affordance:bench_affordance",
    "discovery": "robollm.sim.bench_discovery:bench_discovery",
    "planner-lm": "robollm.commands.bench_planner_lm:bench_planner_lm",
    "plan-steps": "robollm.commands.bench_plan_steps:bench_plan_steps",
}


def bench_command(what: str, rest: list[str]) -> int:
    if what not in BENCHMARKS:
        raise UserError(f"unknown benchmark {what!r}; expected one of {', '.join(BENCHMARKS)}")
    return load_entry_point(BENCHMARKS[what])(rest)
