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
from robollm.geometry import Pose, quat_from_rpy

__all__ = ["CameraOptions", "Extrinsics", "check_extrinsics"]

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
    name: str = "table_camera"  # the sensor's name; camera perception looks through it by name
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
            fail("name", "a sensor name such as table_camera", self.name)
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
