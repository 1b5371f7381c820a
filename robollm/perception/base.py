"""Perception: what the planner and skills know about the scene.

Every implementation returns the same `SceneState`, so the planner never asks where
its objects came from. The first implementation reads the simulator's ground truth
(`robollm.perception.ground_truth`, from a driver with the `GroundTruth` capability); camera-based perception plugs in
behind the same interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from robollm.config import LaunchConfig
from robollm.robot.sensors import CameraFrame
from robollm.world.state import SceneState


class Perception(ABC):
    name: str  # shown in every run's header, so results say what they were perceived with

    @abstractmethod
    def observe(self) -> SceneState:
        """A fresh look at the scene."""

    def report(self) -> str | None:
        """What the last look saw, in one line, where there is more to say than the scene
        (objects that matched no type, an empty table, a camera without depth)."""
        return None

    def confidence(self, name: str) -> float | None:
        """How sure recognition is of the object's type and colour (None: not a guess)."""
        return None

    def camera_name(self) -> str | None:
        """The camera it looks through, if any."""
        return None

    def last_image(self) -> CameraFrame | None:
        """The frame of the last look, if it looked through a camera."""
        return None

    @classmethod
    def check_config(cls, config: LaunchConfig) -> None:
        """Check the launch file's `perception` options and the files they name, before a
        run (`robollm check-config`); a perception without options has nothing to check."""
        return None
