"""A fake of panda-python's lowest level (the `panda_py` module), for the real-robot
driver's tests: classes named and shaped like the real `Panda`,
`controllers.JointPosition`, `libfranka.Gripper`, `RobotState` and `GripperState`, that
record every call with its arguments and raise injected errors, and a clock that moves
only when the driver sleeps. tests/test_panda_driver.py checks it against the installed
SDK, so it cannot drift from what the driver will meet.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from robollm.robot.arms import PANDA_HOME, PANDA_JOINT_LOWER, PANDA_JOINT_UPPER

LEFT, RIGHT = "172.16.0.2", "172.16.0.3"
HOST = {"left": LEFT, "right": RIGHT}


# -- the fake SDK ---------------------------------------------------------------------


@dataclass
class Call:
    host: str | None
    name: str  # "Class.method"
    args: tuple[Any, ...]


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    failures: dict[tuple[str | None, str], Exception] = field(default_factory=dict)
    initial_q: tuple[float, ...] = PANDA_HOME
    wrench: tuple[float, ...] = (0.0,) * 6
    joint_limits: tuple[tuple[float, ...], tuple[float, ...]] = (
        PANDA_JOINT_LOWER,
        PANDA_JOINT_UPPER,
    )
    gripper_gate: threading.Event | None = None  # when set up, move/grasp block on it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, host: str | None, name: str, *args: Any) -> None:
        with self.lock:
            self.calls.append(Call(host, name, args))
        error = self.failures.get((host, name))
        if error is not None:
            raise error

    def named(self, name: str, host: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.name == name and host in (None, c.host)]

    def commands(self) -> list[Call]:
        """Calls that make something move or stop, as opposed to reads."""
        moving = ("set_control", "start_controller", "stop_controller", "grasp", "move", "stop")
        with self.lock:
            return [c for c in self.calls if c.name.split(".")[1] in moving]


class FakeRobotState:
    def __init__(self, q: list[float], wrench: tuple[float, ...]) -> None:
        self.q = list(q)
        self.dq = [0.0] * 7
        self.tau_J = [0.5] * 7
        self.O_F_ext_hat_K = list(wrench)
        self.O_T_EE = [1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0, 0, 0.3, 0, 0.5, 1.0]


class FakeGripperState:
    def __init__(self, width: float) -> None:
        self.width = width
        self.max_width = 0.08
        self.is_grasped = False


class FakePanda:
    rec: Recorder

    def __init__(self, hostname: str, name: str = "panda", realtime_config: Any = None) -> None:
        self.rec.record(hostname, "Panda.__init__", hostname)
        self.host = hostname
        self.q = list(self.rec.initial_q)
        self.controller: FakeJointPosition | None = None

    def get_state(self) -> FakeRobotState:
        self.rec.record(self.host, "Panda.get_state")
        return FakeRobotState(self.q, self.rec.wrench)

    def start_controller(self, controller: FakeJointPosition) -> None:
        self.rec.record(self.host, "Panda.start_controller", controller)
        controller.panda = self
        self.controller = controller

    def stop_controller(self) -> None:
        self.rec.record(self.host, "Panda.stop_controller")
        self.controller = None

    def is_moving(self) -> bool:
        self.rec.record(self.host, "Panda.is_moving")
        return self.controller is not None

    def raise_error(self) -> None:
        self.rec.record(self.host, "Panda.raise_error")

    def recover(self) -> None:
        self.rec.record(self.host, "Panda.recover")

    def get_joint_limits_lower(self) -> np.ndarray:
        self.rec.record(self.host, "Panda.get_joint_limits_lower")
        return np.array(self.rec.joint_limits[0])

    def get_joint_limits_upper(self) -> np.ndarray:
        self.rec.record(self.host, "Panda.get_joint_limits_upper")
        return np.array(self.rec.joint_limits[1])


class FakeJointPosition:
    rec: Recorder
    panda: FakePanda | None = None

    def __init__(
        self,
        stiffness: Any = (600.0, 600.0, 600.0, 600.0, 250.0, 150.0, 50.0),
        damping: Any = (50.0, 50.0, 50.0, 20.0, 20.0, 20.0, 10.0),
        filter_coeff: float = 1.0,
    ) -> None:
        self.rec.record(None, "JointPosition.__init__")

    def set_control(self, position: Any, velocity: Any = (0.0,) * 7) -> None:
        host = self.panda.host if self.panda else None
        self.rec.record(host, "JointPosition.set_control", tuple(position), tuple(velocity))
        if self.panda is not None:
            self.panda.q = [float(v) for v in position]  # tracks perfectly


class FakeGripper:
    rec: Recorder

    def __init__(self, franka_address: str) -> None:
        self.rec.record(franka_address, "Gripper.__init__", franka_address)
        self.host = franka_address
        self.width = 0.08

    def _block(self) -> None:
        if self.rec.gripper_gate is not None:
            assert self.rec.gripper_gate.wait(5.0)

    def grasp(
        self,
        width: float,
        speed: float,
        force: float,
        epsilon_inner: float = 0.005,
        epsilon_outer: float = 0.005,
    ) -> bool:
        self.rec.record(self.host, "Gripper.grasp", width, speed, force, epsilon_inner, epsilon_outer)
        self._block()
        self.width = max(width, 0.03)  # closes on a 3 cm object
        return True

    def move(self, width: float, speed: float) -> bool:
        self.rec.record(self.host, "Gripper.move", width, speed)
        self._block()
        self.width = width
        return True

    def read_once(self) -> FakeGripperState:
        self.rec.record(self.host, "Gripper.read_once")
        return FakeGripperState(self.width)

    def stop(self) -> bool:
        self.rec.record(self.host, "Gripper.stop")
        return True

    def homing(self) -> bool:
        self.rec.record(self.host, "Gripper.homing")
        return True


FAKES = {
    "Panda": FakePanda,
    "JointPosition": FakeJointPosition,
    "Gripper": FakeGripper,
}


def fake_sdk(rec: Recorder) -> SimpleNamespace:
    """A stand-in for the `panda_py` module whose classes all report to `rec`."""

    def bound(cls: type) -> type:
        return type(cls.__name__.removeprefix("Fake"), (cls,), {"rec": rec})

    return SimpleNamespace(
        Panda=bound(FakePanda),
        controllers=SimpleNamespace(JointPosition=bound(FakeJointPosition)),
        libfranka=SimpleNamespace(
            Gripper=bound(FakeGripper), RobotState=FakeRobotState, GripperState=FakeGripperState
        ),
    )


class FakeClock:
    """Robot time that passes only when the driver sleeps, so tests run instantly."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


# -- comparing the fake with the installed SDK ------------------------------------------


def _parameter_names(signature: str) -> list[str]:
    """Parameter names of one pybind11 signature line, `name(a: T, b: U = x) -> R`."""
    inner = signature[signature.index("(") + 1 :]
    depth, quote, part, parts = 0, "", "", []
    for ch in inner:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(part)
            part = ""
            continue
        part += ch
    parts.append(part)
    names = [p.split(":")[0].split("=")[0].strip() for p in parts if p.strip()]
    return [n for n in names if n != "self"]


def real_signatures(method: Any, name: str) -> list[list[str]]:
    lines = (method.__doc__ or "").splitlines()
    heads = [line.split(". ", 1)[-1] for line in lines if f"{name}(" in line]
    return [_parameter_names(h) for h in heads if "*args" not in h]
