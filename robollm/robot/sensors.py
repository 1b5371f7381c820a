"""One sensor shape for simulation and real hardware.

Every sensor returns one of the observation types below, whoever produced it, so the
perception code that reads a knock recording or a wrist wrench never asks where it
came from.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from robollm.geometry import Pose, Vec3


@dataclass
class CameraFrame:
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) float32, metres along the optical axis
    segmentation: np.ndarray | None  # (H, W) int32 label ids, or None if the camera has none
    labels: dict[int, str]  # segmentation id -> object name
    intrinsics: tuple[float, float, float, float]  # fx, fy, cx, cy in pixels
    pose: Pose  # camera pose in the world frame
    timestamp: float


@dataclass
class ForceTorque:
    """Wrench measured at an arm's wrist, expressed in the world frame, gravity of the hand removed."""

    force: Vec3
    torque: Vec3
    timestamp: float


@dataclass
class FingerContact:
    normal_force: float  # newtons pressing into the finger pad
    shear_force: float  # newtons along the pad (slip and friction)
    in_contact: bool
    temperature: float | None = None  # deg C at the pad, where the finger has a thermometer


@dataclass
class ContactReading:
    fingers: dict[str, FingerContact]  # "left_finger" / "right_finger"
    timestamp: float


@dataclass
class AudioClip:
    samples: np.ndarray  # (N,) float32 in [-1, 1]
    sample_rate: int
    timestamp: float  # time of the first sample

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate)


Observation = CameraFrame | ForceTorque | ContactReading | AudioClip


@dataclass
class SensorInfo:
    name: str
    kind: str  # one of Sensor.KINDS
    arm: str | None = None  # the arm it is mounted on, if any
    extra: dict[str, object] = field(default_factory=dict)


class Sensor(ABC):
    """A named source of one observation type."""

    KINDS: ClassVar[tuple[str, ...]] = ("camera", "force_torque", "contact", "microphone")

    def __init__(self, info: SensorInfo) -> None:
        if info.kind not in self.KINDS:
            raise ValueError(f"sensor kind {info.kind!r} is not one of {self.KINDS}")
        self.info = info

    @property
    def name(self) -> str:
        return self.info.name

    @abstractmethod
    def read(self) -> Observation:
        """The latest reading; a microphone returns what it heard since the previous read."""
