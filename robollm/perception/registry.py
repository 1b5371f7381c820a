"""The perception sources, by versioned name (`perception` in a launch file).

Each factory is called as `factory(robot=..., config=..., options=...)` once the
robot is set up, and returns a `Perception`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robollm.registry import Registry

if TYPE_CHECKING:  # the registry names entry points only; nothing is imported
    from robollm.perception.base import Perception


def register_builtin(registry: Registry[Perception]) -> None:
    registry.register("ground_truth-v0", "robollm.perception.ground_truth:GroundTruthPerception")
    registry.register("clip-v0", "robollm.perception.clip:ClipPerception",
                      options="robollm.perception.clip:ClipOptions")


def perception_registry() -> Registry[Perception]:
    registry: Registry[Perception] = Registry("perception")
    register_builtin(registry)
    return registry
