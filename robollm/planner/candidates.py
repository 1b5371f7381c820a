"""Every registered skill with every argument valid in the current scene, plus `done`."""

from __future__ import annotations

import itertools

from robollm.plan import SkillCall
from robollm.skill import DIRECTIONS, Skill
from robollm.world.symbolic import ARMS, SymbolicState

DONE = SkillCall("done", ())


def enumerate_calls(skills: dict[str, Skill], state: SymbolicState) -> list[SkillCall]:
    regions = sorted(state.regions())
    vocabulary = sorted(state.objects()) + regions + list(DIRECTIONS) + [a for a in ARMS if a not in regions]
    calls = []
    for name, skill in skills.items():
        choices = [[v for v in vocabulary if p.accepts(v, state)] for p in skill.params]
        for args in itertools.product(*choices):
            if len(set(args)) == len(args):  # nothing is placed on itself
                calls.append(SkillCall(name, tuple(args)))
    calls.append(DONE)
    return calls


def describe(skills: dict[str, Skill], call: SkillCall) -> str:
    if call == DONE:
        return "done"
    skill = skills[call.skill]
    return skill.describe(**dict(zip([p.name for p in skill.params], call.args, strict=True)))
