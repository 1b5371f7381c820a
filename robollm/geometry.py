"""Small geometric value types shared by simulation and real drivers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # x, y, z, w (PyBullet's order)

# Gripper pointing straight down, fingers closing along the world y axis.
TOP_DOWN: Quat = (1.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Pose:
    position: Vec3
    orientation: Quat = (0.0, 0.0, 0.0, 1.0)

    def offset(self, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0) -> Pose:
        x, y, z = self.position
        return Pose((x + dx, y + dy, z + dz), self.orientation)

    def distance_to(self, other: Pose) -> float:
        return float(np.linalg.norm(np.subtract(self.position, other.position)))


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in world coordinates."""

    low: Vec3
    high: Vec3

    def contains_xy(self, x: float, y: float, margin: float = 0.0) -> bool:
        return (
            self.low[0] - margin <= x <= self.high[0] + margin
            and self.low[1] - margin <= y <= self.high[1] + margin
        )

    @property
    def center(self) -> Vec3:
        return tuple((lo + hi) / 2 for lo, hi in zip(self.low, self.high, strict=True))  # type: ignore[return-value]

    @property
    def size(self) -> Vec3:
        return tuple(hi - lo for lo, hi in zip(self.low, self.high, strict=True))  # type: ignore[return-value]


def top_down(yaw: float = 0.0) -> Quat:
    """Gripper pointing down, rotated by `yaw` about the world z axis (fingers close along
    the rotated y axis)."""
    import math

    c, s = math.cos(yaw / 2.0), math.sin(yaw / 2.0)
    # q_z(yaw) * q_x(pi)
    return (c, s, 0.0, 0.0)
