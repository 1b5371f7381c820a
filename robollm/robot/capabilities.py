"""What a driver may offer beyond the `Robot` interface, declared by type.

A simulator lays out scenes and knows the true state of the world; a real robot does
neither. Instead of probing a driver for attributes, a driver class derives from the
capabilities it has, and the session asks for them with `isinstance`. A launch file that
needs a capability its driver lacks fails with one line naming both (`require`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TypeVar

from robollm.errors import ConfigError
from robollm.world.predicates import Facts
from robollm.world.scene import SceneSpec
from robollm.world.state import SceneState

C = TypeVar("C")


class SceneLoader(ABC):
    """Lays out a scene itself (a simulator). Hardware has its scene on the table."""

    @abstractmethod
    def load_scene(self, scene: SceneSpec, seed: int) -> None: ...


class GroundTruth(ABC):
    """Knows the true scene: object identities, poses and what each hand holds."""

    @abstractmethod
    def true_scene(self) -> SceneState:
        """What eyes could see, read from the simulator; materials stay unknown."""


class GeometricFacts(ABC):
    """Judges success predicates from the world's own geometry and contacts.

    Where a driver lacks it (real hardware), success is judged from what the selected
    perception reports instead (`robollm.session.Session.facts`).
    """

    @abstractmethod
    def geometric_facts(self) -> Facts: ...


class MarkerHolder(ABC):
    """Puts a camera-calibration marker in a hand by itself (a simulator); on hardware a person does.

    The marker is a sphere of the given radius and colour whose centre sits `offset` metres
    beyond the grasp point along the hand's approach axis, and moves with the hand.
    """

    @abstractmethod
    def hold_marker(self, arm: str, radius: float, rgb: tuple[float, float, float],
                    offset: float = 0.0) -> None: ...

    @abstractmethod
    def drop_marker(self) -> None:
        """Take the marker away again."""


def require(robot: object, capability: type[C], driver: str, needed_by: str) -> C:
    if not isinstance(robot, capability):
        raise ConfigError(f"{needed_by} needs a driver that offers {capability.__name__} "
                          f"({(capability.__doc__ or '').strip().splitlines()[0].rstrip('.')}); "
                          f"the {driver!r} driver does not")
    return robot
