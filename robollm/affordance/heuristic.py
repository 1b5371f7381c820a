"""`heuristic-v0`: what the skills themselves check before they move.

Preconditions (hold the object before placing it, hands free before picking) and
reachability (which arm reaches which region, hand-overs through the middle), read from
each skill's own symbolic effect, so the rule and the skill can never disagree. Its
answers are 0 or 1 (sensing the same cue twice is allowed but rarely useful).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from robollm.affordance.base import Affordance, AffordanceInput
from robollm.plan import SkillCall

SENSING = {"knock": "sound", "touch": "touch", "weigh": "weight"}


@dataclass(frozen=True)
class HeuristicOptions:
    repeated_sensing: float = 0.05  # P for sensing a cue already gathered from that object


class HeuristicAffordance(Affordance):
    name = "heuristic (preconditions and reachability)"

    def __init__(self, options: HeuristicOptions | None = None) -> None:
        self.options = options or HeuristicOptions()

    def score(self, given: AffordanceInput, calls: Sequence[SkillCall]) -> list[float]:
        state, out = given.state, []
        for call in calls:
            if call.skill == "done":
                out.append(1.0)
                continue
            skill = given.skills[call.skill]
            args = dict(zip([p.name for p in skill.params], call.args, strict=True))
            if skill.check_args(args, state) or not skill.apply(state.copy(), **args).success:
                out.append(0.0)
                continue
            cue = SENSING.get(call.skill)
            seen = state.sensed.get(call.args[0], set()) if cue else set()
            out.append(self.options.repeated_sensing if cue in seen else 1.0)
        return out
