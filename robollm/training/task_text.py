"""A synthetic task's plan as the planner's prompt writes it: the table ({scene}, {hands}),
what the hands hold after each step, and one (lines so far, next step) pair per step.

Training (`robollm train planner-lm`) and the temperature's held-out steps
(`robollm train lm-temperature`) both walk plans through these, so both see the texts the
planner writes at run time (robollm.planner.scene_text).
"""

from __future__ import annotations

from robollm.skill import Skill
from robollm.training.synthetic import Task, layout_state, library_skills


def table_text(task: Task) -> tuple[str, str]:
    """{scene} and {hands} for a task's table, as the planner writes them
    (robollm.planner.scene_text): every object on the table in its region."""
    from robollm.planner.scene_text import hands_text, scene_text

    state = layout_state(task.objects, task.layout)
    return scene_text(state, task.objects, task.near), hands_text(state)


def hand_notes(task: Task, skills: dict[str, Skill] | None = None) -> list[str]:
    """Per step, what the planner adds after it with a {hands} prompt ("Now the left hand
    holds the red block."), from the effects of the skills (default: the built-in library's)
    on the task's layout."""
    from robollm.planner.candidates import describe, enumerate_calls
    from robollm.planner.scene_text import hands_note

    skills = skills if skills is not None else library_skills()
    state = layout_state(task.objects, task.layout)
    notes = []
    for step in task.steps:
        calls = {describe(skills, c): c for c in enumerate_calls(skills, state)}
        call = calls.get(step)
        if call is None:  # cannot happen for a valid plan (tests check it): say nothing
            notes.append("")
            continue
        before = state.copy()
        skill = skills[call.skill]
        skill.apply(state, **dict(zip([p.name for p in skill.params], call.args, strict=True)))
        notes.append(hands_note(before, state))
    return notes


def step_lines(task: Task, notes: list[str] | None = None) -> list[tuple[list[str], str]]:
    """(lines so far, next step) for every step of the plan, `done` last, with failed
    attempts written as the planner writes them (and, given `notes`, what the hands hold
    after each step)."""
    out: list[tuple[list[str], str]] = []
    lines: list[str] = []
    for i, step in enumerate(task.steps):
        if i in task.failures:
            out.append((list(lines), step))
            lines.append(f"{step}. It failed: {task.failures[i]}.")
        out.append((list(lines), step))
        line = f"{step}." + (notes[i] if notes else "")
        lines.append(f"{line} {task.evidence[i]}" if i in task.evidence else line)
    out.append((list(lines), "done"))
    return out
