"""Robot drivers: the simulated rig and real hardware behind one `Robot` interface.

Every driver is a factory `(config: LaunchConfig) -> Robot`, registered by name and
chosen by `robot.driver` in the launch file.
"""

from __future__ import annotations

from robollm.registry import Registry
from robollm.robot.base import Robot


def register_builtin(registry: Registry[Robot]) -> None:
    registry.register("pybullet-v0", "robollm.sim.robot:PyBulletRobot")
    registry.register("panda-v0", "robollm.drivers.panda:PandaBimanual")


def robot_registry() -> Registry[Robot]:
    registry: Registry[Robot] = Registry("robot driver")
    register_builtin(registry)
    return registry
