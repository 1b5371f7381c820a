"""Success predicates read off the simulation's geometry and contacts."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from robollm.world.geometric import (
    EDGE_GAP,
    FLOOR_DROP,
    TOUCH_GAP,
    UPRIGHT_TILT,
    region_edges,
    tilt,
)
from robollm.world.perceived import LIFT_HEIGHT, NEAR_GAP
from robollm.world.scene import CONTAINER_TYPES

if TYPE_CHECKING:
    from robollm.sim.robot import PyBulletRobot

STACK_TOLERANCE = 0.015  # m between the bottom of one object and the top of another for `on`


class SimGeometricFacts:
    """The `robollm.world.predicates.Facts` protocol over a running simulation."""

    def __init__(self, robot: PyBulletRobot) -> None:
        self.robot = robot
        self.world = robot.world

    def objects(self) -> set[str]:
        return set(self.world.objects)

    def regions(self) -> set[str]:
        return set(self.world.regions)

    def arms(self) -> set[str]:
        return set(self.world.arms)

    def holds(self, relation: str, args: tuple[str, ...]) -> bool:
        return getattr(self, f"_{relation}")(*args)

    def _held(self, name: str) -> bool:
        return any(self.robot.held_object(arm) == name for arm in self.world.arms)

    def _holding(self, arm: str, name: str) -> bool:
        return self.robot.held_object(arm) == name

    def _lifted(self, name: str) -> bool:
        return self.world.aabb(name).low[2] > self.world.table_height + LIFT_HEIGHT

    def _in(self, name: str, container: str) -> bool:
        if name == container or self.world.objects[container].spec.type not in CONTAINER_TYPES:
            return False
        if self._held(name):
            return False
        c = self.world.objects[container]
        cpose = self.world.object_pose(container)
        pos = self.world.object_pose(name).position
        cbox = self.world.aabb(container)
        inside_xy = self._inside_footprint(pos, cpose, c)
        box = self.world.aabb(name)
        return inside_xy and box.low[2] >= cbox.low[2] - 0.005 and box.low[2] <= cbox.high[2]

    def _inside_footprint(self, pos, cpose, c) -> bool:
        dx, dy = pos[0] - cpose.position[0], pos[1] - cpose.position[1]
        if c.spec.type in ("bowl", "cup"):
            return math.hypot(dx, dy) <= c.model.inner_radius
        x, y, z, w = cpose.orientation
        yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        lx = math.cos(yaw) * dx + math.sin(yaw) * dy
        ly = -math.sin(yaw) * dx + math.cos(yaw) * dy
        half_x = c.model.footprint[0] / 2 - 0.01
        half_y = c.spec.resolved_size / 2 - 0.01
        return abs(lx) <= half_x and abs(ly) <= half_y

    def _on(self, name: str, support: str) -> bool:
        if name == support or self._held(name):
            return False
        a, b = self.world.aabb(name), self.world.aabb(support)
        x, y = self.world.object_pose(name).position[:2]
        over = b.low[0] <= x <= b.high[0] and b.low[1] <= y <= b.high[1]
        touching = self.world.contacts_between(self.world.objects[name].body, self.world.objects[support].body)
        resting = abs(a.low[2] - b.high[2]) <= STACK_TOLERANCE or (
            self.world.objects[support].spec.type in CONTAINER_TYPES and self._in(name, support))
        return over and touching and resting

    def _at(self, name: str, region: str) -> bool:
        if self._held(name):  # an object in a hand is not at any place on the table
            return False
        x, y = self.world.object_pose(name).position[:2]
        return self.world.regions[region].contains_xy(x, y)

    def _near(self, a: str, b: str) -> bool:
        if a == b:
            return False
        ba, bb = self.world.aabb(a), self.world.aabb(b)
        gap_x = max(0.0, max(ba.low[0], bb.low[0]) - min(ba.high[0], bb.high[0]))
        gap_y = max(0.0, max(ba.low[1], bb.low[1]) - min(ba.high[1], bb.high[1]))
        return math.hypot(gap_x, gap_y) <= NEAR_GAP

    def _upright(self, name: str) -> bool:
        return tilt(self.world.object_pose(name).orientation) <= UPRIGHT_TILT

    def _at_edge(self, name: str, region: str) -> bool:
        """Resting on the table, centre in the region, its bounding box within
        `EDGE_GAP` of (or past) one of the table edges the region borders."""
        if self._held(name):
            return False
        box, area = self.world.aabb(name), self.world.regions[region]
        x, y, _ = self.world.object_pose(name).position
        if not area.contains_xy(x, y) or box.low[2] < self.world.table_height - FLOOR_DROP:
            return False
        (x0, y0), (x1, y1) = self.world.config.table.low, self.world.config.table.high
        gaps = {"far": x1 - box.high[0], "near": box.low[0] - x0, "left": y1 - box.high[1],
                "right": box.low[1] - y0}
        table = type(area)((x0, y0, area.low[2]), (x1, y1, area.high[2]))
        return any(gaps[e] <= EDGE_GAP for e in region_edges(area, table))

    def _touching(self, a: str, b: str) -> bool:
        if a == b:
            return False
        pb, objs = self.world.pb, self.world.objects
        return bool(pb.getClosestPoints(objs[a].body, objs[b].body, TOUCH_GAP))
