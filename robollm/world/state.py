"""The scene as the planner and skills see it: one shape for simulation and hardware."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from robollm.geometry import Box, Pose


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    type: str
    colour: str
    size: float  # m: edge of a block, diameter of round things, length of a tray
    pose: Pose  # footprint centre on its support, yaw in the orientation
    height: float
    footprint: tuple[float, float]  # extent along the object's x and y
    material: str | None = None  # unknown until sensed (knock, touch, weigh)
    properties: dict[str, str] = field(default_factory=dict)  # evidence from interactive perception

    @property
    def yaw(self) -> float:
        x, y, z, w = self.pose.orientation
        return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))

    @property
    def radius(self) -> float:
        return 0.5 * math.hypot(*self.footprint)


@dataclass
class SceneState:
    objects: dict[str, ObjectInfo]
    holding: dict[str, str | None]  # arm -> object name
    regions: dict[str, Box]
    time: float = 0.0

    def region_of(self, name: str) -> str | None:
        x, y = self.objects[name].pose.position[:2]
        for region, box in self.regions.items():
            if box.contains_xy(x, y):
                return region
        return None

    def holder(self, name: str) -> str | None:
        for arm, held in self.holding.items():
            if held == name:
                return arm
        return None

    def free_spot(self, region: str, radius: float, avoid: tuple[str, ...] = (),
                  margin: float = 0.03) -> tuple[float, float] | None:
        """The point of `region` farthest from every other object on the table."""
        box = self.regions[region]
        best, best_clear = None, -1.0
        others = [o for o in self.objects.values() if o.name not in avoid and self.holder(o.name) is None]
        nx, ny = 9, 9
        for i in range(nx):
            for j in range(ny):
                x = box.low[0] + radius + margin + (box.size[0] - 2 * (radius + margin)) * i / (nx - 1)
                y = box.low[1] + radius + margin + (box.size[1] - 2 * (radius + margin)) * j / (ny - 1)
                clear = min((math.hypot(x - o.pose.position[0], y - o.pose.position[1]) - o.radius
                             for o in others), default=1.0)
                if clear > best_clear + 1e-9:
                    best, best_clear = (x, y), clear
        if best is None or best_clear < radius + margin:
            return None
        return best
