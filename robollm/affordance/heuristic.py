"""`heuristic-v0`: what the skills themselves check before they move.

Preconditions (hold the object before placing it, hands free before picking),
reachability (which arm reaches which region, hand-overs through the middle), read from
each skill's own symbolic effect, and the geometry a skill checks on the perceived scene
before it moves (`Skill.scene_check`: a push with no table left or an object in its
way, an object fallen off the table), so the rule and the skill can never disagree. Its
answers are 0 or 1 (sensing the same cue twice is allowed but rarely useful).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from robollm.affordance.base import Affordance, AffordanceInput
from robollm.plan import SkillCall
from robollm.skill import Outcome

SENSING = {"knock": "sound", "touch": "touch", "weigh": "weight"}


@dataclass(frozen=True)
class HeuristicOptions:
    repeated_sensing: float = 0.05  # P for sensing a cue already gathered from that object


class HeuristicAffordance(Affordance):
    name = "heuristic (preconditions and reachability)"

    def __init__(self, options: HeuristicOptions | None = None) -> None:
        self.options = options or HeuristicOptions()

    def score(self, given: AffordanceInput, calls: Sequence[SkillCall]) -> list[float]:
        return self.score_with_arms(given, calls)[0]

    def score_with_arms(self, given: AffordanceInput,
                        calls: Sequence[SkillCall]) -> tuple[list[float], list[str | None]]:
        """The scores, and the arm each call would use (None where no arm can): a learned
        model builds its features on the same arm choice the skill makes."""
        state, out, arms = given.state, [], []
        for call in calls:
            if call.skill == "done":
                out.append(1.0)
                arms.append(None)
                continue
            skill = given.skills[call.skill]
            args = dict(zip([p.name for p in skill.params], call.args, strict=True))
            stated = None if skill.check_args(args, state) else skill.apply(state.copy(), **args)
            if stated is not None and stated.success and given.scene_current \
                    and skill.scene_check(given.scene, state, **args):
                stated = Outcome(False, arm=stated.arm)  # refused from the perceived scene
            if stated is None or not stated.success:
                out.append(0.0)
                arms.append(stated.arm if stated is not None else None)
                continue
            arms.append(stated.arm)
            cue = SENSING.get(call.skill)
            seen = state.sensed.get(call.args[0], set()) if cue else set()
            out.append(self.options.repeated_sensing if cue in seen else skill.affordance)
        return out, arms
