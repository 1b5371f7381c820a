"""`CameraOptions`: the `robot.options.camera` block of a launch file with a real camera.

Loaded with the robot's other options, strictly and without the camera's SDK, so that
`robollm check-config` catches a bad serial, resolution or extrinsics block anywhere.

The extrinsics are the camera's pose in the world frame, with the camera's optical axes
(x right, y down, z forward, as RealSense and OpenCV define them): `position` in metres
and either `orientation` (a unit quaternion x, y, z, w) or `rpy` (roll, pitch, yaw in
radians about the world's fixed x, y and z axes, applied in that order). `robollm
calibrate-camera` measures them and prints the block in this form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from robollm.errors import ConfigError
from robollm.geometry import Pose, Quat

__all__ = ["CameraOptions", "Extrinsics", "quat_from_rpy", "quat_from_matrix", "rpy_from_quat"]

UNIT_TOLERANCE = 1e-3  # how far a written quaternion's norm may be from 1 (rounding)


@dataclass
class Extrinsics:
    """Where the camera is: position and one of orientation / rpy (see the module docstring)."""

    position: list[float]
    orientation: list[float] | None = None  # x, y, z, w
    rpy: list[float] | None = None  # radians

    def pose(self) -> Pose:
        x, y, z = (float(v) for v in self.position)
        if self.orientation is not None:
            q = np.asarray(self.orientation, dtype=float)
            q = q / np.linalg.norm(q)
            return Pose((x, y, z), tuple(float(v) for v in q))  # type: ignore[arg-type]
        assert self.rpy is not None  # checked at load
        return Pose((x, y, z), quat_from_rpy(*self.rpy))


@dataclass
class CameraOptions:
    """One RGB-D camera on the robot (`robot.options.camera`)."""

    extrinsics: Extrinsics
    serial: str | None = None  # the camera's serial number (text); null: the only one connected
    name: str = "front_camera"  # the sensor's name, as the simulated rig names its table camera
    width: int = 640  # pixels of both streams; depth is aligned to colour
    height: int = 480
    fps: int = 30
    frame_timeout: float = 1.0  # s to wait for a frame before the camera counts as failed
    warmup_frames: int = 15  # frames dropped at start while auto-exposure settles

    def check(self, source: str, prefix: str = "robot.options.camera") -> None:
        def fail(key: str, expected: str, got: object) -> NoReturn:
            raise ConfigError(f"{source}: key '{prefix}.{key}' should be {expected}, got {got!r}")

        if self.serial is not None and not (self.serial.strip() and self.serial.isalnum()):
            fail("serial", "the camera's serial number as text, e.g. \"123622270224\" (or null)",
                 self.serial)
        if not self.name.strip():
            fail("name", "a sensor name such as front_camera", self.name)
        for key, low, high in (("width", 16, 4096), ("height", 16, 4096), ("fps", 1, 300)):
            value = getattr(self, key)
            if not low <= value <= high:
                fail(key, f"a whole number from {low} to {high}", value)
        if not (math.isfinite(self.frame_timeout) and 0 < self.frame_timeout <= 60):
            fail("frame_timeout", "in (0, 60] seconds", self.frame_timeout)
        if self.warmup_frames < 0:
            fail("warmup_frames", "0 or more", self.warmup_frames)
        check_extrinsics(self.extrinsics, source, f"{prefix}.extrinsics")


def check_extrinsics(ext: Extrinsics, source: str, prefix: str) -> None:
    """A position of 3 finite numbers and exactly one well-formed rotation."""

    def fail(key: str, expected: str, got: object) -> NoReturn:
        raise ConfigError(f"{source}: key '{prefix}.{key}' should be {expected}, got {got!r}")

    if len(ext.position) != 3 or not all(math.isfinite(v) for v in ext.position):
        fail("position", "3 finite numbers [x, y, z] in metres", ext.position)
    if (ext.orientation is None) == (ext.rpy is None):
        raise ConfigError(f"{source}: key '{prefix}' needs exactly one of 'orientation' "
                          "(quaternion [x, y, z, w]) and 'rpy' ([roll, pitch, yaw] in radians)")
    if ext.orientation is not None:
        q = ext.orientation
        if len(q) != 4 or not all(math.isfinite(v) for v in q):
            fail("orientation", "a quaternion of 4 finite numbers [x, y, z, w]", q)
        norm = math.sqrt(sum(v * v for v in q))
        if abs(norm - 1.0) > UNIT_TOLERANCE:
            fail("orientation", f"a unit quaternion [x, y, z, w] (its length is {norm:.4f})", q)
    elif ext.rpy is not None and (len(ext.rpy) != 3 or not all(math.isfinite(v) for v in ext.rpy)):
        fail("rpy", "3 finite angles [roll, pitch, yaw] in radians", ext.rpy)


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
