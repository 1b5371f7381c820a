"""An Intel RealSense RGB-D camera behind the `Sensor` interface, through pyrealsense2.

The camera streams colour (RGB8) and depth (Z16) at one resolution and frame rate; every
read waits for the next frame set and aligns depth to the colour image with the SDK's
`rs.align`, so pixel (u, v) of `rgb` and of `depth` see the same point. Intrinsics come
from the device's colour stream profile (the pinhole part: RealSense colour streams are
delivered nearly undistorted, and the distortion model is left out of `CameraFrame`),
the depth scale from its depth sensor, and the camera's pose in the world from the launch
file's extrinsics (`robot.options.camera.extrinsics`), which `robollm calibrate-camera`
measures.

pyrealsense2 is imported only when a camera connects (the `realsense` extra), so launch
files check and tests run without it. Mistakes a user can fix (no camera plugged in, a
wrong serial, a resolution the camera cannot stream) are `UserError`s naming the key;
a camera that stops delivering frames mid-run is a `CameraError`, which stops the run.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from robollm.drivers.camera_options import CameraOptions
from robollm.drivers.camera_recording import CameraRecording
from robollm.errors import RobotError, UserError
from robollm.robot.sensors import CameraFrame, Sensor, SensorInfo

__all__ = ["CameraError", "RealSenseCamera", "load_sdk"]

log = logging.getLogger(__name__)

MISSING_FRAME_RETRIES = 3  # frame sets read before a missing colour or depth frame is an error


class CameraError(RobotError):
    """The camera stopped delivering usable frames during a run."""

    def __init__(self, camera: str, serial: str | None, message: str) -> None:
        self.camera = camera
        super().__init__(f"camera {camera!r} (serial {serial or '?'}): {message}; check its USB 3 "
                         "cable and that no other program is using it")


def load_sdk() -> Any:
    """Import pyrealsense2 only when a camera connects."""
    try:
        return importlib.import_module("pyrealsense2")
    except ImportError as e:
        raise UserError("the camera in robot.options.camera needs pyrealsense2 "
                        f"(pip install 'robollm[realsense]'; on Linux also libusb-1.0): {e}") from e


class RealSenseCamera(Sensor):
    """One RealSense camera: `connect()`, then `read()` aligned frames; see the module docstring."""

    def __init__(self, options: CameraOptions, source: str, *, sdk: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`source` is the launch file (for messages); `sdk` replaces the `pyrealsense2`
        module (tests pass a fake); `clock` gives the time stamped on frames (the robot's)."""
        super().__init__(SensorInfo(options.name, "camera", extra={
            "width": options.width, "height": options.height, "fps": options.fps,
            "device": "realsense", "serial": options.serial}))
        self.options = options
        self.source = source
        self.pose = options.extrinsics.pose()
        self.serial: str | None = options.serial
        self.intrinsics: tuple[float, float, float, float] | None = None
        self.depth_scale: float | None = None
        self._sdk = sdk
        self._clock = clock
        self._pipeline: Any = None
        self._align: Any = None

    @property
    def is_connected(self) -> bool:
        return self._pipeline is not None

    def _key(self, key: str = "") -> str:
        return f"{self.source}: key 'robot.options.camera{'.' + key if key else ''}'"

    def connect(self) -> None:
        """Find the camera, start both streams, read the intrinsics, let exposure settle."""
        if self._pipeline is not None:
            return
        rs = self._sdk if self._sdk is not None else load_sdk()
        self._sdk = rs
        context = rs.context()
        found = [str(d.get_info(rs.camera_info.serial_number)) for d in context.query_devices()]
        serial = self._choose(found)
        opts = self.options
        config = rs.config()
        config.enable_device(serial)
        config.enable_stream(rs.stream.depth, opts.width, opts.height, rs.format.z16, opts.fps)
        config.enable_stream(rs.stream.color, opts.width, opts.height, rs.format.rgb8, opts.fps)
        pipeline = rs.pipeline(context)
        try:
            profile = pipeline.start(config)
        except RuntimeError as e:
            raise UserError(f"{self._key()}: camera {serial} cannot stream depth and colour at "
                            f"{opts.width}x{opts.height}, {opts.fps} fps ({e}); check width, height "
                            "and fps against the modes of your camera (e.g. 640x480 or 1280x720 at "
                            "30 fps), that it is on a USB 3 port and that no other program is using "
                            "it") from None
        try:
            self.depth_scale = float(profile.get_device().first_depth_sensor().get_depth_scale())
            intr = profile.get_stream(rs.stream.color).as_video_stream_profile().get_intrinsics()
            self.intrinsics = (float(intr.fx), float(intr.fy), float(intr.ppx), float(intr.ppy))
            self._align = rs.align(rs.stream.color)
            self._pipeline, self.serial = pipeline, serial
            self.info.extra["serial"] = serial
            for _ in range(opts.warmup_frames):
                self._wait_for_frames()
        except BaseException as e:
            self._pipeline = None
            _stop_quietly(pipeline)
            if isinstance(e, RuntimeError) and not isinstance(e, RobotError):
                raise CameraError(self.name, serial, f"starting failed: {e}") from e
            raise

    def _choose(self, found: list[str]) -> str:
        wanted = self.options.serial
        if not found:
            raise UserError(f"{self._key()}: no RealSense camera is connected; plug it into a "
                            "USB 3 port (on Linux, install librealsense's udev rules) and try again")
        if wanted is None:
            if len(found) > 1:
                raise UserError(f"{self._key('serial')}: {len(found)} RealSense cameras are "
                                f"connected ({', '.join(found)}); name the one to use")
            return found[0]
        if wanted not in found:
            raise UserError(f"{self._key('serial')}: no camera with serial {wanted} is connected "
                            f"(connected: {', '.join(found)})")
        return wanted

    def disconnect(self) -> None:
        """Stop streaming; safe to repeat."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            _stop_quietly(pipeline)

    # -- frames ---------------------------------------------------------------------

    def _wait_for_frames(self) -> Any:
        timeout_ms = int(round(1000 * self.options.frame_timeout))
        try:
            return self._pipeline.wait_for_frames(timeout_ms)
        except RuntimeError as e:
            raise CameraError(self.name, self.serial,
                              f"no frame within {self.options.frame_timeout:g} s ({e})") from e

    def read_raw(self) -> tuple[np.ndarray, np.ndarray, float]:
        """The next aligned frame set as the device gives it: RGB uint8, depth uint16 in
        `depth_scale` units (0 = no reading), and the device's timestamp in ms."""
        if self._pipeline is None:
            raise RuntimeError(f"camera {self.name!r} is not connected; call connect() first")
        missing = ""
        for _ in range(MISSING_FRAME_RETRIES):
            aligned = self._align.process(self._wait_for_frames())
            color, depth = aligned.get_color_frame(), aligned.get_depth_frame()
            missing = " and ".join(w for w, f in (("colour", color), ("depth", depth)) if not f)
            if not missing:
                break
            log.warning("camera %r: a frame set without a %s frame", self.name, missing)
        else:
            raise CameraError(self.name, self.serial, f"{MISSING_FRAME_RETRIES} frame sets in a row "
                              f"came without a {missing} frame")
        rgb = np.array(np.asanyarray(color.get_data()), dtype=np.uint8, copy=True)
        raw = np.array(np.asanyarray(depth.get_data()), dtype=np.uint16, copy=True)
        expected = (self.options.height, self.options.width)
        if rgb.shape != (*expected, 3) or raw.shape != expected:
            raise CameraError(self.name, self.serial, f"frames of {rgb.shape} and {raw.shape}, "
                              f"expected {expected} pixels")
        return rgb, raw, float(color.get_timestamp())

    def read(self) -> CameraFrame:
        """The next frame: colour, depth in metres aligned to it (0 where the camera measured
        nothing), the device's intrinsics and the pose from the launch file."""
        rgb, raw, _ = self.read_raw()
        depth = raw.astype(np.float32) * np.float32(self.depth_scale)
        assert self.intrinsics is not None
        return CameraFrame(rgb, depth, None, {}, self.intrinsics, self.pose, self._clock())

    def record(self, count: int) -> CameraRecording:
        """`count` frames in the recording format of `robollm.drivers.camera_recording`."""
        frames = [self.read_raw() for _ in range(count)]
        pose = (*self.pose.position, *self.pose.orientation)
        assert self.intrinsics is not None and self.depth_scale is not None
        return CameraRecording(np.stack([f[0] for f in frames]), np.stack([f[1] for f in frames]),
                               self.depth_scale, self.intrinsics, np.array([f[2] for f in frames]),
                               self.serial or "", pose)


def _stop_quietly(pipeline: Any) -> None:
    try:
        pipeline.stop()
    except Exception as e:  # stopping is best effort: the device may already be gone
        log.warning("stopping the camera failed: %s", e)
