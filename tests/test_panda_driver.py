"""The real-robot Panda driver, exercised against a fake of panda-python's lowest level.

The fake (tests/panda_fake.py) stands in for the `panda_py` module: classes named and
shaped like the real `Panda`, `controllers.JointPosition`, `libfranka.Gripper`,
`RobotState` and `GripperState`, recording every call with its arguments and raising
injected errors. A conformance test here compares it with the installed SDK so it cannot
drift from what the driver will meet.
"""

from __future__ import annotations

import copy
import inspect
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import real_launch_copy
from panda_fake import (
    FAKES,
    HOST,
    LEFT,
    RIGHT,
    FakeClock,
    FakeGripperState,
    FakeRobotState,
    Recorder,
    fake_sdk,
    real_signatures,
)

from robollm.config import LaunchConfig, load_config
from robollm.drivers import robot_registry
from robollm.drivers.panda import PandaBimanual, RobotFault
from robollm.drivers.panda_safety import SafetyError, SafetyLimits, check_workspace
from robollm.errors import ConfigError
from robollm.geometry import Pose
from robollm.robot.arms import PANDA_HOME, PANDA_JOINT_LOWER, PANDA_JOINT_UPPER, PANDA_MAX_VELOCITY
from robollm.robot.base import ArmCommand, ArmSpec, Kinematics, Robot
from robollm.robot.kinematics import PandaKinematics
from robollm.robot.rig import arm_specs
from robollm.robot.sensors import ForceTorque, Sensor

LAUNCH = Path(__file__).resolve().parents[1] / "launch"
REAL = LAUNCH / "real_panda_bimanual.yaml"
SIM = LAUNCH / "sim_bimanual.yaml"

# -- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kinematics() -> PandaKinematics:
    return PandaKinematics()


def load_real(folder: Path) -> LaunchConfig:
    """The real launch file without its camera and camera perception, under the real file's
    name: these tests are about the arms (tests/test_real_camera.py adds the camera)."""
    config = load_config(real_launch_copy(folder, camera=None))
    config.source = str(REAL)
    return config


@pytest.fixture
def config(tmp_path) -> LaunchConfig:
    return load_real(tmp_path)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


def make_robot(
    config: LaunchConfig, rec: Recorder, kinematics: Kinematics, **options: Any
) -> PandaBimanual:
    config = copy.deepcopy(config)
    config.robot.options.update(options)
    clock = FakeClock()
    return PandaBimanual(
        config, sdk=fake_sdk(rec), kinematics=kinematics, clock=clock, sleep=clock.sleep
    )


@pytest.fixture
def robot(config: LaunchConfig, rec: Recorder, kinematics: PandaKinematics):
    robot = make_robot(config, rec, kinematics)
    robot.connect()
    yield robot
    robot.disconnect()


def home_with(**changes: float) -> tuple[float, ...]:
    """PANDA_HOME with joints changed, e.g. home_with(j1=0.1) adds 0.1 rad to joint 1."""
    q = list(PANDA_HOME)
    for key, delta in changes.items():
        q[int(key[1:]) - 1] += delta
    return tuple(q)


def drain(robot: PandaBimanual) -> None:
    for hand in robot._hands.values():
        assert hand.drain(5.0)


# -- launch file and options ----------------------------------------------------------


def test_real_launch_file_differs_from_sim_only_in_driver_and_options() -> None:
    real, sim = yaml.safe_load(REAL.read_text()), yaml.safe_load(SIM.read_text())
    assert real["robot"]["driver"] == "panda"
    assert real["robot"]["options"]["hosts"] == {"left": LEFT, "right": RIGHT}
    assert real["perception"] == "clip" and sim["perception"] == "ground_truth"
    for data in (real, sim):
        data["robot"].pop("driver")
        data["robot"].pop("options", None)
        data.pop("perception")
    assert real == sim


def test_real_launch_file_loads_and_builds_the_driver(config: LaunchConfig) -> None:
    assert config.robot.driver == "panda"
    robot = robot_registry().make("panda", config=config, gui=False, sdk=fake_sdk(Recorder()))
    assert isinstance(robot, PandaBimanual) and isinstance(robot, Robot)
    assert robot.arms == arm_specs(config.robot)
    assert robot.options.speed_scale == 0.3
    assert robot.control_period == pytest.approx(1 / 50.0)
    assert not robot.is_connected


@pytest.mark.parametrize(
    "options, message",
    [
        ({"hosts": HOST, "speed": 0.5}, "unknown key 'robot.options.speed'"),
        ({"speed_scale": 0.3}, "missing required key 'robot.options.hosts'"),
        ({"hosts": {"left": LEFT}}, "'robot.options.hosts'"),
        ({"hosts": {"left": LEFT, "right": LEFT}}, "'robot.options.hosts'"),
        ({"hosts": HOST, "speed_scale": 1.5}, "'robot.options.speed_scale'"),
        ({"hosts": HOST, "control_rate": "fast"}, "'robot.options.control_rate'"),
        ({"hosts": HOST, "max_step": -0.1}, "'robot.options.max_step'"),
    ],
)
def test_options_are_loaded_strictly(config: LaunchConfig, options: dict, message: str) -> None:
    config.robot.options = options
    with pytest.raises(ConfigError) as err:
        PandaBimanual(config, sdk=fake_sdk(Recorder()))
    assert str(REAL) in str(err.value)
    assert message in str(err.value)


# -- connect, command, observe --------------------------------------------------------


def test_connect_opens_one_panda_and_one_gripper_per_host(robot, rec) -> None:
    assert robot.is_connected
    assert [c.args for c in rec.named("Panda.__init__")] == [(LEFT,), (RIGHT,)]
    assert [c.args for c in rec.named("Gripper.__init__")] == [(LEFT,), (RIGHT,)]
    assert len(rec.named("JointPosition.__init__")) == 2
    assert [c.host for c in rec.named("Panda.start_controller")] == [LEFT, RIGHT]
    assert not rec.named("JointPosition.set_control")  # holds still until told otherwise
    assert sorted(robot.sensors) == ["left_wrist_ft", "right_wrist_ft"]


def test_joint_target_reaches_the_controller_clipped(config, rec, kinematics) -> None:
    rec.initial_q = home_with(j7=2.88 - PANDA_HOME[6])
    robot = make_robot(config, rec, kinematics)
    with robot:
        target = home_with(j7=2.92 - PANDA_HOME[6])  # 0.023 rad past the limit 2.8973
        sent = robot.send_action({"left": ArmCommand(joints=target)})
        clipped = target[:6] + (PANDA_JOINT_UPPER[6],)
        assert sent["left"].joints == pytest.approx(clipped)
        robot.wait(0.2)
        last = rec.named("JointPosition.set_control", LEFT)[-1]
        assert last.args[0] == pytest.approx(clipped)
        assert last.args[1] == pytest.approx((0.0,) * 7)  # arrived: no feed-forward
        assert not rec.named("JointPosition.set_control", RIGHT)
        assert robot.observe().arms["left"].joints == pytest.approx(clipped)


def test_setpoint_moves_no_faster_than_speed_scale(robot, rec) -> None:
    target = home_with(j1=0.3, j2=0.1)
    robot.send_action({"left": ArmCommand(joints=target)})
    robot.wait(2.0)
    sent = [np.array(c.args[0]) for c in rec.named("JointPosition.set_control", LEFT)]
    assert sent[-1] == pytest.approx(target)
    limit = 0.3 * np.array(PANDA_MAX_VELOCITY) * robot.control_period + 1e-9
    steps = np.abs(np.diff([np.array(PANDA_HOME), *sent], axis=0))
    assert np.all(steps <= limit)
    assert len(sent) >= math.ceil(0.3 / limit[0])  # it really was interpolated
    direction = [(s - PANDA_HOME) / np.linalg.norm(s - PANDA_HOME) for s in sent]
    assert np.allclose(direction, direction[-1])  # along a straight joint-space line


def test_observe_reports_joints_pose_and_width(robot, rec, kinematics) -> None:
    first = robot.observe()
    state = first.arms["right"]
    assert state.joints == pytest.approx(PANDA_HOME)
    assert state.torques == pytest.approx((0.5,) * 7)
    assert state.gripper_width == pytest.approx(0.08)
    expected = kinematics.forward(robot.arms["right"], PANDA_HOME)
    assert state.ee_pose.position == pytest.approx(expected.position)
    robot.wait(0.1)
    assert robot.observe().time > first.time


def test_wrist_force_torque_is_in_the_world_frame(config, rec, kinematics) -> None:
    config.robot.arms["left"].base_yaw = math.pi / 2
    rec.wrench = (1.0, 0.0, 2.0, 0.0, 0.5, 0.0)
    with make_robot(config, rec, kinematics) as robot:
        sensor = robot.sensors["left_wrist_ft"]
        assert isinstance(sensor, Sensor) and sensor.info.kind == "force_torque"
        assert sensor.info.arm == "left"
        reading = sensor.read()
        assert isinstance(reading, ForceTorque)
        # libfranka counts what the robot applies as positive; the sensor reports the load
        assert reading.force == pytest.approx((0.0, -1.0, -2.0), abs=1e-9)
        assert reading.torque == pytest.approx((0.5, 0.0, 0.0), abs=1e-9)
        right = robot.sensors["right_wrist_ft"].read()
        assert right.force == pytest.approx((-1.0, 0.0, -2.0))


def test_connected_model_narrows_the_joint_limits(config, rec, kinematics) -> None:
    fr3_lower = (-2.7437, -1.7837, -2.9007, -3.0421, -2.8065, 0.5445, -3.0159)
    fr3_upper = (2.7437, 1.7837, 2.9007, -0.1518, 2.8065, 4.5169, 3.0159)
    rec.joint_limits = (fr3_lower, fr3_upper)
    with make_robot(config, rec, kinematics) as robot:
        spec = robot.arms["left"]
        assert spec.joint_lower == pytest.approx(np.maximum(PANDA_JOINT_LOWER, fr3_lower))
        assert spec.joint_upper == pytest.approx(np.minimum(PANDA_JOINT_UPPER, fr3_upper))


# -- grippers -------------------------------------------------------------------------


def test_closing_with_a_force_is_a_grasp_and_opening_a_move(robot, rec) -> None:
    sent = robot.send_action({"right": ArmCommand(gripper_width=0.0, gripper_force=120.0)})
    assert sent["right"].gripper_force == 70.0  # clipped to the hand's continuous force
    drain(robot)
    assert [c.args for c in rec.named("Gripper.grasp", RIGHT)] == [(0.0, 0.05, 70.0, 0.005, 0.08)]
    assert robot.observe().arms["right"].gripper_width == pytest.approx(0.03)

    robot.send_action({"right": ArmCommand(gripper_width=0.5)})  # clipped to 0.08
    drain(robot)
    assert [c.args for c in rec.named("Gripper.move", RIGHT)] == [(0.08, 0.05)]
    robot.send_action({"right": ArmCommand(gripper_width=0.04, gripper_force=0.0)})
    robot.send_action({"left": ArmCommand(gripper_force=30.0)})  # no width: as in sim, nothing
    drain(robot)
    assert [c.args for c in rec.named("Gripper.move", RIGHT)] == [(0.08, 0.05), (0.04, 0.05)]
    assert len(rec.named("Gripper.grasp", RIGHT)) == 1
    assert not rec.named("Gripper.grasp", LEFT) and not rec.named("Gripper.move", LEFT)


def test_a_blocking_gripper_does_not_hold_up_the_other_arm(robot, rec) -> None:
    rec.gripper_gate = threading.Event()
    robot.send_action({"left": ArmCommand(gripper_width=0.0, gripper_force=30.0)})
    robot.send_action({"right": ArmCommand(joints=home_with(j1=-0.01))})
    robot.wait(0.1)
    assert rec.named("JointPosition.set_control", RIGHT)[-1].args[0] == pytest.approx(
        home_with(j1=-0.01)
    )
    rec.gripper_gate.set()
    drain(robot)
    assert len(rec.named("Gripper.grasp", LEFT)) == 1


# -- safety ---------------------------------------------------------------------------


def assert_refused(robot: PandaBimanual, rec: Recorder, action: dict, words: str) -> None:
    before = len(rec.commands())
    with pytest.raises(SafetyError, match=words):
        robot.send_action(action)
    drain(robot)
    assert rec.commands()[before:] == []
    assert robot.faulted is None  # a refusal is not a fault: the arms keep holding


def test_out_of_workspace_target_is_refused(robot, rec) -> None:
    above = home_with(j4=0.45)  # lifts the grasp point to z = 0.64, above the 0.6 ceiling
    assert_refused(robot, rec, {"left": ArmCommand(joints=above)}, "outside the workspace")


def test_too_fast_jump_is_refused(robot, rec) -> None:
    jump = home_with(j1=0.8)
    assert_refused(robot, rec, {"right": ArmCommand(joints=jump)}, "max_step")


@pytest.mark.parametrize(
    "joints, words",
    [
        (home_with(j4=2.5), "outside its limits"),
        (home_with(j1=float("nan")), "not finite"),
        (PANDA_HOME[:6], "needs 7 values"),
    ],
)
def test_out_of_range_joints_are_refused(robot, rec, joints, words) -> None:
    assert_refused(robot, rec, {"left": ArmCommand(joints=joints)}, words)


def test_a_refused_arm_stops_the_whole_action(robot, rec) -> None:
    action = {
        "right": ArmCommand(joints=home_with(j1=0.01), gripper_width=0.0, gripper_force=20.0),
        "left": ArmCommand(joints=home_with(j4=0.45)),
    }
    assert_refused(robot, rec, action, "left")
    assert_refused(robot, rec, {"left": ArmCommand(gripper_width=float("inf"))}, "not finite")


def test_workspace_is_checked_along_the_joint_path(config: LaunchConfig) -> None:
    class Bulge(Kinematics):
        """The grasp point swings out to x = 0.9 halfway between q1 = 0 and q1 = 1."""

        def forward(self, arm: ArmSpec, joints: tuple[float, ...]) -> Pose:
            return Pose((0.5 + 0.4 * math.sin(math.pi * joints[0]), 0.0, 0.3))

        def inverse(self, arm, target, seed):  # pragma: no cover - not needed here
            raise NotImplementedError

    spec = arm_specs(config.robot)["right"]
    limits = SafetyLimits(0.3, 2.0, 0.05, 0.0, 0.05)
    start, target = (0.0,) * 7, (1.0,) + (0.0,) * 6
    check_workspace(spec, Bulge(), start, start, limits)
    with pytest.raises(SafetyError, match="path point"):
        check_workspace(spec, Bulge(), start, target, limits)


# -- faults ---------------------------------------------------------------------------


def assert_both_stopped(rec: Recorder) -> None:
    assert {c.host for c in rec.named("Panda.stop_controller")} == {LEFT, RIGHT}
    assert {c.host for c in rec.named("Gripper.stop")} == {LEFT, RIGHT}


def test_sdk_error_stops_both_arms_and_refuses_further_commands(robot, rec) -> None:
    rec.failures[(LEFT, "JointPosition.set_control")] = RuntimeError("communication_constraints")
    robot.send_action({"left": ArmCommand(joints=home_with(j1=0.01))})
    with pytest.raises(RobotFault, match="'left'.*communication_constraints") as err:
        robot.wait(0.1)  # the setpoint streams from here
    assert err.value.arm == "left"
    assert_both_stopped(rec)

    before = len(rec.calls)
    with pytest.raises(RobotFault):
        robot.send_action({"right": ArmCommand(joints=home_with(j1=0.01))})
    with pytest.raises(RobotFault):
        robot.wait(0.1)
    assert rec.calls[before:] == []

    del rec.failures[(LEFT, "JointPosition.set_control")]
    robot.recover()
    assert {c.host for c in rec.named("Panda.recover")} == {LEFT, RIGHT}
    assert len(rec.named("Panda.start_controller")) == 4
    robot.send_action({"left": ArmCommand(joints=home_with(j1=0.01))})
    robot.wait(0.1)
    assert rec.named("JointPosition.set_control", LEFT)[-1].args[0] == pytest.approx(
        home_with(j1=0.01)
    )


def test_control_loop_error_reported_later_still_stops_everything(robot, rec) -> None:
    rec.failures[(RIGHT, "Panda.raise_error")] = RuntimeError("cartesian_reflex")
    with pytest.raises(RobotFault, match="'right'.*cartesian_reflex"):
        robot.wait(0.5)
    assert_both_stopped(rec)


def test_gripper_error_is_not_lost(robot, rec) -> None:
    rec.failures[(RIGHT, "Gripper.grasp")] = RuntimeError("libfranka gripper: command failed")
    robot.send_action({"right": ArmCommand(gripper_width=0.0, gripper_force=20.0)})
    drain(robot)
    with pytest.raises(RobotFault, match="'right'.*hand failed.*command failed"):
        robot.wait(0.1)
    assert_both_stopped(rec)


def test_unreported_gripper_error_surfaces_at_disconnect(config, rec, kinematics) -> None:
    rec.failures[(LEFT, "Gripper.move")] = RuntimeError("gripper unreachable")
    robot = make_robot(config, rec, kinematics)
    robot.connect()
    robot.send_action({"left": ArmCommand(gripper_width=0.02)})
    drain(robot)
    with pytest.raises(RobotFault, match="gripper unreachable"):
        robot.disconnect()
    assert not robot.is_connected
    assert_both_stopped(rec)


def test_failed_connect_names_the_arm_and_releases_the_other(config, rec, kinematics) -> None:
    rec.failures[(RIGHT, "Panda.__init__")] = RuntimeError("Connection timeout")
    robot = make_robot(config, rec, kinematics)
    with pytest.raises(RobotFault, match=f"'right'.*{RIGHT}.*Connection timeout"):
        robot.connect()
    assert not robot.is_connected
    assert not rec.named("Panda.start_controller")
    with pytest.raises(RuntimeError, match="not connected"):
        robot.send_action({"left": ArmCommand(joints=PANDA_HOME)})


# -- shutdown -------------------------------------------------------------------------


def test_disconnect_stops_everything_once(config, rec, kinematics) -> None:
    robot = make_robot(config, rec, kinematics)
    robot.connect()
    robot.disconnect()
    assert_both_stopped(rec)
    assert not robot.is_connected
    before = len(rec.calls)
    robot.disconnect()
    assert rec.calls[before:] == []


def test_leaving_the_context_on_an_exception_stops_safely(config, rec, kinematics) -> None:
    rec.failures[(LEFT, "Gripper.move")] = RuntimeError("gripper unreachable")
    with pytest.raises(ValueError, match="planner bug"):
        with make_robot(config, rec, kinematics) as robot:
            robot.send_action({"left": ArmCommand(gripper_width=0.02)})
            drain(robot)
            raise ValueError("planner bug")  # must not be replaced by the gripper's fault
    assert_both_stopped(rec)


# -- the fake matches the real SDK ----------------------------------------------------


def test_fake_matches_the_installed_panda_py() -> None:
    panda_py = pytest.importorskip("panda_py")
    controllers = pytest.importorskip("panda_py.controllers")
    libfranka = pytest.importorskip("panda_py.libfranka")
    real = {
        "Panda": panda_py.Panda,
        "JointPosition": controllers.JointPosition,
        "Gripper": libfranka.Gripper,
    }
    for cls_name, fake in FAKES.items():
        for name, fn in vars(fake).items():
            if not callable(fn) or (name.startswith("_") and name != "__init__"):
                continue
            assert hasattr(real[cls_name], name), f"panda_py has no {cls_name}.{name}"
            fake_params = list(inspect.signature(fn).parameters)[1:]
            options = real_signatures(getattr(real[cls_name], name), name)
            assert fake_params in options, f"{cls_name}.{name}{fake_params} vs {options}"
    state = FakeRobotState([0.0] * 7, (0.0,) * 6)
    for attr in vars(state):
        assert hasattr(libfranka.RobotState, attr), f"RobotState has no {attr}"
    for attr in vars(FakeGripperState(0.0)):
        assert hasattr(libfranka.GripperState, attr), f"GripperState has no {attr}"

