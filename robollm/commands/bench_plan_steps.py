"""`robollm bench plan-steps`: the planner model's choices on fresh tasks of each family of
the training generator, family by family.

    robollm bench plan-steps [--config FILE] [--families except_one,under] [--tasks 12] [--json]

For every family of the wider language (`robollm.training.synthetic_language`, with the
hand families when the launch file's skills name the hand) it draws `--tasks` tasks from
a seed the training never used, on tables laid out as in training, leaves out any whose
instruction the adapter was trained on, and scores every step of the expert plan as the
planner scores it (the candidates the rules allow, the launch file's length rule, no
calibration against a neutral prompt; the instruction as the planner reads it unless the
launch file sets `planner.read_instruction: false`). It prints
per family the share of steps where the expert's call scores highest and of tasks where
every step does. No evaluation suite is read: this measures how well a family was
learnt, so that training settings can be chosen without looking at held-out suites.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

from robollm.commands.parser import Parser
from robollm.errors import UserError

SEED = 515151  # no training run draws from it


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="robollm bench plan-steps", description=__doc__.splitlines()[0])
    p.add_argument("--config", help="launch file whose language model, adapter, prompt and skills are measured")
    p.add_argument("--families", help="comma-separated family names (default: all)")
    p.add_argument("--tasks", type=int, default=12, help="tasks per family (default: 12)")
    p.add_argument("--seed", type=int, default=SEED, help=f"generator seed (default: {SEED})")
    p.add_argument("--json", action="store_true")
    return p


def trained_instructions(adapter: Any) -> set[str]:
    """The normalised instructions of the tasks the adapter was trained on (from its record)."""
    from robollm.llm.adapters import read_meta
    from robollm.training.synthetic import normalise
    from robollm.training.task_split import recorded_settings, split_tasks

    meta = read_meta(adapter)
    if "tasks" not in meta:
        return set()
    train, _ = split_tasks(**recorded_settings(meta, Path(adapter)), language=True, library=meta.get("skill_library"))
    return {normalise(t.instruction) for t in train}


def read_task(task: Any, skills: dict[str, Any]) -> None:
    """Rewrite the task's instruction as the planner reads it (robollm.planner.reading),
    from the table the generator laid out."""
    from robollm.planner.phrases import Table
    from robollm.planner.reading import read_instruction
    from robollm.training.synthetic import _colour, _type, layout_state

    table = Table({o: (_colour(o), _type(o)) for o in task.objects}, layout_state(task.objects, task.layout),
                  frozenset(task.near))
    words = {w for name in skills for w in name.split("_")}
    task.instruction = read_instruction(task.instruction, table, words).text


def draw(family: Any, rng: random.Random, count: int, seen: set[str], template: Any,
         skills: dict[str, Any], read: bool = False) -> list[list[Any]]:
    """The scored steps of `count` fresh tasks of one family (with `read`, the instructions
    as the planner reads them)."""
    from robollm.training.lm_temperature import task_steps
    from robollm.training.synthetic import normalise, random_objects
    from robollm.training.synthetic_language import table_task

    out: list[list[Any]] = []
    tries = 0
    while len(out) < count:
        tries += 1
        if tries > 200 * count:
            raise UserError(f"could not draw {count} fresh tasks of this family")
        task = table_task(rng, random_objects(rng), family)
        if task is None or normalise(task.instruction) in seen:
            continue
        if read:
            read_task(task, skills)
        steps = task_steps(task, template, skills)
        if steps is not None:
            out.append(steps)
    return out


def bench_plan_steps(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.tasks < 1:
        raise UserError(f"--tasks must be at least 1, got {args.tasks}")
    from tqdm import tqdm

    from robollm.config import load_config
    from robollm.llm.adapters import resolve_adapter
    from robollm.llm.options import HFOptions
    from robollm.planner.prompt import load_prompt
    from robollm.training.lm_temperature import planner_scorer, score_steps
    from robollm.training.synthetic import library_skills, names_hands
    from robollm.training.synthetic_language import language_families

    config = load_config(args.config)
    pc = config.planner
    template = load_prompt(pc.prompt)
    if not getattr(template, "uses_scene", False):
        raise UserError(f"prompt {pc.prompt!r} does not describe the table; the families need one that does "
                        "(for example saycan_scene)")
    table = language_families(names_hands(config.skills.library))
    names = args.families.split(",") if args.families else list(table)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise UserError(f"--families: unknown {', '.join(unknown)}; expected some of {', '.join(table)}")
    adapter = pc.llm.options.adapter if isinstance(pc.llm.options, HFOptions) else None
    seen = trained_instructions(resolve_adapter(adapter)) if adapter is not None else set()
    skills = library_skills(config.skills.library)
    llm, options = planner_scorer(pc)
    rng = random.Random(args.seed)
    started, report = time.time(), {}
    for name in tqdm(names, desc="families", unit="family", disable=None):
        tasks_ok = steps_ok = steps_all = 0
        for steps in draw(table[name][1], rng, args.tasks, seen, template, skills, pc.read_instruction):
            right = [max(range(len(scores)), key=scores.__getitem__) == target
                     for scores, target in score_steps(llm, steps, options)]
            tasks_ok += all(right)
            steps_ok += sum(right)
            steps_all += len(right)
        report[name] = {"tasks": args.tasks, "tasks_right": tasks_ok, "steps": steps_all, "steps_right": steps_ok}
    total = {k: sum(r[k] for r in report.values()) for k in ("tasks", "tasks_right", "steps", "steps_right")}
    if args.json:
        print(json.dumps({"families": report, "total": total, "seconds": round(time.time() - started, 1)}))
        return 0
    print(f"{'family':<16} {'tasks right':>12} {'steps right':>12}")
    for name, r in [*report.items(), ("all", total)]:
        print(f"{name:<16} {r['tasks_right']:>5}/{r['tasks']:<3} {r['tasks_right'] / r['tasks']:4.0%} "
              f"{r['steps_right']:>5}/{r['steps']:<4} {r['steps_right'] / max(1, r['steps']):4.0%}")
    print(f"({time.time() - started:.0f} s; seed {args.seed}; instructions the adapter was trained on left out; "
          "scoring without calibration)")
    return 0
