"""`PandaOptions`: the `robot.options` of a launch file that uses the `panda` driver.

Loaded and checked without the SDK or a network, so `robollm check-config` works anywhere;
`PandaOptions.limits` hands the safety settings to `panda_safety`. An optional `camera`
block adds an RGB-D camera to the robot's sensors (`robollm.drivers.camera_options`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from robollm.config import LaunchConfig
from robollm.drivers.camera_options import CameraOptions
from robollm.drivers.panda_safety import SafetyLimits
from robollm.errors import ConfigError
from robollm.robot.rig import ARM_NAMES
from robollm.schema import load_dataclass

__all__ = ["PandaOptions"]


@dataclass
class PandaOptions:
    """`robot.options` of a launch file that uses the `panda` driver."""

    hosts: dict[str, str]  # arm name -> FCI address of its control unit
    speed_scale: float = 0.3  # fraction of each joint's velocity limit the setpoint may move at
    control_rate: float = 50.0  # Hz: commands per second a controller sends; wait() ticks at it
    max_step: float = 0.5  # rad: largest change of any joint in one command; more is refused
    joint_margin: float = 0.05  # rad outside the joint limits that is still clipped, not refused
    workspace_margin: float = 0.0  # m the grasp point must stay inside the workspace faces
    path_resolution: float = 0.05  # rad between workspace checks along a commanded joint path
    gripper_speed: float = 0.05  # m/s of the fingers (the Franka Hand does at most 0.1)
    grasp_epsilon_inner: float = 0.005  # m: a grasp succeeds this much below the target width
    grasp_epsilon_outer: float = 0.08  # m: ... and this much above it
    camera: CameraOptions | None = None  # an RGB-D camera watching the table, if any

    @classmethod
    def from_config(cls, config: LaunchConfig) -> PandaOptions:
        options = load_dataclass(cls, config.robot.options, config.source, prefix="robot.options")
        options._check(config.source)
        return options

    def _check(self, source: str) -> None:
        def fail(key: str, expected: str, got: object) -> NoReturn:
            raise ConfigError(f"{source}: key 'robot.options.{key}' should be {expected}, got {got!r}")

        if set(self.hosts) != set(ARM_NAMES):
            fail("hosts", "a mapping with exactly the arms left and right", sorted(self.hosts))
        for arm, host in self.hosts.items():
            if not host.strip():
                fail(f"hosts.{arm}", "a host name or IP address", host)
        if len(set(self.hosts.values())) != len(self.hosts):
            fail("hosts", "a different address for each arm", self.hosts)
        ranges = {
            "speed_scale": (0.0, 1.0, "in (0, 1]"),
            "control_rate": (0.0, 1000.0, "in (0, 1000] Hz"),
            "max_step": (0.0, 3.0, "in (0, 3] rad"),
            "path_resolution": (0.0, 0.5, "in (0, 0.5] rad"),
            "gripper_speed": (0.0, 0.1, "in (0, 0.1] m/s"),
        }
        for key, (lo, hi, text) in ranges.items():
            value = getattr(self, key)
            if not lo < value <= hi:
                fail(key, text, value)
        for key in ("joint_margin", "workspace_margin", "grasp_epsilon_inner", "grasp_epsilon_outer"):
            if getattr(self, key) < 0:
                fail(key, ">= 0", getattr(self, key))
        if self.camera is not None:
            self.camera.check(source)
            wrists = {f"{arm}_wrist_ft" for arm in ARM_NAMES}
            if self.camera.name in wrists:
                fail("camera.name", f"a name other than {' and '.join(sorted(wrists))}", self.camera.name)

    @property
    def limits(self) -> SafetyLimits:
        return SafetyLimits(
            speed_scale=self.speed_scale,
            max_step=self.max_step,
            joint_margin=self.joint_margin,
            workspace_margin=self.workspace_margin,
            path_resolution=self.path_resolution,
        )
