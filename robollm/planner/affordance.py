"""Affordances: how likely each skill call is to succeed from the current state.

`HeuristicAffordance` encodes what the skills themselves check before they move:
preconditions (hold the object before placing it, hands free before picking) and
reachability (which arm reaches which region, hand-overs through the middle). A
learned model plugs in behind the same interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from robollm.plan import SkillCall
from robollm.registry import Registry
from robollm.skills.base import Skill
from robollm.skills.symbolic import SymbolicState

SENSING = {"knock": "sound", "touch": "touch", "weigh": "weight"}
REPEATED_SENSING = 0.05  # sensing the same cue twice is allowed but rarely useful


class Affordance(ABC):
    name: str

    @abstractmethod
    def score(self, state: SymbolicState, calls: list[SkillCall], skills: dict[str, Skill]) -> list[float]:
        """P(success) of each call from `state`, in [0, 1]; `done` is always possible."""


class HeuristicAffordance(Affordance):
    name = "heuristic (preconditions and reachability)"

    def score(self, state: SymbolicState, calls: list[SkillCall], skills: dict[str, Skill]) -> list[float]:
        out = []
        for call in calls:
            if call.skill == "done":
                out.append(1.0)
                continue
            skill = skills[call.skill]
            args = dict(zip([p.name for p in skill.params], call.args, strict=True))
            if skill.check_args(args, state) or not skill.apply(state.copy(), **args).success:
                out.append(0.0)
                continue
            cue = SENSING.get(call.skill)
            seen = state.sensed.get(call.args[0], set()) if cue else set()
            out.append(REPEATED_SENSING if cue in seen else 1.0)
        return out


def affordance_registry() -> Registry[Affordance]:
    registry: Registry[Affordance] = Registry("affordance model")
    registry.register("heuristic-v0", "robollm.planner.affordance:HeuristicAffordance")
    return registry
