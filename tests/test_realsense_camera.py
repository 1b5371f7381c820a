"""The RealSense camera driver, against a fake of pyrealsense2's lowest level.

The fake (tests/realsense_fake.py) records every SDK call, injects errors and plays
frames recorded from simulator renders, so the driver's conversions (alignment, depth
units, intrinsics, the pose from the launch file) are checked against known geometry.
"""

from __future__ import annotations

import inspect
import logging

import numpy as np
import pytest
from realsense_fake import FAKES, UNALIGNED_SHIFT, RSRecorder, fake_realsense, sim_recording

from robollm.drivers.camera_options import CameraOptions, Extrinsics
from robollm.drivers.camera_recording import load_recording, recording_from_frames
from robollm.drivers.realsense import CameraError, RealSenseCamera
from robollm.errors import RobotError, UserError
from robollm.geometry import Pose
from robollm.robot.sensors import CameraFrame, Sensor

SERIAL = "123622270224"
SOURCE = "launch/test.yaml"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A default scene rendered by the simulated front camera, saved and read back."""
    recording, shots, truth = sim_recording(width=320, height=240, serial=SERIAL)
    path = tmp_path_factory.mktemp("rec") / "frames.npz"
    recording.save(path)
    return load_recording(path), shots, truth


def options(recording, **changes) -> CameraOptions:
    pose = Pose(tuple(recording.pose[:3]), tuple(recording.pose[3:]))
    values = dict(serial=SERIAL, width=recording.size[0], height=recording.size[1], fps=30,
                  warmup_frames=2, extrinsics=Extrinsics(list(pose.position), list(pose.orientation)))
    values.update(changes)
    return CameraOptions(**values)


@pytest.fixture
def rec(recorded) -> RSRecorder:
    return RSRecorder(devices={SERIAL: recorded[0]})


def camera_for(rec: RSRecorder, recording, **changes) -> RealSenseCamera:
    return RealSenseCamera(options(recording, **changes), SOURCE, sdk=fake_realsense(rec),
                           clock=lambda: 12.5)


def test_connect_asks_the_device_for_aligned_colour_and_depth(rec, recorded) -> None:
    recording = recorded[0]
    camera = camera_for(rec, recording)
    assert isinstance(camera, Sensor) and camera.info.kind == "camera"
    assert camera.name == "table_camera"
    camera.connect()
    w, h = recording.size
    assert [c.args for c in rec.named("config.enable_device")] == [(SERIAL,)]
    assert [c.args for c in rec.named("config.enable_stream")] == [
        ("stream.depth", w, h, "format.z16", 30), ("stream.color", w, h, "format.rgb8", 30)]
    assert [c.args for c in rec.named("align.__init__")] == [("stream.color",)]
    assert len(rec.named("pipeline.wait_for_frames")) == 2  # the warm-up frames
    assert camera.intrinsics == pytest.approx(recording.intrinsics)
    assert camera.depth_scale == pytest.approx(0.001)
    camera.disconnect()
    camera.disconnect()
    assert len(rec.named("pipeline.stop")) == 1


def test_frames_are_the_recorded_ones_in_metres(rec, recorded) -> None:
    recording, shots, _ = recorded
    camera = camera_for(rec, recording, warmup_frames=0)
    camera.connect()
    frame = camera.read()
    assert isinstance(frame, CameraFrame)
    assert frame.rgb.dtype == np.uint8 and frame.rgb.shape == (240, 320, 3)
    assert frame.depth.dtype == np.float32 and frame.depth.shape == (240, 320)
    assert np.array_equal(frame.rgb, shots[0].rgb)
    # millimetre units, as the device gives them: within half a unit of the render
    assert np.abs(frame.depth - shots[0].depth).max() <= 0.0005 + 1e-6
    assert frame.segmentation is None and frame.labels == {}
    assert frame.intrinsics == pytest.approx(shots[0].intrinsics)
    assert frame.pose.position == pytest.approx(shots[0].pose.position)
    assert frame.timestamp == 12.5
    assert len(rec.named("align.process")) == 1
    second = camera.read()
    assert np.array_equal(second.rgb, shots[1].rgb)  # the next frame, not the same one again
    camera.disconnect()


def test_depth_comes_from_the_aligned_frame_set(rec, recorded) -> None:
    recording = recorded[0]
    camera = camera_for(rec, recording, warmup_frames=0)
    camera.connect()
    depth = camera.read().depth
    raw = recording.depth_m(0)
    assert np.array_equal(depth, raw)
    assert not np.array_equal(depth, np.roll(raw, UNALIGNED_SHIFT, axis=1))


def test_a_pixel_deprojects_onto_the_object_it_shows(rec, recorded) -> None:
    """Intrinsics, depth along the optical axis and the pose together put the red block's
    pixels where the simulator has the block."""
    recording, shots, truth = recorded
    camera = camera_for(rec, recording, warmup_frames=0)
    camera.connect()
    frame = camera.read()
    shot = shots[0]
    ids = [i for i, name in shot.labels.items() if name == "red_block"]
    v, u = np.nonzero(shot.segmentation == ids[0])
    fx, fy, cx, cy = frame.intrinsics
    z = frame.depth[v, u]
    cam = np.stack([(u + 0.5 - cx) * z / fx, (v + 0.5 - cy) * z / fy, z], axis=1)
    from robollm.geometry import rotation_matrix

    world = cam @ rotation_matrix(frame.pose.orientation).T + np.asarray(frame.pose.position)
    block = truth.objects["red_block"]
    centre = np.asarray(block.pose.position)
    half = block.size / 2 + 0.004
    assert np.all(np.abs(world[:, :2] - centre[:2]) <= half)  # every pixel on the block
    assert world[:, 2].max() == pytest.approx(centre[2] + block.height, abs=0.004)  # its top


def test_no_camera_connected_is_a_user_error(recorded) -> None:
    rec = RSRecorder()
    camera = camera_for(rec, recorded[0])
    with pytest.raises(UserError, match=r"launch/test.yaml: key 'robot.options.camera': no RealSense camera"):
        camera.connect()
    assert not rec.named("pipeline.start")


def test_a_wrong_serial_names_the_key_and_the_cameras_there(rec, recorded) -> None:
    camera = camera_for(rec, recorded[0], serial="999")
    with pytest.raises(UserError, match=rf"'robot.options.camera.serial': no camera with serial 999 .*{SERIAL}"):
        camera.connect()
    assert not rec.named("pipeline.start")


def test_two_cameras_need_a_serial(recorded) -> None:
    rec = RSRecorder(devices={SERIAL: recorded[0], "111": recorded[0]})
    with pytest.raises(UserError, match="'robot.options.camera.serial': 2 RealSense cameras"):
        camera_for(rec, recorded[0], serial=None).connect()
    camera = camera_for(rec, recorded[0], serial="111", warmup_frames=0)
    camera.connect()
    assert [c.args for c in rec.named("config.enable_device")] == [("111",)]


def test_a_mode_the_camera_cannot_stream_is_a_user_error(rec, recorded) -> None:
    camera = camera_for(rec, recorded[0], width=1920, height=1080)
    with pytest.raises(UserError, match="cannot stream depth and colour at 1920x1080, 30 fps .*width, height and fps"):
        camera.connect()
    assert not camera.is_connected


def test_a_frame_timeout_stops_the_run(rec, recorded) -> None:
    camera = camera_for(rec, recorded[0], warmup_frames=0, frame_timeout=0.25)
    camera.connect()
    rec.failures[(SERIAL, "pipeline.wait_for_frames")] = RuntimeError("Frame didn't arrive within 250")
    with pytest.raises(CameraError, match=r"'table_camera' \(serial 123622270224\): no frame within 0.25 s") as err:
        camera.read()
    assert isinstance(err.value, RobotError)
    assert rec.named("pipeline.wait_for_frames")[-1].args == (250,)


def test_a_timeout_while_warming_up_stops_the_stream(rec, recorded) -> None:
    rec.failures[(SERIAL, "pipeline.wait_for_frames")] = RuntimeError("Frame didn't arrive within 1000")
    camera = camera_for(rec, recorded[0])
    with pytest.raises(CameraError, match="no frame within 1 s"):
        camera.connect()
    assert not camera.is_connected
    assert len(rec.named("pipeline.stop")) == 1


def test_a_missing_depth_frame_is_skipped_then_reported(rec, recorded, caplog) -> None:
    camera = camera_for(rec, recorded[0], warmup_frames=0)
    camera.connect()
    rec.missing_depth = {0}
    with caplog.at_level(logging.WARNING):
        frame = camera.read()
    assert "without a depth frame" in caplog.text
    assert np.array_equal(frame.rgb, recorded[0].color[1])  # the next complete frame set
    rec.missing_depth = set(range(100))
    with pytest.raises(CameraError, match="3 frame sets in a row came without a depth frame"):
        camera.read()


def test_reading_before_connect_is_a_programming_error(rec, recorded) -> None:
    with pytest.raises(RuntimeError, match="not connected"):
        camera_for(rec, recorded[0]).read()


def test_record_writes_the_documented_format(rec, recorded, tmp_path) -> None:
    camera = camera_for(rec, recorded[0], warmup_frames=0)
    camera.connect()
    camera.record(3).save(tmp_path / "again.npz")
    again = load_recording(tmp_path / "again.npz")
    assert len(again) == 3 and again.serial == SERIAL
    assert np.array_equal(again.depth[2], recorded[0].depth[0])  # the recording loops
    assert again.intrinsics == pytest.approx(recorded[0].intrinsics)


def test_bad_recordings_are_one_line_errors(tmp_path, recorded) -> None:
    (tmp_path / "x.npz").write_text("not a zip")
    with pytest.raises(UserError, match="not a camera recording"):
        load_recording(tmp_path / "x.npz")
    np.savez(tmp_path / "y.npz", color=np.zeros((1, 2, 2, 3), np.uint8))
    with pytest.raises(UserError, match="missing depth"):
        load_recording(tmp_path / "y.npz")
    bad = recording_from_frames(recorded[1])
    bad.depth = bad.depth.astype(np.float32)
    bad.save(tmp_path / "z.npz")
    with pytest.raises(UserError, match="'depth' should be"):
        load_recording(tmp_path / "z.npz")


def test_without_pyrealsense2_connect_says_what_to_install(recorded, monkeypatch) -> None:
    import importlib

    real = importlib.import_module

    def no_realsense(name, *args):
        if name == "pyrealsense2":
            raise ImportError("No module named 'pyrealsense2'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_realsense)
    camera = RealSenseCamera(options(recorded[0]), SOURCE)
    with pytest.raises(UserError, match=r"pip install 'robollm\[realsense\]'"):
        camera.connect()


def test_fake_matches_the_installed_pyrealsense2() -> None:
    rs = pytest.importorskip("pyrealsense2")
    real = {"context": rs.context, "config": rs.config, "pipeline": rs.pipeline, "align": rs.align}
    for cls_name, fake in FAKES.items():
        for name, fn in vars(fake).items():
            if not callable(fn) or (name.startswith("_") and name != "__init__"):
                continue
            assert hasattr(real[cls_name], name), f"pyrealsense2 has no {cls_name}.{name}"
            params = list(inspect.signature(fn).parameters)[1:]
            doc = getattr(real[cls_name], name).__doc__ or ""
            heads = [line.split(". ", 1)[-1] for line in doc.splitlines() if f"{name}(" in line]
            options = [[p.split(":")[0].strip() for p in h[h.index("(") + 1:h.rindex(")")].split(",")[1:]]
                       for h in heads if "*args" not in h]
            if name == "__init__" and cls_name in ("context", "config"):
                continue  # no arguments either way
            assert params in options, f"{cls_name}.{name}{params} vs {options}"
    for attr in ("fx", "fy", "ppx", "ppy", "width", "height", "model", "coeffs"):
        assert hasattr(rs.intrinsics, attr)
    for cls, methods in ((rs.composite_frame, ("get_color_frame", "get_depth_frame")),
                         (rs.frame, ("get_data", "get_timestamp", "__bool__")),
                         (rs.device, ("get_info", "first_depth_sensor")),
                         (rs.depth_sensor, ("get_depth_scale",)),
                         (rs.pipeline_profile, ("get_device", "get_stream")),
                         (rs.video_stream_profile, ("get_intrinsics",))):
        for method in methods:
            assert hasattr(cls, method), f"pyrealsense2.{cls.__name__} has no {method}"
    assert hasattr(rs.stream, "depth") and hasattr(rs.format, "z16") and hasattr(rs.format, "rgb8")
    assert hasattr(rs.camera_info, "serial_number")
