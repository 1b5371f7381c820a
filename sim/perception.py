"""Ground-truth perception: the scene read straight from the simulator's state.

It stands in for camera-based perception in simulation runs and evaluations, and
says so wherever runs are reported. It reports what eyes could see; materials stay
unknown until a skill senses them.
"""

from __future__ import annotations

from robollm.perception import Perception
from robollm.sim.robot import PyBulletRobot
from robollm.state import ObjectInfo, SceneState


class GroundTruthPerception(Perception):
    name = "ground truth (simulator state)"

    def __init__(self, robot: PyBulletRobot) -> None:
        self.robot = robot
        self.world = robot.world

    def observe(self) -> SceneState:
        objects = {}
        for name, obj in self.world.objects.items():
            spec = obj.spec
            objects[name] = ObjectInfo(
                name=name, type=spec.type, colour=spec.colour, size=spec.resolved_size,
                pose=self.world.object_pose(name), height=obj.model.height,
                footprint=obj.model.footprint,
            )
        holding = {arm: self.robot.held_object(arm) for arm in self.world.arms}
        return SceneState(objects, holding, dict(self.world.regions), self.world.time)
