"""Simulated sensors returning the same observation types as real ones.

Cameras render with PyBullet's software renderer. The wrist force-torque sensor is
the reaction wrench of the joint between flange and hand. Finger contact sums the
contact forces on each finger pad. The microphone synthesises impact sounds from the
contact solver's impulses: each new contact excites the struck object's acoustic
modes (frequencies and damping from its material and size), so a knock on metal
rings high and long and a knock on foam thuds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from robollm.geometry import Pose
from robollm.robot.sensors import (
    AudioClip,
    CameraFrame,
    ContactReading,
    FingerContact,
    ForceTorque,
    Sensor,
    SensorInfo,
)
from robollm.sim.materials import MATERIAL_TABLE
from robollm.sim.world import FINGER_LINKS, HAND_JOINT, SimWorld

HAND_LINKS = (8, 9, 10, 11)  # hand, fingers and grasp point: what the wrist sensor carries
ImpactEvent = tuple[float, float, tuple[float, ...], float]  # time, impulse (N s), modes (Hz), damping
# The fingertip thermometer: a pad kept at skin temperature, with skin's effusivity, that
# touches objects at room temperature. Two touching half-spaces meet at the temperature
# weighted by their effusivities sqrt(k rho c), which is why steel feels colder than
# wood at the same temperature; the pad's sensor follows with a short lag.
FINGER_TEMPERATURE = 33.0  # deg C
ROOM_TEMPERATURE = 22.0  # deg C
FINGER_EFFUSIVITY = 1100.0  # W s^0.5 / (m^2 K), about that of human skin
THERMAL_LAG = 0.05  # s: time constant of the pad's sensor
THERMAL_NOISE = 0.05  # deg C of reading noise


@dataclass(frozen=True)
class CameraSpec:
    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    fov: float = 50.0
    near: float = 0.05
    far: float = 3.0


FRONT = CameraSpec(eye=(1.45, 0.0, 0.8), target=(0.32, 0.0, 0.12))
TOP = CameraSpec(eye=(0.5, 0.0, 1.35), target=(0.5, 0.0, 0.0), up=(1.0, 0.0, 0.0), fov=55.0)
# What camera perception looks through: high over the table's far side, tilted 17 degrees
# back towards the robot, so the hands hovering at home over the near edge hide nothing
# on the table, and a wide image spends its pixels on the table rather than the floor.
TABLE = CameraSpec(eye=(0.9, 0.0, 1.3), target=(0.5, 0.0, 0.0), fov=30.0)
TABLE_SIZE = (512, 256)  # width, height in pixels


def _look_at_quat(spec: CameraSpec) -> tuple[float, float, float, float]:
    """Camera orientation (x right, y down, z forward) as a quaternion.

    The branch on the largest diagonal term keeps the conversion exact for every
    rotation, a half turn included (a camera looking straight down).
    """
    z = np.subtract(spec.target, spec.eye)
    z = z / np.linalg.norm(z)
    x = np.cross(z, spec.up)
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.stack([x, y, z], axis=1)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(1.0 + trace)
        q = ((m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4)
    elif m[0, 0] >= m[1, 1] and m[0, 0] >= m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = (s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s)
    elif m[1, 1] >= m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = ((m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = ((m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s)
    return tuple(float(v) for v in q)  # type: ignore[return-value]


class SimCamera(Sensor):
    def __init__(self, name: str, world: SimWorld, spec: CameraSpec, width: int, height: int) -> None:
        super().__init__(SensorInfo(name, "camera", extra={"width": width, "height": height}))
        self.world, self.spec, self.width, self.height = world, spec, width, height
        pb = world.pb
        self._view = pb.computeViewMatrix(spec.eye, spec.target, spec.up)
        self._proj = pb.computeProjectionMatrixFOV(spec.fov, width / height, spec.near, spec.far)
        fy = (height / 2) / math.tan(math.radians(spec.fov) / 2)
        self.intrinsics = (fy, fy, width / 2, height / 2)

    def read(self, width: int | None = None, height: int | None = None,
             light: dict[str, object] | None = None) -> CameraFrame:
        """`light`: PyBullet's lighting arguments (lightDirection, lightAmbientCoeff, ...),
        varied when rendering training images."""
        pb = self.world.pb
        w, h = width or self.width, height or self.height
        proj = self._proj if (w, h) == (self.width, self.height) else pb.computeProjectionMatrixFOV(
            self.spec.fov, w / h, self.spec.near, self.spec.far)
        _, _, rgba, depth_buf, seg = pb.getCameraImage(
            w, h, self._view, proj, renderer=pb.ER_TINY_RENDERER,
            flags=pb.ER_SEGMENTATION_MASK_OBJECT_AND_LINKINDEX, **(light or {}))
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(h, w, 4)[:, :, :3].copy()
        d = np.asarray(depth_buf, dtype=np.float32).reshape(h, w)
        near, far = self.spec.near, self.spec.far
        depth = (far * near / (far - (far - near) * d)).astype(np.float32)
        seg_raw = np.asarray(seg, dtype=np.int64).reshape(h, w)
        body = np.where(seg_raw >= 0, seg_raw & ((1 << 24) - 1), -1).astype(np.int32)
        fy = (h / 2) / math.tan(math.radians(self.spec.fov) / 2)
        return CameraFrame(rgb, depth, body, self.world.body_names(), (fy, fy, w / 2, h / 2),
                           Pose(self.spec.eye, _look_at_quat(self.spec)), self.world.time)


class SimWristForceTorque(Sensor):
    """Wrench the hand exerts on the flange, world frame, with the hand's own weight removed."""

    def __init__(self, world: SimWorld, arm: str) -> None:
        super().__init__(SensorInfo(f"{arm}_wrist_ft", "force_torque", arm=arm))
        self.world, self.arm = world, arm
        pb, body = world.pb, world.arm_bodies[arm]
        self.hand_mass = sum(pb.getDynamicsInfo(body, link)[0] for link in HAND_LINKS)

    def read(self) -> ForceTorque:
        pb, body = self.world.pb, self.world.arm_bodies[self.arm]
        reaction = pb.getJointState(body, HAND_JOINT)[2]
        orn = pb.getLinkState(body, HAND_JOINT, computeForwardKinematics=True)[5]
        rot = np.array(pb.getMatrixFromQuaternion(orn)).reshape(3, 3)
        force = rot @ np.array(reaction[:3])
        torque = rot @ np.array(reaction[3:])
        # At rest the joint carries the hand's weight; report only what the hand holds.
        force = -force - np.array([0.0, 0.0, -9.81 * self.hand_mass])
        return ForceTorque(tuple(float(v) for v in force), tuple(float(v) for v in -torque), self.world.time)


class SimFingerContact(Sensor):
    """Normal and shear force on each finger pad, and the pad's temperature reading."""

    def __init__(self, world: SimWorld, arm: str) -> None:
        super().__init__(SensorInfo(f"{arm}_fingers", "contact", arm=arm,
                                    extra={"finger_temperature": FINGER_TEMPERATURE,
                                           "room_temperature": ROOM_TEMPERATURE}))
        self.world, self.arm = world, arm
        self._thermal: dict[str, tuple[float, float]] = {}  # finger -> (time read, temperature)

    def read(self) -> ContactReading:
        pb, body = self.world.pb, self.world.arm_bodies[self.arm]
        materials = {o.body: MATERIAL_TABLE[o.spec.resolved_material] for o in self.world.objects.values()}
        rng = np.random.default_rng(self.world.steps)
        fingers = {}
        for label, link in zip(("left_finger", "right_finger"), FINGER_LINKS, strict=True):
            normal, shear = 0.0, np.zeros(3)
            touched = None
            for c in pb.getContactPoints(bodyA=body, linkIndexA=link):
                if c[2] == body:
                    continue
                normal += c[9]
                shear += c[10] * np.array(c[11]) + c[12] * np.array(c[13])
                touched = materials.get(c[2], touched)
            effusivity = touched.thermal_effusivity if touched is not None and normal > 1e-6 else None
            temperature = self._temperature(label, effusivity) + THERMAL_NOISE * float(rng.standard_normal())
            fingers[label] = FingerContact(float(normal), float(np.linalg.norm(shear)), normal > 1e-6,
                                           round(temperature, 3))
        return ContactReading(fingers, self.world.time)

    def _temperature(self, finger: str, effusivity: float | None) -> float:
        """The pad's sensor relaxing towards the contact temperature (skin temperature in air)."""
        if effusivity is None:
            target = FINGER_TEMPERATURE  # the pad's heater holds it when nothing touches it
        else:
            target = ((FINGER_EFFUSIVITY * FINGER_TEMPERATURE + effusivity * ROOM_TEMPERATURE)
                      / (FINGER_EFFUSIVITY + effusivity))
        now = self.world.time
        last, value = self._thermal.get(finger, (now, FINGER_TEMPERATURE))
        value = target + (value - target) * math.exp(-(now - last) / THERMAL_LAG)
        self._thermal[finger] = (now, value)
        return value


class SimMicrophone(Sensor):
    """Impact sounds by modal synthesis, recorded while listening (between start and stop)."""

    SAMPLE_RATE = 32000
    MODE_GAINS = (1.0, 0.55, 0.3)
    MIN_IMPULSE = 2e-4  # N s: lighter touches make no audible sound
    NOISE = 2e-5

    def __init__(self, world: SimWorld, name: str = "microphone") -> None:
        super().__init__(SensorInfo(name, "microphone", extra={"sample_rate": self.SAMPLE_RATE}))
        self.world = world
        self.listening = False
        self._events: list[ImpactEvent] = []
        self._pairs: set[tuple[int, int]] = set()
        self._read_from = 0.0

    def start(self) -> None:
        """Listen from now on: contact onsets are scanned every physics step until stop()."""
        if not self.listening:
            self.world.add_step_hook(1, self._scan)
        self.listening = True
        self._events.clear()
        self._pairs = set(self._current_pairs())
        self._read_from = self.world.time

    def stop(self) -> None:
        self.listening = False
        self.world.remove_step_hook(self._scan)

    def _current_pairs(self) -> dict[tuple[int, int], float]:
        forces: dict[tuple[int, int], float] = {}
        for c in self.world.pb.getContactPoints():
            key = (min(c[1], c[2]), max(c[1], c[2]))
            forces[key] = forces.get(key, 0.0) + c[9]
        return forces

    def _scan(self) -> None:
        if not self.listening:
            return
        forces = self._current_pairs()
        objects = {o.body: o for o in self.world.objects.values()}
        for pair, force in forces.items():
            impulse = force * self.world.dt
            if pair in self._pairs or impulse < self.MIN_IMPULSE:
                continue
            for body in pair:
                obj = objects.get(body)
                if obj is None:
                    continue
                mat = MATERIAL_TABLE[obj.spec.resolved_material]
                self._events.append((self.world.time, impulse, mat.modes_for(obj.spec.resolved_size), mat.damping_ratio))
        # A contact counts as heard once it carries an audible impulse: Bullet often reports
        # a 0 N touch one step before the real impact, which must not mask it.
        self._pairs = {p for p, f in forces.items() if p in self._pairs or f * self.world.dt >= self.MIN_IMPULSE}

    def read(self) -> AudioClip:
        t0, t1 = self._read_from, self.world.time
        n = max(0, int(round((t1 - t0) * self.SAMPLE_RATE)))
        samples = synthesise(self._events, t0, n, self.SAMPLE_RATE, np.random.default_rng(self.world.steps))
        self._read_from = t1
        return AudioClip(samples, self.SAMPLE_RATE, t0)

    @property
    def events(self) -> list[ImpactEvent]:
        """The impacts heard since start(): what the recording was synthesised from."""
        return list(self._events)



def synthesise(events: list[ImpactEvent], t0: float, n: int, sample_rate: int = SimMicrophone.SAMPLE_RATE,
               rng: np.random.Generator | None = None) -> np.ndarray:
    """`n` samples from time `t0`: every impact rings its object's modes, over a faint noise floor.

    The microphone records through this function, and so does the fast path that makes
    training sounds for the knock classifier, so both hear the same physics.
    """
    rng = rng or np.random.default_rng(0)
    t = t0 + np.arange(n) / sample_rate
    out = SimMicrophone.NOISE * rng.standard_normal(n)
    nyquist = sample_rate / 2
    for when, impulse, modes, zeta in events:
        dt = t - when
        on = dt >= 0
        for gain, f in zip(SimMicrophone.MODE_GAINS, modes, strict=False):
            if f >= nyquist:
                continue
            w = 2 * math.pi * f
            out[on] += 0.8 * impulse * gain * np.exp(-zeta * w * dt[on]) * np.sin(w * dt[on])
    return np.clip(out, -1.0, 1.0).astype(np.float32)
