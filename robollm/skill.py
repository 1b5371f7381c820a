"""What every skill is: typed parameters, a language template, a motion and an effect.

`run` moves the robot through `Motion` (never the simulator) and reports an
`Outcome` from its own checks. `apply` states the same skill's effect on the
symbolic scene, with the same preconditions, for the symbolic executor and for
look-ahead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from robollm.robot.motion import Motion
from robollm.world.scene import CONTAINER_TYPES, SUPPORT_TYPES
from robollm.world.state import SceneState
from robollm.world.symbolic import ARMS, SymbolicState


@dataclass(frozen=True)
class Param:
    name: str
    # object, graspable, container, support, region, direction, two_handed, arm (left or
    # right: an arm, not the region of that name), or "type:<object type>" for exactly one
    # type (a learned skill accepts what it was trained on)
    kinds: tuple[str, ...]

    def accepts(self, value: str, state: SymbolicState) -> bool:
        if "arm" in self.kinds:
            return value in ARMS
        if value in state.region_names:
            return "region" in self.kinds
        if value in DIRECTIONS:
            return "direction" in self.kinds
        kind = state.types.get(value)
        if kind is None:
            return False
        return ("object" in self.kinds
                or ("graspable" in self.kinds and kind in GRASPABLE_TYPES)
                or ("container" in self.kinds and kind in CONTAINER_TYPES)
                or ("support" in self.kinds and kind in SUPPORT_TYPES)
                or ("two_handed" in self.kinds and kind in ("tray", "box"))
                or f"type:{kind}" in self.kinds)


GRASPABLE_TYPES = ("block", "cup")
DIRECTIONS = ("forward", "backward", "leftward", "rightward")


@dataclass
class Outcome:
    success: bool
    reason: str = ""
    arm: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fail(cls, reason: str, arm: str | None = None) -> Outcome:
        return cls(False, reason, arm)


@dataclass
class SkillContext:
    motion: Motion
    perceive: Callable[[], SceneState]  # a fresh look at the scene
    scene: SceneState  # the scene when the skill started

    def symbolic(self) -> SymbolicState:
        from robollm.world.symbolic import from_scene

        return from_scene(self.scene)


class Skill(ABC):
    name: ClassVar[str]
    template: ClassVar[str]  # e.g. "pick up the {obj}"
    params: ClassVar[tuple[Param, ...]]
    # P(success) when the preconditions hold: 1 for hand-written skills, whose
    # preconditions are their whole story; a learned skill's verified success rate.
    affordance: float = 1.0

    def describe(self, **args: str) -> str:
        return self.template.format(**{k: v.replace("_", " ") for k, v in args.items()})

    def check_args(self, args: dict[str, str], state: SymbolicState) -> str:
        """Empty when the arguments fit this scene, else why not (a user-facing reason)."""
        names = [p.name for p in self.params]
        if sorted(args) != sorted(names):
            return f"{self.name} takes {', '.join(names) or 'no arguments'}"
        for p in self.params:
            value = args[p.name]
            if not p.accepts(value, state):
                if value not in state.types and value not in state.region_names and value not in DIRECTIONS:
                    return "object not found"
                return f"{value} is not a valid {p.name} for {self.name}"
        return ""

    def scene_check(self, scene: SceneState, state: SymbolicState, **args: str) -> str:
        """Empty when nothing in the perceived scene stops the call before the robot moves,
        else the reason the skill would give (a push with no table left, an object in
        the stroke's way). Only geometry the skill itself checks from perception belongs
        here: the affordance rules refuse such calls, as the skill would. Every skill
        refuses an object that has fallen off the table: no arm reaches below it."""
        from robollm.world.geometric import on_table, table_box

        if not scene.regions:
            return ""
        table = table_box(scene.regions)
        for value in args.values():
            o = scene.objects.get(value)
            if o is not None and scene.holder(value) is None and not on_table(o, table):
                return f"the {value.replace('_', ' ')} has fallen off the table"
        return ""

    @abstractmethod
    def run(self, ctx: SkillContext, **args: str) -> Outcome: ...

    @abstractmethod
    def apply(self, state: SymbolicState, **args: str) -> Outcome:
        """Check preconditions on `state` and, if they hold, change it as the skill would."""
