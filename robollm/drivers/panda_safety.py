"""Limit checks that every command to the real Panda arms passes before it leaves the process.

The checks are plain functions of an `ArmSpec`, the kinematics and a few numbers, so they
can be tested without a robot and reused by any other driver that wants the same rules.
The policy is: small excursions are clipped (as `Robot.clip_action` does), anything that
looks like a bug in the caller (a target well outside the joint limits, a jump of more than
`max_step`, a grasp point outside the workspace, a non-finite number) is refused with a
`SafetyError`, and the caller's command is then not sent at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from robollm.errors import RobotError
from robollm.geometry import Box, Vec3
from robollm.robot.base import ArmSpec, Kinematics


class SafetyError(RobotError):
    """A command refused by the driver's limit checks; nothing of it was sent to the robot."""


@dataclass(frozen=True)
class SafetyLimits:
    """The numbers behind the checks, taken from the driver's options."""

    speed_scale: float  # fraction of each joint's velocity limit the setpoint may move at
    max_step: float  # rad: largest change of any joint between two commands
    joint_margin: float  # rad: how far outside the joint limits a target is still clipped
    workspace_margin: float  # m: how far inside the workspace faces the grasp point must stay
    path_resolution: float  # rad: spacing of the workspace checks along a joint path


def check_joints(
    spec: ArmSpec, joints: tuple[float, ...] | list[float], limits: SafetyLimits
) -> tuple[float, ...]:
    """Clip a joint target to the limits, or refuse it if it is far outside them.

    A target a hair outside the limits comes from IK rounding and is clipped like the
    simulator does; one further out than `joint_margin` means the caller computed
    something wrong, and moving to the clipped value would not be what it asked for.
    """
    q = np.asarray(joints, dtype=float)
    if q.shape != (spec.dof,):
        raise SafetyError(
            f"arm {spec.name!r}: a joint target needs {spec.dof} values, got {len(q)}"
        )
    if not np.all(np.isfinite(q)):
        raise SafetyError(f"arm {spec.name!r}: joint target {tuple(q)} is not finite")
    lower = np.asarray(spec.joint_lower)
    upper = np.asarray(spec.joint_upper)
    excess = np.maximum(lower - q, q - upper)
    worst = int(np.argmax(excess))
    if excess[worst] > limits.joint_margin:
        raise SafetyError(
            f"arm {spec.name!r}: joint {worst + 1} target {q[worst]:.4f} rad is "
            f"{excess[worst]:.4f} rad outside its limits [{lower[worst]:.4f}, "
            f"{upper[worst]:.4f}] (more than joint_margin {limits.joint_margin} rad)"
        )
    return spec.clip_joints(q)


def check_step(
    spec: ArmSpec,
    previous: tuple[float, ...],
    target: tuple[float, ...],
    limits: SafetyLimits,
) -> None:
    """Refuse a target that jumps further than `max_step` from the previous one.

    Streaming controllers move in small steps; a large jump is usually an IK solution
    that flipped to another branch, and the straight joint-space path to it can sweep
    the arm through places no one checked.
    """
    delta = np.abs(np.subtract(target, previous))
    worst = int(np.argmax(delta))
    if delta[worst] > limits.max_step:
        raise SafetyError(
            f"arm {spec.name!r}: joint {worst + 1} would jump {delta[worst]:.3f} rad in one "
            f"command (max_step is {limits.max_step} rad); send intermediate targets"
        )


def inside(box: Box, point: Vec3, margin: float = 0.0) -> bool:
    """Whether `point` lies in `box` shrunk by `margin` on every face."""
    return all(
        lo + margin <= p <= hi - margin for p, lo, hi in zip(point, box.low, box.high, strict=True)
    )


def check_workspace(
    spec: ArmSpec,
    kinematics: Kinematics,
    start: tuple[float, ...],
    target: tuple[float, ...],
    limits: SafetyLimits,
) -> None:
    """Refuse a target whose grasp point, or the straight joint path to it, leaves the workspace.

    The driver moves the setpoint along the straight joint-space line from `start`, so
    points along that line are checked too. If the arm starts outside the workspace (after
    hand guiding, say) only the target is checked, so that it can be brought back in.
    """
    margin = limits.workspace_margin
    start_inside = inside(spec.workspace, kinematics.forward(spec, start).position, margin)
    span = float(np.max(np.abs(np.subtract(target, start)))) if start_inside else 0.0
    steps = max(1, math.ceil(span / limits.path_resolution))
    a, b = np.asarray(start, dtype=float), np.asarray(target, dtype=float)
    for i in range(1, steps + 1):
        q = target if i == steps else tuple(float(v) for v in a + (b - a) * (i / steps))
        position = kinematics.forward(spec, q).position
        if not inside(spec.workspace, position, margin):
            where = "target" if i == steps else f"path point {i}/{steps} towards the target"
            x, y, z = position
            raise SafetyError(
                f"arm {spec.name!r}: the grasp point of the {where} ({x:.3f}, {y:.3f}, "
                f"{z:.3f}) lies outside the workspace {spec.workspace.low}..{spec.workspace.high}"
                + (f" shrunk by {margin} m" if margin else "")
            )


def check_gripper(
    spec: ArmSpec, width: float | None, force: float | None
) -> tuple[float | None, float | None]:
    """Clip a gripper width and force to the hand's range; refuse values that are not numbers."""
    for name, value in (("gripper_width", width), ("gripper_force", force)):
        if value is not None and not math.isfinite(value):
            raise SafetyError(f"arm {spec.name!r}: {name} {value!r} is not finite")
    if width is not None:
        width = float(min(max(width, 0.0), spec.gripper_max_width))
    if force is not None:
        force = float(min(max(force, 0.0), spec.gripper_max_force))
    return width, force


def step_toward(
    spec: ArmSpec,
    setpoint: tuple[float, ...],
    goal: tuple[float, ...],
    speed_scale: float,
    dt: float,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Move a setpoint towards its goal at no more than `speed_scale` of the velocity limits.

    All joints are scaled by the same factor, so the setpoint stays on the straight
    joint-space line that `check_workspace` checked. Returns the new setpoint and its
    velocity (zero once it has arrived), the latter a feed-forward for the controller.
    """
    still = (0.0,) * spec.dof
    if dt <= 0.0:
        return tuple(setpoint), still
    a = np.asarray(setpoint, dtype=float)
    delta = np.asarray(goal, dtype=float) - a
    moving = np.abs(delta) > 0.0
    if not np.any(moving):
        return tuple(goal), still
    allowed = speed_scale * np.asarray(spec.max_velocity) * dt
    scale = float(np.min(allowed[moving] / np.abs(delta[moving])))
    if scale >= 1.0:
        return tuple(float(v) for v in goal), still
    return (
        tuple(float(v) for v in a + delta * scale),
        tuple(float(v) for v in delta * scale / dt),
    )
