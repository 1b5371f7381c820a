"""The motion interface skills use, and the controllers behind it.

`Motion` is all a skill gets: straight-line moves, grippers, sensors and time. It never
hands out the robot or the launch file, so a learned policy skill, a fake and the real
controllers run the same skill code. `RobotMotion` implements it on any `Robot`:
straight-line Cartesian moves by IK waypoints and joint interpolation.

The same code drives one arm or both. Two arms moving together either share one
clock (`both_sync`, each trajectory stretched to the slower one, as a tray lift needs)
or keep their own timing (`both_async`). Each coordination mode has its own controller
settings per arm in the launch file. Everything goes through the `Robot` interface.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robollm.config import LaunchConfig
from robollm.geometry import Pose
from robollm.robot.base import ArmCommand, ArmSpec, Robot
from robollm.robot.sensors import Sensor

WAYPOINT_SPACING = 0.03  # m between IK waypoints along a straight line
IK_TOLERANCE = 0.008  # m: a waypoint IK cannot get closer than this is out of reach
SERVO_IK_ROUNDS = 2  # IK rounds per servo tick: the target is a centimetre away, the seed close


@dataclass
class MoveResult:
    ok: bool
    reason: str = ""
    error: float = 0.0  # m between the grasp point and the target at the end


def _lerp_pose(a: Pose, b: Pose, s: float) -> Pose:
    pos = tuple(float(x) for x in np.add(a.position, s * np.subtract(b.position, a.position)))
    return Pose(pos, b.orientation)


class Motion(ABC):
    """What skills get instead of the robot: moves, grippers, sensors, time."""

    arms: dict[str, ArmSpec]  # static facts of each arm (workspace, gripper limits)

    @property
    @abstractmethod
    def control_period(self) -> float:
        """Seconds between two commands of the controller (the robot's own rhythm)."""

    @abstractmethod
    def in_workspace(self, arm: str, position) -> bool: ...

    @abstractmethod
    def plan(self, arm: str, target: Pose, start_joints=None) -> tuple[list[tuple[float, ...]], str]:
        """Joint waypoints along a straight line to `target` (from `start_joints`, default
        the arm's joints now), or the reason it cannot be done; nothing moves."""

    @abstractmethod
    def move(self, targets: dict[str, Pose], mode: str | None = None) -> MoveResult:
        """Move one or both arms in straight lines. `mode` is left, right, both_sync or both_async."""

    @abstractmethod
    def servo(self, targets: dict[str, Pose], seconds: float) -> None:
        """Command each arm's joints once towards a nearby pose and let `seconds` pass.

        A learned policy moves this way, one small step per control tick, rather than by
        planned straight lines that settle at every target.
        """

    @abstractmethod
    def open_gripper(self, arm: str, wait: float = 0.5) -> None: ...

    @abstractmethod
    def close_gripper(self, arm: str, force: float | None = None, wait: float = 0.6,
                      timeout: float = 3.0) -> float:
        """Close with a grasp force (default: the arm's configured one); the width once still."""

    @abstractmethod
    def grasp_force(self, arm: str, mode: str | None = None) -> float:
        """The configured grasp force of `arm` in coordination mode `mode` (default: the arm alone)."""

    @abstractmethod
    def gripper_width(self, arm: str) -> float: ...

    @abstractmethod
    def ee_pose(self, arm: str) -> Pose: ...

    @abstractmethod
    def home(self, arm: str) -> MoveResult: ...

    @abstractmethod
    def sensor(self, name: str) -> Sensor: ...

    @abstractmethod
    def wait(self, seconds: float) -> None: ...


class RobotMotion(Motion):
    """`Motion` on a `Robot`, with the launch file's controller settings."""

    def __init__(self, robot: Robot, config: LaunchConfig) -> None:
        self._robot = robot
        self._config = config
        self.arms = robot.arms
        self.tick_hooks: list[Callable[[], None]] = []  # called after every wait, e.g. to record video

    @property
    def control_period(self) -> float:
        return self._robot.control_period

    def grasp_force(self, arm: str, mode: str | None = None) -> float:
        return self._config.controller(mode or arm, arm).grasp_force

    def _wait(self, seconds: float) -> None:
        self._robot.wait(seconds)
        for hook in self.tick_hooks:
            hook()

    # -- planning ---------------------------------------------------------------------
    def in_workspace(self, arm: str, position) -> bool:
        ws = self.arms[arm].workspace
        return all(lo - 1e-6 <= v <= hi + 1e-6 for lo, v, hi in zip(ws.low, position, ws.high, strict=True))

    def plan(self, arm: str, target: Pose, start_joints=None) -> tuple[list[tuple[float, ...]], str]:
        """Joint waypoints along a straight line to `target`, or a reason it can't be done."""
        if not self.in_workspace(arm, target.position):
            return [], "target out of reach"
        spec, kin = self.arms[arm], self._robot.kinematics
        q = tuple(start_joints if start_joints is not None else self._robot.observe().arms[arm].joints)
        start = kin.forward(spec, q)
        n = max(1, math.ceil(start.distance_to(target) / WAYPOINT_SPACING))
        waypoints = [q]
        for i in range(1, n + 1):
            q, err = kin.inverse(spec, _lerp_pose(start, target, i / n), q)
            if err > IK_TOLERANCE:
                return [], "target out of reach"
            waypoints.append(q)
        return waypoints, ""

    # -- execution --------------------------------------------------------------------
    def move(self, targets: dict[str, Pose], mode: str | None = None) -> MoveResult:
        """Move one or both arms in straight lines. `mode` is left, right, both_sync or both_async."""
        mode = mode or (next(iter(targets)) if len(targets) == 1 else "both_sync")
        plans, durations = {}, {}
        for arm, target in targets.items():
            waypoints, reason = self.plan(arm, target)
            if reason:
                return MoveResult(False, f"{arm} arm: {reason}")
            plans[arm] = waypoints
            durations[arm] = self._durations(arm, waypoints, mode)
        if mode == "both_sync":
            longest = max(sum(d) for d in durations.values())
            durations = {a: [x * longest / max(sum(d), 1e-9) for x in d] for a, d in durations.items()}
        self._execute(plans, durations)
        return self._settle(targets, mode)

    def _durations(self, arm: str, waypoints, mode: str) -> list[float]:
        ctl = self._config.controller(mode, arm)
        spec = self.arms[arm]
        vmax = np.asarray(spec.max_velocity) * ctl.joint_speed_scale
        kin = self._robot.kinematics
        out = []
        for a, b in zip(waypoints, waypoints[1:], strict=False):
            cart = kin.forward(spec, a).distance_to(kin.forward(spec, b)) / ctl.ee_speed
            joint = float(np.max(np.abs(np.subtract(b, a)) / vmax))
            out.append(max(cart, joint, self._robot.control_period))
        return out

    def _execute(self, plans: dict, durations: dict) -> None:
        period = self._robot.control_period
        total = max(sum(d) for d in durations.values())
        times = {a: np.concatenate([[0.0], np.cumsum(d)]) for a, d in durations.items()}
        steps = max(1, math.ceil(total / period))
        for k in range(1, steps + 1):
            t = min(k * period, total)
            action = {}
            for arm, waypoints in plans.items():
                ts = times[arm]
                if t >= ts[-1]:
                    q = waypoints[-1]
                else:
                    i = int(np.searchsorted(ts, t, side="right") - 1)
                    s = (t - ts[i]) / max(ts[i + 1] - ts[i], 1e-9)
                    q = tuple(np.add(waypoints[i], s * np.subtract(waypoints[i + 1], waypoints[i])))
                action[arm] = ArmCommand(joints=tuple(float(v) for v in q))
            self._robot.send_action(action)
            self._wait(period)

    def _settle(self, targets: dict[str, Pose], mode: str) -> MoveResult:
        ctls = {a: self._config.controller(mode, a) for a in targets}
        deadline = max(c.settle_time for c in ctls.values())
        self._wait(deadline)
        errors = {}
        for _ in range(int(1.0 / 0.1)):
            obs = self._robot.observe()
            errors = {a: obs.arms[a].ee_pose.distance_to(t) for a, t in targets.items()}
            if all(errors[a] <= ctls[a].position_tolerance for a in targets):
                return MoveResult(True, error=max(errors.values()))
            self._wait(0.1)
        worst = max(errors, key=errors.get)
        return MoveResult(False, f"{worst} arm stopped {errors[worst] * 100:.1f} cm short of its target "
                                 "(blocked, or at its joint torque limits)", errors[worst])

    def servo(self, targets: dict[str, Pose], seconds: float) -> None:
        obs = self._robot.observe()
        action = {}
        for arm, target in targets.items():
            q, _ = self._robot.kinematics.inverse(self.arms[arm], target, obs.arms[arm].joints,
                                                  iterations=SERVO_IK_ROUNDS)
            action[arm] = ArmCommand(joints=q)
        self._robot.send_action(action)
        self._wait(seconds)

    # -- grippers and sensors -------------------------------------------------------
    def open_gripper(self, arm: str, wait: float = 0.5) -> None:
        self._robot.send_action({arm: ArmCommand(gripper_width=self.arms[arm].gripper_max_width)})
        self._wait(wait)

    def close_gripper(self, arm: str, force: float | None = None, wait: float = 0.6,
                      timeout: float = 3.0) -> float:
        """Close with a grasp force; returns the width once the fingers have stopped.

        A real hand reports its width only when its command finishes, so wait until
        the width is steady rather than for a fixed time.
        """
        f = force if force is not None else self.grasp_force(arm)
        self._robot.send_action({arm: ArmCommand(gripper_width=0.0, gripper_force=f)})
        self._wait(wait)
        width = self._robot.observe().arms[arm].gripper_width
        waited = wait
        while waited < timeout:
            self._wait(0.1)
            waited += 0.1
            now = self._robot.observe().arms[arm].gripper_width
            if abs(now - width) < 5e-4:
                return now
            width = now
        return width

    def gripper_width(self, arm: str) -> float:
        return self._robot.observe().arms[arm].gripper_width

    def ee_pose(self, arm: str) -> Pose:
        return self._robot.observe().arms[arm].ee_pose

    def home(self, arm: str) -> MoveResult:
        spec = self.arms[arm]
        target = self._robot.kinematics.forward(spec, spec.home)
        return self.move({arm: target})

    def sensor(self, name: str):
        return self._robot.sensors[name]

    def wait(self, seconds: float) -> None:
        self._wait(seconds)
