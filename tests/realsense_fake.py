"""A fake of pyrealsense2's lowest level that serves frames from camera recordings.

Classes are named and shaped like the SDK's (`context`, `pipeline`, `config`, `align`,
`pipeline_profile`, frames, intrinsics); every call is recorded with its arguments, and
errors are injected per (serial, "class.method"). Each connected "device" plays one
`CameraRecording` in a loop. The depth in an unaligned frame set is deliberately not
the recorded one (a depth sensor sees from beside the colour sensor), so a reader that
skips `align.process` gets visibly wrong depth.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from robollm.drivers.camera_recording import CameraRecording

stream = SimpleNamespace(depth="stream.depth", color="stream.color")
format = SimpleNamespace(z16="format.z16", rgb8="format.rgb8")  # noqa: A001 - the SDK's name
camera_info = SimpleNamespace(serial_number="camera_info.serial_number", name="camera_info.name")
UNALIGNED_SHIFT = 7  # pixels the depth sensor's own view is offset by


@dataclass
class Call:
    serial: str | None
    name: str
    args: tuple[Any, ...]


@dataclass
class RSRecorder:
    devices: dict[str, CameraRecording] = field(default_factory=dict)  # serial -> what it sees
    calls: list[Call] = field(default_factory=list)
    failures: dict[tuple[str | None, str], Exception] = field(default_factory=dict)
    missing_depth: set[int] = field(default_factory=set)  # frame numbers served without depth
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, serial: str | None, name: str, *args: Any) -> None:
        with self.lock:
            self.calls.append(Call(serial, name, args))
        error = self.failures.get((serial, name))
        if error is not None:
            raise error

    def named(self, name: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.name == name]


class FakeDevice:
    rec: RSRecorder

    def __init__(self, serial: str) -> None:
        self.serial = serial

    def get_info(self, info: Any) -> str:
        self.rec.record(self.serial, "device.get_info", info)
        return self.serial if info == camera_info.serial_number else "Intel RealSense D435 (fake)"

    def first_depth_sensor(self) -> FakeDepthSensor:
        return FakeDepthSensor(self.rec.devices[self.serial].depth_scale)

    def __bool__(self) -> bool:
        return True


class FakeDepthSensor:
    def __init__(self, scale: float) -> None:
        self.scale = scale

    def get_depth_scale(self) -> float:
        return self.scale


class FakeContext:
    rec: RSRecorder

    def query_devices(self) -> list[FakeDevice]:
        self.rec.record(None, "context.query_devices")
        return [_device(self.rec, s) for s in self.rec.devices]


class FakeConfig:
    rec: RSRecorder

    def __init__(self) -> None:
        self.serial: str | None = None
        self.streams: dict[str, tuple[int, int, str, int]] = {}

    def enable_device(self, serial: str) -> None:
        self.rec.record(serial, "config.enable_device", serial)
        self.serial = serial

    def enable_stream(self, stream_type: Any, width: int, height: int, format: Any, framerate: int) -> None:  # noqa: A002
        self.rec.record(self.serial, "config.enable_stream", stream_type, width, height, format, framerate)
        self.streams[stream_type] = (width, height, format, framerate)


@dataclass
class FakeIntrinsics:
    width: int
    height: int
    ppx: float
    ppy: float
    fx: float
    fy: float
    model: str = "distortion.brown_conrady"
    coeffs: list[float] = field(default_factory=lambda: [0.0] * 5)


class FakeStreamProfile:
    def __init__(self, recording: CameraRecording) -> None:
        self.recording = recording

    def as_video_stream_profile(self) -> FakeStreamProfile:
        return self

    def get_intrinsics(self) -> FakeIntrinsics:
        fx, fy, cx, cy = self.recording.intrinsics
        w, h = self.recording.size
        return FakeIntrinsics(w, h, cx, cy, fx, fy)


class FakeProfile:
    def __init__(self, device: FakeDevice) -> None:
        self.device = device

    def get_device(self) -> FakeDevice:
        return self.device

    def get_stream(self, stream_type: Any, stream_index: int = -1) -> FakeStreamProfile:
        return FakeStreamProfile(self.device.rec.devices[self.device.serial])


class FakeFrame:
    def __init__(self, data: np.ndarray | None, timestamp: float) -> None:
        self.data, self.timestamp = data, timestamp

    def get_data(self) -> np.ndarray:
        assert self.data is not None, "get_data on an empty frame"
        return self.data

    def get_timestamp(self) -> float:
        return self.timestamp

    def __bool__(self) -> bool:
        return self.data is not None


class FakeFrameset:
    def __init__(self, recording: CameraRecording, number: int, *, aligned: bool, depth: bool) -> None:
        self.recording, self.number, self.aligned, self.has_depth = recording, number, aligned, depth

    def _index(self) -> int:
        return self.number % len(self.recording)

    def get_color_frame(self) -> FakeFrame:
        i = self._index()
        return FakeFrame(self.recording.color[i], float(self.recording.timestamps[i]))

    def get_depth_frame(self) -> FakeFrame:
        i = self._index()
        if not self.has_depth:
            return FakeFrame(None, 0.0)
        depth = self.recording.depth[i]
        if not self.aligned:
            depth = np.roll(depth, UNALIGNED_SHIFT, axis=1)
        return FakeFrame(depth, float(self.recording.timestamps[i]))


class FakePipeline:
    rec: RSRecorder

    def __init__(self, ctx: Any = None) -> None:
        self.rec.record(None, "pipeline.__init__")
        self.serial: str | None = None
        self.frames = 0

    def start(self, config: FakeConfig) -> FakeProfile:
        self.rec.record(config.serial, "pipeline.start", config)
        if config.serial not in self.rec.devices:
            raise RuntimeError("No device connected")
        recording = self.rec.devices[config.serial]
        w, h = recording.size
        wanted = {stream.depth: format.z16, stream.color: format.rgb8}
        for kind, fmt in wanted.items():
            got = config.streams.get(kind)
            if got is None or got[:3] != (w, h, fmt) or got[3] not in (6, 15, 30):
                raise RuntimeError("Couldn't resolve requests")
        self.serial = config.serial
        return FakeProfile(_device(self.rec, config.serial))

    def wait_for_frames(self, timeout_ms: int = 5000) -> FakeFrameset:
        self.rec.record(self.serial, "pipeline.wait_for_frames", timeout_ms)
        if self.serial is None:
            raise RuntimeError("wait_for_frames cannot be called before start()")
        number = self.frames
        self.frames += 1
        return FakeFrameset(self.rec.devices[self.serial], number, aligned=False,
                            depth=number not in self.rec.missing_depth)

    def stop(self) -> None:
        self.rec.record(self.serial, "pipeline.stop")
        if self.serial is None:
            raise RuntimeError("stop() cannot be called before start()")
        self.serial = None


class FakeAlign:
    rec: RSRecorder

    def __init__(self, align_to: Any) -> None:
        self.rec.record(None, "align.__init__", align_to)
        self.align_to = align_to

    def process(self, frames: FakeFrameset) -> FakeFrameset:
        self.rec.record(None, "align.process")
        assert self.align_to == stream.color
        return FakeFrameset(frames.recording, frames.number, aligned=True, depth=frames.has_depth)


def _device(rec: RSRecorder, serial: str) -> FakeDevice:
    return type("device", (FakeDevice,), {"rec": rec})(serial)


FAKES = {"context": FakeContext, "config": FakeConfig, "pipeline": FakePipeline, "align": FakeAlign}


def fake_realsense(rec: RSRecorder) -> SimpleNamespace:
    """A stand-in for the `pyrealsense2` module whose classes all report to `rec`."""

    def bound(cls: type, name: str) -> type:
        return type(name, (cls,), {"rec": rec})

    return SimpleNamespace(
        context=bound(FakeContext, "context"), config=bound(FakeConfig, "config"),
        pipeline=bound(FakePipeline, "pipeline"), align=bound(FakeAlign, "align"),
        stream=stream, format=format, camera_info=camera_info,
    )


def sim_recording(scene: str = "default", seed: int = 0, width: int = 640, height: int = 480,
                  frames: int = 2, serial: str = "123622270224", spec=None):
    """Frames of a simulated camera over a scene, as a RealSense would deliver them, and the
    true scene (names, poses) they show. The camera is the rig's front camera, or one placed
    as `spec` (a `CameraSpec`) says."""
    from robollm.config import load_config
    from robollm.sim.robot import PyBulletRobot
    from robollm.sim.sensors import SimCamera
    from robollm.world.scene import load_scene

    robot = PyBulletRobot(load_config())
    try:
        robot.load_scene(load_scene(scene), seed)
        robot.connect()
        robot.wait(0.3)
        camera = robot.sensors["front_camera"] if spec is None else SimCamera(
            "recorded", robot.world, spec, width, height)
        shots = []
        for _ in range(frames):
            shots.append(camera.read(width, height))
            robot.wait(1 / 30)
        truth = robot.true_scene()
    finally:
        robot.disconnect()
    from robollm.drivers.camera_recording import recording_from_frames

    return recording_from_frames(shots, serial=serial), shots, truth
