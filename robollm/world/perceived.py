"""Success facts from a perceived scene, for drivers that cannot measure the world's
geometry themselves (real hardware).

In, on, at and holding come from the relations read off the perceived poses (the same
reading the planner's symbolic state uses); lifted and near from the perceived poses
and footprints, with the thresholds the simulator's geometric facts use; upright,
at_edge and touching from `robollm.world.geometric`.
"""

from __future__ import annotations

import math

from robollm.world.geometric import DISCOVERY_RELATIONS, perceived_holds
from robollm.world.state import SceneState
from robollm.world.symbolic import from_scene

LIFT_HEIGHT = 0.05  # m above the table for `lifted`
NEAR_GAP = 0.06  # m between footprints for `near`


class PerceivedFacts:
    """The `robollm.world.predicates.Facts` protocol over one perceived scene."""

    def __init__(self, scene: SceneState) -> None:
        self.scene = scene
        self.symbolic = from_scene(scene)
        self.table_z = min((box.low[2] for box in scene.regions.values()), default=0.0)

    def objects(self) -> set[str]:
        return set(self.scene.objects)

    def regions(self) -> set[str]:
        return set(self.scene.regions)

    def arms(self) -> set[str]:
        return set(self.scene.holding)

    def holds(self, relation: str, args: tuple[str, ...]) -> bool:
        if relation == "lifted":
            obj = self.scene.objects[args[0]]
            return obj.pose.position[2] > self.table_z + LIFT_HEIGHT
        if relation == "near":
            a, b = (self.scene.objects[n] for n in args)
            if a.name == b.name:
                return False
            gap = math.dist(a.pose.position[:2], b.pose.position[:2]) - a.radius - b.radius
            return gap <= NEAR_GAP
        if relation in DISCOVERY_RELATIONS:
            return perceived_holds(relation, args, self.scene)
        return self.symbolic.holds(relation, args)
