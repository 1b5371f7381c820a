"""Two real Franka Panda (or FR3) arms behind the `Robot` interface, through panda-python.

Each arm has its own FCI host address. At connect a panda-py `JointPosition` torque
controller starts on each arm and holds it where it is; `send_action` checks a command
against the limits in `panda_safety` and, only if both arms' parts pass, moves the goals;
the setpoint streamed to the controller then walks towards the goal no faster than
`speed_scale` of the joint velocity limits (in `send_action` and in every tick of `wait`).
The hands' calls block for up to seconds, so each hand has a worker thread.
The launch-file options live in `panda_options`, the hands' worker in `panda_gripper`.
With a `camera` block in the options, a RealSense camera (`realsense`) joins the sensors
under its name; it connects before the arms, so a missing camera stops nothing, and it
is stopped with them.

Any exception from the SDK (including errors of the asynchronous control loop, which
panda-py only reports through `raise_error`) stops both arms and both hands, marks the
driver faulted and surfaces as a `RobotFault` naming the arm; commands then raise until
`recover()` or a reconnect.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NoReturn

import numpy as np

from robollm.config import LaunchConfig
from robollm.drivers.panda_gripper import GripperCommand, GripperWorker
from robollm.drivers.panda_options import PandaOptions
from robollm.drivers.panda_safety import (
    SafetyError,
    check_gripper,
    check_joints,
    check_step,
    check_workspace,
    step_toward,
)
from robollm.drivers.realsense import RealSenseCamera
from robollm.errors import RobotError, UserError
from robollm.geometry import rotation_matrix
from robollm.robot.base import Action, ArmState, Kinematics, Robot, RobotObservation
from robollm.robot.rig import ARM_NAMES, arm_specs
from robollm.robot.sensors import ForceTorque, Sensor, SensorInfo

__all__ = ["PandaBimanual", "PandaOptions", "RobotFault", "SafetyError", "WristForceTorque"]

log = logging.getLogger(__name__)

class RobotFault(RobotError):
    """The robot or its SDK reported an error; both arms and hands were stopped."""

    STOPPED = "both arms were stopped; check the robot, then call recover() or reconnect"

    def __init__(self, arm: str, message: str, advice: str = STOPPED) -> None:
        self.arm = arm
        self.sdk_message = message
        super().__init__(f"Panda arm {arm!r}: {message.rstrip('. ')}; {advice}")


def load_sdk() -> Any:
    """Import panda-python only when a robot is connected, so configs check without it."""
    try:
        sdk = importlib.import_module("panda_py")
        importlib.import_module("panda_py.controllers")
        importlib.import_module("panda_py.libfranka")
    except ImportError as e:
        raise UserError(f"the panda driver needs panda-python (pip install panda-python): {e}") from e
    return sdk


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


class WristForceTorque(Sensor):
    """An arm's estimated external wrench (O_F_ext_hat_K), rotated into the world frame."""

    def __init__(self, robot: PandaBimanual, arm: str) -> None:
        super().__init__(
            SensorInfo(
                name=f"{arm}_wrist_ft",
                kind="force_torque",
                arm=arm,
                extra={"source": "O_F_ext_hat_K", "frame": "world"},
            )
        )
        self._robot = robot
        self._arm = arm

    def read(self) -> ForceTorque:
        return self._robot.wrench(self._arm)


class PandaBimanual(Robot):
    """Arms `left` and `right`, each a Panda on its own host; see the module docstring."""

    def __init__(
        self,
        config: LaunchConfig,
        *,
        sdk: Any = None,
        camera_sdk: Any = None,
        kinematics: Kinematics | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        gui: bool | None = None,
    ) -> None:
        """`sdk` replaces the `panda_py` module and `camera_sdk` the `pyrealsense2` module
        (tests pass fakes); `clock` and `sleep`
        replace wall-clock time; `gui` is accepted, and ignored, so that every driver
        takes the same factory arguments."""
        from robollm.robot.kinematics import PandaKinematics

        self.config = config
        self.options = PandaOptions.from_config(config)
        self.limits = self.options.limits
        self.arms = arm_specs(config.robot)
        self.kinematics = kinematics if kinematics is not None else PandaKinematics()
        self.control_period = 1.0 / self.options.control_rate
        self.sensors: dict[str, Sensor] = {
            f"{arm}_wrist_ft": WristForceTorque(self, arm) for arm in ARM_NAMES
        }
        self.camera: RealSenseCamera | None = None
        if self.options.camera is not None:
            self.camera = RealSenseCamera(self.options.camera, config.source, sdk=camera_sdk,
                                          clock=lambda: self._clock() - self._t0)
            self.sensors[self.camera.name] = self.camera
        self._sdk = sdk
        self._clock = clock
        self._sleep = sleep
        self._connected = False
        self._fault: RobotFault | None = None
        self._pandas: dict[str, Any] = {}
        self._controllers: dict[str, Any] = {}
        self._hands: dict[str, GripperWorker] = {}
        self._setpoint: dict[str, tuple[float, ...]] = {}
        self._velocity: dict[str, tuple[float, ...]] = {}
        self._goal: dict[str, tuple[float, ...]] = {}
        self._t0 = self._last_advance = clock()

    # -- lifecycle ------------------------------------------------------------------

    @classmethod
    def check_config(cls, config: LaunchConfig) -> None:
        """Validate `robot.options` without touching the network (for `robollm check-config`)."""
        PandaOptions.from_config(config)

    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def faulted(self) -> RobotFault | None:
        return self._fault

    def connect(self) -> None:
        """Open both arms and hands, then start a joint controller holding each arm still."""
        if self._connected:
            return
        sdk = self._sdk if self._sdk is not None else load_sdk()
        self._sdk = sdk
        self._fault = None
        if self.camera is not None:
            self.camera.connect()  # before the arms: a camera that is not there stops nothing
        grippers: dict[str, Any] = {}
        arm = ARM_NAMES[0]
        try:
            for arm in ARM_NAMES:
                host = self.options.hosts[arm]
                self._pandas[arm] = sdk.Panda(host)
                grippers[arm] = sdk.libfranka.Gripper(host)
                self._narrow_limits(arm, self._pandas[arm])
            for arm in ARM_NAMES:
                width = float(grippers[arm].read_once().width)
                self._start_controller(arm)
                self._hands[arm] = GripperWorker(arm, grippers[arm], self.options, width)
        except Exception as e:
            self._stop_everything()
            self._release()
            if self.camera is not None:
                self.camera.disconnect()
            host = self.options.hosts[arm]
            advice = f"check the cable, that FCI is active in Desk, and robot.options.hosts.{arm}"
            raise RobotFault(arm, f"connecting to {host} failed: {e}", advice) from e
        self._t0 = self._last_advance = self._clock()
        self._connected = True

    def disconnect(self) -> None:
        """Stop both controllers (the arms hold position) and both hands; safe to repeat."""
        self._shutdown(report=True)

    def __exit__(self, exc_type: object, *exc: object) -> None:
        # An exception already on its way out must not be replaced by a late fault report.
        self._shutdown(report=exc_type is None)

    def recover(self) -> None:
        """Clear a fault: libfranka's error recovery, then fresh controllers holding still."""
        self._require_connected()
        for arm in ARM_NAMES:
            self._call(arm, "error recovery", self._pandas[arm].recover)
        for arm in ARM_NAMES:
            hand = self._hands[arm]
            if hand.alive:
                hand.close()
            width = float(self._call(arm, "reading the hand", hand.gripper.read_once).width)
            self._hands[arm] = GripperWorker(arm, hand.gripper, self.options, width)
            try:
                self._start_controller(arm)
            except Exception as e:
                self._fail(arm, f"restarting the controller failed: {e}", e)
        self._last_advance = self._clock()
        self._fault = None

    # -- Robot interface ------------------------------------------------------------

    def observe(self) -> RobotObservation:
        self._require_connected()
        if self._fault is None:
            self._poll()
        arms = {}
        for arm in ARM_NAMES:
            state = self._call(arm, "reading the robot state", self._pandas[arm].get_state)
            q = _floats(state.q)
            arms[arm] = ArmState(
                joints=q,
                velocities=_floats(state.dq),
                torques=_floats(state.tau_J),
                ee_pose=self.kinematics.forward(self.arms[arm], q),
                gripper_width=self._hands[arm].width,
            )
        return RobotObservation(arms=arms, time=self._clock() - self._t0)

    def send_action(self, action: Action) -> Action:
        """Check every part of `action`; send it only if all of it passes, else SafetyError."""
        self._require_ready()
        self._poll()
        checked: Action = {}
        for arm, cmd in action.items():
            if arm not in self.arms:
                raise KeyError(f"unknown arm {arm!r}; this robot has {sorted(self.arms)}")
            spec = self.arms[arm]
            joints = None
            if cmd.joints is not None:
                joints = check_joints(spec, cmd.joints, self.limits)
                check_step(spec, self._goal[arm], joints, self.limits)
                check_workspace(spec, self.kinematics, self._setpoint[arm], joints, self.limits)
            width, force = check_gripper(spec, cmd.gripper_width, cmd.gripper_force)
            checked[arm] = replace(cmd, joints=joints, gripper_width=width, gripper_force=force)
        for arm, cmd in checked.items():
            if cmd.joints is not None:
                self._goal[arm] = cmd.joints
            if cmd.gripper_width is not None:  # as in simulation, a force alone changes nothing
                force = cmd.gripper_force if cmd.gripper_force else None
                self._hands[arm].submit(GripperCommand(cmd.gripper_width, force))
        self._advance()
        return checked

    def wait(self, seconds: float) -> None:
        """Sleep in control ticks, streaming the setpoints and watching for errors."""
        self._require_ready()
        end = self._clock() + max(seconds, 0.0)
        while True:
            self._poll()
            self._advance()
            remaining = end - self._clock()
            if remaining <= 0:
                return
            self._sleep(min(self.control_period, remaining))

    def wrench(self, arm: str) -> ForceTorque:
        """The wrench the hand's load exerts on the arm, in the world frame.

        libfranka's estimate counts forces the robot applies to the environment as
        positive; the sign is flipped so that, as with the simulated sensor, a held
        weight pulls towards -z. The hand's own weight is already removed by the robot,
        given the end-effector settings in Desk. Torques are about the stiffness frame.
        """
        self._require_connected()
        state = self._call(arm, "reading the wrench", self._pandas[arm].get_state)
        wrench = -np.asarray(state.O_F_ext_hat_K, dtype=float)
        rotation = rotation_matrix(self.arms[arm].base.orientation)
        force, torque = rotation @ wrench[:3], rotation @ wrench[3:]
        fx, fy, fz = (float(v) for v in force)
        tx, ty, tz = (float(v) for v in torque)
        return ForceTorque((fx, fy, fz), (tx, ty, tz), timestamp=self._clock() - self._t0)

    # -- internals ------------------------------------------------------------------

    def _narrow_limits(self, arm: str, panda: Any) -> None:
        """Keep the joint limits inside what the connected model (FER or FR3) allows."""
        spec = self.arms[arm]
        lower = np.maximum(spec.joint_lower, np.asarray(panda.get_joint_limits_lower(), float))
        upper = np.minimum(spec.joint_upper, np.asarray(panda.get_joint_limits_upper(), float))
        self.arms[arm] = replace(spec, joint_lower=_floats(lower), joint_upper=_floats(upper))

    def _start_controller(self, arm: str) -> None:
        controller = self._sdk.controllers.JointPosition()
        self._pandas[arm].start_controller(controller)
        self._controllers[arm] = controller
        q = _floats(self._pandas[arm].get_state().q)
        self._setpoint[arm] = self._goal[arm] = q
        self._velocity[arm] = (0.0,) * len(q)

    def _advance(self) -> None:
        now = self._clock()
        dt = min(max(now - self._last_advance, 0.0), self.control_period)
        self._last_advance = now
        for arm in ARM_NAMES:
            setpoint, velocity = step_toward(
                self.arms[arm], self._setpoint[arm], self._goal[arm], self.limits.speed_scale, dt
            )
            if setpoint == self._setpoint[arm] and velocity == self._velocity[arm]:
                continue
            self._call(
                arm,
                "sending the joint target",
                self._controllers[arm].set_control,
                np.asarray(setpoint),
                np.asarray(velocity),
            )
            self._setpoint[arm], self._velocity[arm] = setpoint, velocity

    def _poll(self) -> None:
        """Surface errors raised asynchronously: the control loops and the hand workers."""
        for arm in ARM_NAMES:
            error = self._hands[arm].error
            if error is not None:
                self._fail(arm, f"the hand failed: {error}", error)
            panda = self._pandas[arm]
            self._call(arm, "the control loop", panda.raise_error)
            if not self._call(arm, "reading the controller", panda.is_moving):
                self._fail(arm, "its joint controller stopped unexpectedly", None)

    def _call(self, arm: str, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as e:
            self._fail(arm, f"{what} failed: {e}", e)

    def _fail(self, arm: str, message: str, cause: BaseException | None) -> NoReturn:
        self._fault = RobotFault(arm, message)
        log.error("%s", self._fault)
        self._stop_everything()
        raise self._fault from cause

    def _stop_everything(self) -> None:
        """Best effort: stop both controllers (arms then hold position) and both hands."""
        for arm, panda in self._pandas.items():
            try:
                panda.stop_controller()
            except Exception as e:
                log.warning("stopping the %s arm's controller failed: %s", arm, e)
        for hand in self._hands.values():
            hand.close()

    def _release(self) -> None:
        self._pandas.clear()
        self._controllers.clear()
        self._hands.clear()

    def _shutdown(self, report: bool) -> None:
        if not self._connected:
            return
        pending: RobotFault | None = None
        if self._fault is None:
            try:
                self._poll()
            except RobotFault as e:  # an error nobody has seen yet: it stopped all; now tell
                pending = e
        if pending is None:
            self._stop_everything()
        self._release()
        if self.camera is not None:
            self.camera.disconnect()
        self._connected = False
        if pending is not None and report:
            raise pending

    def _require_connected(self) -> None:
        if not self._connected:
            raise RuntimeError("the Panda arms are not connected; call connect() first")

    def _require_ready(self) -> None:
        self._require_connected()
        if self._fault is not None:
            raise self._fault
