"""The real Panda rig with its RealSense camera, end to end without hardware.

The arms are panda-python's fake (tests/panda_fake.py), the camera pyrealsense2's
fake (tests/realsense_fake.py) playing frames rendered by a simulated camera standing where
the real launch file's placeholder extrinsics put the camera, with a RealSense D435's
colour field of view (42 degrees high at 640x480).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import real_launch_copy
from panda_fake import FakeClock, Recorder, fake_sdk
from realsense_fake import RSRecorder, fake_realsense, sim_recording

from robollm.cli import main
from robollm.config import LaunchConfig, load_config
from robollm.drivers.camera_recording import load_recording
from robollm.drivers.panda import PandaBimanual, RobotFault
from robollm.errors import ConfigError, UserError
from robollm.perception.base import Perception
from robollm.robot.base import Robot
from robollm.robot.sensors import CameraFrame
from robollm.session import Session
from robollm.sim.sensors import CameraSpec, _look_at_quat
from robollm.world.state import SceneState

REAL = Path(__file__).resolve().parents[1] / "launch" / "real_panda_bimanual.yaml"
SERIAL = "123622270224"
PLACEHOLDER = CameraSpec(eye=(0.9, 0.0, 1.3), target=(0.5, 0.0, 0.0), fov=42.0)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Two 640x480 frames of the default scene (seed 0), seen from the placeholder pose,
    played from a recording file."""
    recording, shots, truth = sim_recording(width=640, height=480, serial=SERIAL, spec=PLACEHOLDER)
    path = tmp_path_factory.mktemp("camera") / "table.npz"
    recording.save(path)
    return load_recording(path), shots, truth


@pytest.fixture
def cam(recorded) -> RSRecorder:
    return RSRecorder(devices={SERIAL: recorded[0]})


def with_camera(folder: Path, **camera) -> LaunchConfig:
    data = yaml.safe_load(REAL.read_text())["robot"]["options"]["camera"]
    data.update(camera)
    config = load_config(real_launch_copy(folder, camera=data))
    config.source = str(REAL)
    return config


def robot_for(config: LaunchConfig, arms: Recorder, cam: RSRecorder) -> PandaBimanual:
    clock = FakeClock()
    return PandaBimanual(copy.deepcopy(config), sdk=fake_sdk(arms), camera_sdk=fake_realsense(cam),
                         clock=clock, sleep=clock.sleep)


# -- the launch file's camera block ----------------------------------------------------


def test_the_real_launch_file_has_a_camera_over_the_table(tmp_path) -> None:
    options = PandaBimanual(with_camera(tmp_path), sdk=fake_sdk(Recorder())).options.camera
    assert options is not None and options.serial is None and options.name == "table_camera"
    assert (options.width, options.height, options.fps) == (640, 480, 30)
    pose = options.extrinsics.pose()
    assert pose.position == pytest.approx(PLACEHOLDER.eye)
    assert np.abs(np.dot(pose.orientation, _look_at_quat(PLACEHOLDER))) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("camera, message", [
    ({"serial": 123622270224}, "'robot.options.camera.serial' should be text, or null"),
    ({"exposure": 100}, "unknown key 'robot.options.camera.exposure'"),
    ({"width": 0}, "'robot.options.camera.width' should be a whole number from 16"),
    ({"fps": 30.5}, "'robot.options.camera.fps' should be a whole number"),
    ({"name": "left_wrist_ft"}, "'robot.options.camera.name'"),
    ({"extrinsics": None}, "'robot.options.camera.extrinsics' should be a mapping"),
    ({"extrinsics": {"position": [1.0, 0.0]}}, "'robot.options.camera.extrinsics.position' should be 3 finite"),
    ({"extrinsics": {"position": [1.0, 0.0, 0.5]}}, "'robot.options.camera.extrinsics' needs exactly one of"),
    ({"extrinsics": {"position": [1.0, 0.0, 0.5], "orientation": [0, 0, 0, 1.0], "rpy": [0, 0, 0]}},
     "needs exactly one of"),
    ({"extrinsics": {"position": [1.0, 0.0, 0.5], "orientation": [0.0, 0.5, 0.0, 1.0]}},
     "'robot.options.camera.extrinsics.orientation' should be a unit quaternion"),
    ({"extrinsics": {"position": [1.0, 0.0, 0.5], "rpy": [0.0, float("nan"), 0.0]}},
     "'robot.options.camera.extrinsics.rpy' should be 3 finite angles"),
    ({"extrinsics": {"position": [1.0, 0.0, 0.5], "quaternion": [0, 0, 0, 1.0]}},
     "unknown key 'robot.options.camera.extrinsics.quaternion'"),
])
def test_camera_options_are_checked_strictly(tmp_path, camera, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        PandaBimanual(with_camera(tmp_path, **camera))


def test_rpy_extrinsics_give_the_same_pose_as_the_quaternion(tmp_path) -> None:
    from robollm.geometry import rpy_from_quat

    q = _look_at_quat(PLACEHOLDER)
    config = with_camera(tmp_path, extrinsics={"position": list(PLACEHOLDER.eye), "rpy": list(rpy_from_quat(q))})
    pose = PandaBimanual(config).options.camera.extrinsics.pose()
    assert np.abs(np.dot(pose.orientation, q)) == pytest.approx(1.0, abs=1e-9)


def test_check_config_names_the_bad_extrinsics_key(tmp_path, capsys) -> None:
    data = yaml.safe_load(REAL.read_text())["robot"]["options"]["camera"]
    data["extrinsics"]["orientation"] = [0.0, 0.0, 0.0, 2.0]
    path = real_launch_copy(tmp_path, perception="ground_truth", camera=data)
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "key 'robot.options.camera.extrinsics.orientation' should be a unit quaternion" in err


# -- the driver with its camera --------------------------------------------------------


def test_the_camera_is_one_of_the_robots_sensors(tmp_path, cam, recorded) -> None:
    arms = Recorder()
    with robot_for(with_camera(tmp_path, serial=SERIAL), arms, cam) as robot:
        assert sorted(robot.sensors) == ["left_wrist_ft", "right_wrist_ft", "table_camera"]
        camera = robot.sensors["table_camera"]
        assert camera.info.kind == "camera" and camera.info.extra["width"] == 640
        robot.wait(0.5)
        frame = camera.read()
        assert isinstance(frame, CameraFrame)
        assert frame.timestamp == pytest.approx(robot.observe().time)  # the robot's clock
        assert np.array_equal(frame.rgb, recorded[0].color[frame_index(cam)])
    assert len(cam.named("pipeline.stop")) == 1
    assert {c.host for c in arms.named("Panda.stop_controller")} == {"172.16.0.2", "172.16.0.3"}


def frame_index(cam: RSRecorder) -> int:
    return (len(cam.named("pipeline.wait_for_frames")) - 1) % 2


def test_no_camera_stops_the_connect_before_the_arms_are_touched(tmp_path, recorded) -> None:
    arms, cam = Recorder(), RSRecorder()
    robot = robot_for(with_camera(tmp_path), arms, cam)
    with pytest.raises(UserError, match="'robot.options.camera': no RealSense camera is connected"):
        robot.connect()
    assert arms.calls == [] and not robot.is_connected


def test_arms_that_fail_to_connect_release_the_camera(tmp_path, cam) -> None:
    arms = Recorder()
    arms.failures[("172.16.0.3", "Panda.__init__")] = RuntimeError("Connection timeout")
    robot = robot_for(with_camera(tmp_path), arms, cam)
    with pytest.raises(RobotFault, match="Connection timeout"):
        robot.connect()
    assert len(cam.named("pipeline.stop")) == 1


# -- the real launch file, end to end up to the first skill call ------------------------


class FirstSkillCall(Exception):
    """Raised in place of the first skill: everything before it ran as in a real run."""


class RecordedScene(Perception):
    """A stand-in for camera perception: it reads the robot's camera like one, checks it got
    a recorded frame, and reports the scene the frames were rendered from."""

    name = "recorded scene (test)"
    frames: list[CameraFrame] = []
    truth: SceneState | None = None

    def __init__(self, robot: Robot, config: LaunchConfig, options: None = None) -> None:
        self.camera = next(s for s in robot.sensors.values() if s.info.kind == "camera")

    def observe(self) -> SceneState:
        frame = self.camera.read()
        RecordedScene.frames.append(frame)
        assert self.truth is not None
        return self.truth


def fake_sdks(monkeypatch, arms: Recorder, cam: RSRecorder) -> None:
    """panda_py and pyrealsense2 replaced by their fakes wherever they are imported."""
    panda = fake_sdk(arms)
    for name, module in (("panda_py", panda), ("panda_py.controllers", panda.controllers),
                         ("panda_py.libfranka", panda.libfranka), ("pyrealsense2", fake_realsense(cam))):
        monkeypatch.setitem(sys.modules, name, module)


def with_recorded_scene(monkeypatch, truth: SceneState | None = None) -> None:
    """The perception registry also offers `recorded_scene` (RecordedScene) in this test."""
    from robollm.perception import registry

    builtin = registry.register_builtin

    def both(reg) -> None:
        builtin(reg)
        reg.register("recorded_scene-v0", f"{__name__}:RecordedScene")

    monkeypatch.setattr(registry, "register_builtin", both)
    monkeypatch.setattr(RecordedScene, "truth", truth)
    monkeypatch.setattr(RecordedScene, "frames", [])


def run_until_the_first_skill(monkeypatch, config: Path, cam: RSRecorder, arms: Recorder):
    """`robollm run --config CONFIG --plan 'pick red_block'` with both SDKs faked."""
    fake_sdks(monkeypatch, arms, cam)
    seen = {}

    def first_skill(session: Session, call):
        seen.update(call=call, args=session.bind(call), scene=session.scene, robot=session.robot)
        raise FirstSkillCall

    monkeypatch.setattr(Session, "execute", first_skill)
    with pytest.raises(FirstSkillCall):
        main(["run", "--plan", "pick red_block", "--config", str(config)])
    return seen


def test_a_real_run_reads_the_camera_and_reaches_the_first_skill(tmp_path, monkeypatch, cam, recorded, capsys) -> None:
    """The plumbing, whatever camera perception is merged: a perception reading the camera
    by kind, as a camera perception does, is registered for this test."""
    with_recorded_scene(monkeypatch, recorded[2])
    arms = Recorder()
    config = real_launch_copy(tmp_path, perception="recorded_scene")
    seen = run_until_the_first_skill(monkeypatch, config, cam, arms)
    assert seen["call"].skill == "pick" and list(seen["args"].values()) == ["red_block"]
    frames = RecordedScene.frames
    assert frames and all(np.array_equal(f.rgb, recorded[0].color[0]) or
                          np.array_equal(f.rgb, recorded[0].color[1]) for f in frames)
    assert frames[0].intrinsics == pytest.approx(recorded[0].intrinsics)
    assert "perception: recorded scene (test)" in capsys.readouterr().out
    # leaving the run stopped the camera and both arms; nothing moved before the skill
    assert len(cam.named("pipeline.stop")) == 1
    assert {c.host for c in arms.named("Panda.stop_controller")} == {"172.16.0.2", "172.16.0.3"}
    assert not arms.named("JointPosition.set_control")


@pytest.mark.parametrize("devices, words", [
    ({}, "key 'robot.options.camera': no RealSense camera is connected"),
    ({"111": None}, "key 'robot.options.camera.serial': no camera with serial 123622270224 is "
                    "connected (connected: 111)"),
])
def test_a_missing_camera_stops_a_real_run_in_one_line(tmp_path, monkeypatch, recorded, capsys,
                                                         devices, words) -> None:
    with_recorded_scene(monkeypatch, recorded[2])
    arms, cam = Recorder(), RSRecorder(devices={k: recorded[0] for k in devices})
    fake_sdks(monkeypatch, arms, cam)
    camera = dict(yaml.safe_load(REAL.read_text())["robot"]["options"]["camera"], serial=SERIAL)
    config = real_launch_copy(tmp_path, perception="recorded_scene", camera=camera)
    assert main(["run", "--plan", "pick red_block", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err
    assert arms.calls == []  # the arms were never touched


def test_a_camera_that_stops_sending_frames_stops_the_run(tmp_path, monkeypatch, recorded, capsys) -> None:
    with_recorded_scene(monkeypatch, recorded[2])
    arms, cam = Recorder(), RSRecorder(devices={SERIAL: recorded[0]})
    cam.failures[(SERIAL, "pipeline.wait_for_frames")] = RuntimeError("Frame didn't arrive within 1000")
    fake_sdks(monkeypatch, arms, cam)
    assert main(["run", "--plan", "pick red_block", "--config", str(real_launch_copy(tmp_path, perception="recorded_scene"))]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("robollm: robot stopped: camera 'table_camera' (serial 123622270224): no frame within 1 s "
                   "(Frame didn't arrive within 1000); check its USB 3 cable and that no other program is using it")
    assert len(cam.named("pipeline.stop")) == 1 and not arms.named("JointPosition.set_control")


def _clip_registered() -> bool:
    from robollm.perception.registry import perception_registry

    return "clip" in perception_registry()


@pytest.mark.skipif(not _clip_registered(), reason="camera perception 'clip-v0' is not in the "
                    "perception registry of this build; the real launch file selects it")
def test_the_real_launch_file_sees_the_table_and_reaches_the_first_skill(monkeypatch, cam, recorded) -> None:
    arms = Recorder()
    seen = run_until_the_first_skill(monkeypatch, REAL, cam, arms)
    truth = recorded[2].objects["red_block"]
    perceived = seen["scene"].objects["red_block"]
    assert perceived.type == "block" and perceived.colour == "red"
    assert perceived.pose.distance_to(truth.pose) < 0.03
    assert seen["call"].skill == "pick" and list(seen["args"].values()) == ["red_block"]
    assert len(cam.named("pipeline.stop")) == 1


def test_record_films_the_table_camera_on_the_real_rig(tmp_path, cam) -> None:
    from robollm.commands.run import record_camera

    robot = robot_for(with_camera(tmp_path), Recorder(), cam)
    assert record_camera(robot.sensors, "panda") is robot.sensors["table_camera"]
    without = {k: s for k, s in robot.sensors.items() if s.info.kind != "camera"}
    with pytest.raises(UserError, match="--record needs a camera, and the 'panda' driver has none"):
        record_camera(without, "panda")


def test_calibrating_the_real_camera_asks_for_the_ball_first(tmp_path, monkeypatch, cam, capsys) -> None:
    """On hardware the command opens the hand and asks for the ball; with nobody to answer it
    stops in one line, and the arms and camera are released."""
    with_recorded_scene(monkeypatch)
    arms = Recorder()
    fake_sdks(monkeypatch, arms, cam)

    asked = []

    def no_answer(prompt: str) -> str:
        asked.append(prompt)
        raise EOFError

    monkeypatch.setattr("builtins.input", no_answer)
    config = real_launch_copy(tmp_path, perception="recorded_scene")
    assert main(["calibrate-camera", "--config", str(config), "--points", "6"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("no answer on standard input; put the ball in the hand first and pass --marker-in-hand")
    assert len(asked) == 1 and "between the left hand's fingertips" in asked[0]
    assert len(cam.named("pipeline.stop")) == 1
    assert {c.host for c in arms.named("Panda.stop_controller")} == {"172.16.0.2", "172.16.0.3"}
