"""The arm model of the rig: Franka Emika Panda, 7 joints, parallel-jaw hand.

Joint limits, velocity and torque limits are Franka's published figures (the same
numbers as the URDF that ships with pybullet_data). The simulated rig and the real
driver both build their `ArmSpec`s here, so both enforce the same limits.
"""

from __future__ import annotations

from pathlib import Path

from robollm.geometry import Box, Pose
from robollm.robot.base import ArmSpec

PANDA_JOINT_LOWER = (-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973)
PANDA_JOINT_UPPER = (2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973)
PANDA_MAX_VELOCITY = (2.175, 2.175, 2.175, 2.175, 2.61, 2.61, 2.61)
PANDA_MAX_TORQUE = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
PANDA_HOME = (0.0, -0.55, 0.0, -2.4, 0.0, 1.85, 0.785)
PANDA_GRIPPER_MAX_WIDTH = 0.08
PANDA_GRIPPER_MAX_FORCE = 70.0  # continuous grasp force, N


def panda_urdf() -> Path:
    import pybullet_data

    return Path(pybullet_data.getDataPath()) / "franka_panda" / "panda.urdf"


def panda_arm(name: str, base: Pose, workspace: Box) -> ArmSpec:
    return ArmSpec(
        name=name,
        base=base,
        joint_lower=PANDA_JOINT_LOWER,
        joint_upper=PANDA_JOINT_UPPER,
        max_velocity=PANDA_MAX_VELOCITY,
        max_torque=PANDA_MAX_TORQUE,
        home=PANDA_HOME,
        workspace=workspace,
        gripper_max_width=PANDA_GRIPPER_MAX_WIDTH,
        gripper_max_force=PANDA_GRIPPER_MAX_FORCE,
    )
