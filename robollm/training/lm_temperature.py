"""Held-out planning steps for fitting the language model's temperature.

The steps come from the validation tasks of the synthetic plan generator (the 3% the
adapter was never tuned on; `robollm.training.task_split.split_tasks`), never from an
evaluation suite. Each step is scored as the planner scores it: every call the skill
library offers in the symbolic state reached so far, less those the rules refuse, with
the expert's next step as the right answer. Objects start in the middle of the table,
which both arms reach; a task whose expert step is not among the candidates from there
(a hand-over between regions) is left out and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from robollm.affordance.base import AffordanceInput
from robollm.affordance.heuristic import HeuristicAffordance
from robollm.plan import SkillCall
from robollm.planner.candidates import describe, enumerate_calls
from robollm.training.synthetic import layout_state, library_skills
from robollm.training.task_text import hand_notes, step_lines, table_text


@dataclass
class PlanStep:
    prompt: str
    candidates: list[str]  # the texts the planner scores, each " <phrase>."
    target: int  # index of the expert's step


def _walk(task: Any, notes: list[str] | None = None) -> Iterator[tuple[list[str], str, bool]]:
    """(lines so far, next step, whether the step then changes the state): the pairs of
    `task_text.step_lines`, where a failed attempt is followed by the same step again."""
    pairs = step_lines(task, notes)
    for i, (lines, step) in enumerate(pairs):
        failed = i + 1 < len(pairs) and pairs[i + 1][0][-1].startswith(f"{step}. It failed")
        yield lines, step, step != "done" and not failed


def task_steps(task: Any, template: Any, skills: dict[str, Any]) -> list[PlanStep] | None:
    """The scored steps of one task; None when an expert step is not a candidate."""
    rules = HeuristicAffordance()
    state = layout_state(task.objects, getattr(task, "layout", None))
    objects = [o.replace("_", " ") for o in task.objects]
    table = table_text(task) if getattr(template, "uses_scene", False) else ("", "")
    notes = hand_notes(task, skills) if getattr(template, "tells_hands", False) else None
    out = []
    for lines, step, changes in _walk(task, notes):
        calls = enumerate_calls(skills, state)
        # A generated plan has relations only, no perceived scene to check calls against.
        allowed = rules.score(AffordanceInput(None, state, skills, scene_current=False),  # type: ignore[arg-type]
                              calls)
        calls = [c for c, a in zip(calls, allowed, strict=True) if a > 0]
        texts = [describe(skills, c) for c in calls]
        if step not in texts:
            return None
        target = texts.index(step)
        out.append(PlanStep(template.render(objects, task.instruction, lines, None, *table),
                            [f" {t}." for t in texts], target))
        if changes:
            call: SkillCall = calls[target]
            skill = skills[call.skill]
            skill.apply(state, **dict(zip([p.name for p in skill.params], call.args, strict=True)))
    return out


def heldout_steps(tasks: Sequence[Any], template: Any, limit: int | None = None,
                  library: str | None = None) -> tuple[list[PlanStep], int]:
    """(steps of the first tasks, up to `limit` steps; tasks left out), over the candidates
    of the skill `library` (default: the built-in one)."""
    skills = library_skills(library)
    steps: list[PlanStep] = []
    skipped = 0
    for task in tasks:
        got = task_steps(task, template, skills)
        if got is None:
            skipped += 1
            continue
        steps += got
        if limit is not None and len(steps) >= limit:
            return steps[:limit], skipped
    return steps, skipped


def planner_scorer(planner: Any) -> tuple[Any, Any]:
    """(language model, scoring options) of a launch file's `planner` section, scoring as
    its planner does but without calibration against a neutral prompt (for held-out steps)."""
    from robollm.llm import ScoringOptions
    from robollm.llm.registry import llm_registry

    registry = llm_registry()
    llm = registry.make(planner.llm.name, options=planner.llm.options) if planner.llm.options is not None \
        else registry.make(planner.llm.name)
    return llm, ScoringOptions(length=planner.scoring.length, length_power=planner.scoring.length_power,
                               calibration=False, alpha=planner.scoring.alpha)


def score_steps(llm: Any, steps: Sequence[PlanStep], options: Any,
                progress: Callable[[int], None] | None = None) -> list[tuple[list[float], int]]:
    """The planner's combined scores for each step's candidates, with the right index."""
    from robollm.llm import score_candidates

    out = []
    for i, s in enumerate(steps):
        out.append((score_candidates(llm, s.prompt, s.candidates, options), s.target))
        if progress:
            progress(i)
    return out
