"""Small geometric value types shared by simulation and real drivers."""

from __future__ import annotations

import math
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


# -- rotations (quaternions x, y, z, w) -------------------------------------------


def quat_from_rpy(roll: float, pitch: float, yaw: float) -> Quat:
    """Rotation about fixed x by roll, then y by pitch, then z by yaw (as PyBullet's Euler)."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return (sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy, cr * cp * cy + sr * sp * sy)


def rpy_from_quat(q: Quat) -> tuple[float, float, float]:
    m = rotation_matrix(q)
    pitch = math.asin(max(-1.0, min(1.0, -m[2, 0])))
    return (math.atan2(m[2, 1], m[2, 2]), pitch, math.atan2(m[1, 0], m[0, 0]))


def rotation_matrix(q: Quat) -> np.ndarray:
    x, y, z, w = (float(v) for v in q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def quat_from_matrix(m: np.ndarray) -> Quat:
    """The unit quaternion (x, y, z, w, with w >= 0) of a rotation matrix."""
    m = np.asarray(m, dtype=float)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(trace + 1.0)
        q = ((m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4)
    else:
        i = int(np.argmax([m[0, 0], m[1, 1], m[2, 2]]))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * math.sqrt(max(1.0 + m[i, i] - m[j, j] - m[k, k], 1e-12))
        v = [0.0, 0.0, 0.0]
        v[i] = s / 4
        v[j] = (m[j, i] + m[i, j]) / s
        v[k] = (m[k, i] + m[i, k]) / s
        q = (v[0], v[1], v[2], (m[k, j] - m[j, k]) / s)
    arr = np.asarray(q) / np.linalg.norm(q)
    if arr[3] < 0:
        arr = -arr
    return tuple(float(v) for v in arr)  # type: ignore[return-value]
