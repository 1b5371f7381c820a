"""The affordance interface: P(success) of skill calls from the perceived scene.

SayCan multiplies the language model's "is this useful?" by "can I do this from here?".
A model answers the second for a whole step at once (one batch of calls), and sees
everything perception knows: the perceived scene (poses, sizes, what each hand holds,
sensed evidence) as well as the symbolic relations read off it, so a learned model has
an observation to learn from.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from robollm.plan import SkillCall
from robollm.skill import Skill
from robollm.world.state import SceneState
from robollm.world.symbolic import SymbolicState


@dataclass(frozen=True)
class AffordanceInput:
    """What an affordance model may look at for one planner step."""

    scene: SceneState  # as perceived now
    state: SymbolicState  # relations, what was sensed, what the hands hold
    skills: Mapping[str, Skill]  # the skill library, by name
    # Calls that failed earlier in this episode, each with the scene it was tried from:
    # a model can tell a retry from an unchanged scene from one after the scene changed.
    failed: tuple[tuple[SkillCall, SceneState], ...] = ()
    # False where the scene is not looked at again after each call (the symbolic
    # executor: only the relations follow the plan), so its geometry may be out of date
    # and no call is refused on it.
    scene_current: bool = True


class Affordance(ABC):
    name: str  # shown in every run's header

    @abstractmethod
    def score(self, given: AffordanceInput, calls: Sequence[SkillCall]) -> list[float]:
        """P(success) of each call, in [0, 1]; `done` is always possible (1.0)."""
