"""`ground_truth-v0`: the scene read straight from the simulator's state.

It stands in for camera-based perception in simulation runs and evaluations, and says
so wherever runs are reported. It needs a driver that knows the true scene (the
`GroundTruth` capability); materials stay unknown until a skill senses them.
"""

from __future__ import annotations

from robollm.config import LaunchConfig
from robollm.perception.base import Perception
from robollm.robot.base import Robot
from robollm.robot.capabilities import GroundTruth, require
from robollm.world.state import SceneState


class GroundTruthPerception(Perception):
    name = "ground truth (simulator state)"

    def __init__(self, robot: Robot, config: LaunchConfig, options: None = None) -> None:
        self.source = require(robot, GroundTruth, config.robot.driver,
                              f"{config.source}: key 'perception' = ground_truth")

    def observe(self) -> SceneState:
        return self.source.true_scene()
