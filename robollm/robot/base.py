"""The robot interface that skills, controllers and the planner talk to.

A robot is a set of named arms (here `left` and `right`) plus sensors. The simulated
rig and the real drivers implement the same class, so a launch config chooses the
driver and nothing above this layer changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np

from robollm.config import LaunchConfig
from robollm.errors import ConfigError
from robollm.geometry import Box, Pose
from robollm.robot.sensors import Sensor


@dataclass(frozen=True)
class ArmSpec:
    """Static facts about one arm: where it is mounted and what it may do."""

    name: str
    base: Pose
    joint_lower: tuple[float, ...]
    joint_upper: tuple[float, ...]
    max_velocity: tuple[float, ...]  # rad/s per joint
    max_torque: tuple[float, ...]  # N m per joint
    home: tuple[float, ...]  # joint configuration at rest
    workspace: Box  # where the gripper's grasp point may go
    gripper_max_width: float = 0.08
    gripper_max_force: float = 70.0

    @property
    def dof(self) -> int:
        return len(self.joint_lower)

    def clip_joints(self, joints: np.ndarray | tuple[float, ...]) -> tuple[float, ...]:
        q = np.clip(np.asarray(joints, dtype=float), self.joint_lower, self.joint_upper)
        return tuple(float(v) for v in q)


@dataclass(frozen=True)
class ArmState:
    joints: tuple[float, ...]
    velocities: tuple[float, ...]
    torques: tuple[float, ...]  # applied joint torques, N m
    ee_pose: Pose  # grasp point between the fingertips
    gripper_width: float  # metres between the fingers


@dataclass(frozen=True)
class ArmCommand:
    """Targets for one arm. `None` leaves that part as it is."""

    joints: tuple[float, ...] | None = None
    gripper_width: float | None = None
    gripper_force: float | None = None  # grasp force when closing, N


Action = dict[str, ArmCommand]


@dataclass(frozen=True)
class RobotObservation:
    arms: dict[str, ArmState]
    time: float


class Kinematics(ABC):
    """Forward and inverse kinematics of one arm model, in the world frame."""

    @abstractmethod
    def forward(self, arm: ArmSpec, joints: tuple[float, ...]) -> Pose: ...

    @abstractmethod
    def inverse(
        self, arm: ArmSpec, target: Pose, seed: tuple[float, ...]
    ) -> tuple[tuple[float, ...], float]:
        """Joint angles for `target` and the remaining position error in metres."""


class Robot(ABC):
    """connect / observe / send_action / disconnect, usable as a context manager."""

    arms: dict[str, ArmSpec]
    sensors: dict[str, Sensor]
    kinematics: Kinematics
    control_period: float  # seconds between two commands of a controller

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def disconnect(self) -> None:
        """Bring the robot to a safe stop and release it."""

    @property
    @abstractmethod
    def is_connected(self) -> bool: ...

    @abstractmethod
    def observe(self) -> RobotObservation: ...

    @abstractmethod
    def send_action(self, action: Action) -> Action:
        """Send targets and return what was actually sent after clipping to the limits."""

    @abstractmethod
    def wait(self, seconds: float) -> None:
        """Let `seconds` of robot time pass (simulation steps physics, hardware sleeps)."""

    @classmethod
    def check_config(cls, config: LaunchConfig) -> None:
        """Validate the launch file's `robot.options` for this driver, without connecting.

        A driver with options overrides this; one without refuses any, so an option that
        would be silently ignored is reported instead.
        """
        if config.robot.options:
            raise ConfigError(f"{config.source}: key 'robot.options': the {config.robot.driver!r} driver "
                              f"takes no options, got {', '.join(sorted(config.robot.options))}")

    def __enter__(self) -> Robot:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    def clip_action(self, action: Action) -> Action:
        """Joint and gripper limits, shared by every driver."""
        clipped: Action = {}
        for name, cmd in action.items():
            if name not in self.arms:
                raise KeyError(f"unknown arm {name!r}; this robot has {sorted(self.arms)}")
            spec = self.arms[name]
            joints = spec.clip_joints(cmd.joints) if cmd.joints is not None else None
            width = cmd.gripper_width
            if width is not None:
                width = float(min(max(width, 0.0), spec.gripper_max_width))
            force = cmd.gripper_force
            if force is not None:
                force = float(min(max(force, 0.0), spec.gripper_max_force))
            clipped[name] = replace(cmd, joints=joints, gripper_width=width, gripper_force=force)
        return clipped
