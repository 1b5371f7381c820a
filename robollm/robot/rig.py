"""The two-arm rig as the launch config describes it, shared by every driver."""

from __future__ import annotations

import math

from robollm.config import RobotConfig
from robollm.geometry import Box, Pose
from robollm.robot.arms import panda_arm
from robollm.robot.base import ArmSpec

ARM_NAMES = ("left", "right")


def yaw_quat(yaw: float) -> tuple[float, float, float, float]:
    return (0.0, 0.0, math.sin(yaw / 2.0), math.cos(yaw / 2.0))


def arm_specs(cfg: RobotConfig) -> dict[str, ArmSpec]:
    specs = {}
    for name in ARM_NAMES:
        arm = cfg.arms[name]
        base = Pose(tuple(arm.base), yaw_quat(arm.base_yaw))  # type: ignore[arg-type]
        workspace = Box(tuple(arm.workspace_low), tuple(arm.workspace_high))  # type: ignore[arg-type]
        specs[name] = panda_arm(name, base, workspace)
    return specs
