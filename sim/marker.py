"""A camera-calibration marker carried by a simulated hand.

A coloured sphere without collision or mass that follows the hand's grasp point every
physics step, standing in for the ball a person puts between a real hand's fingers.
Being visual only, it never disturbs the arm's dynamics or a grasp.
"""

from __future__ import annotations

import numpy as np

from robollm.robot.kinematics import GRASP_LINK
from robollm.sim.world import SimWorld


class HandMarker:
    def __init__(self, world: SimWorld, arm: str, radius: float, rgb: tuple[float, float, float],
                 offset: float) -> None:
        self.world, self.arm, self.offset = world, arm, offset
        pb = world.pb
        shape = pb.createVisualShape(pb.GEOM_SPHERE, radius=radius, rgbaColor=[*rgb, 1.0])
        self.body = pb.createMultiBody(baseMass=0.0, baseCollisionShapeIndex=-1,
                                       baseVisualShapeIndex=shape)
        world.add_step_hook(1, self.follow)
        self.follow()

    def centre(self) -> np.ndarray:
        """Where the marker's centre is: `offset` beyond the grasp point along the approach axis."""
        pb = self.world.pb
        link = pb.getLinkState(self.world.arm_bodies[self.arm], GRASP_LINK, computeForwardKinematics=True)
        rot = np.array(pb.getMatrixFromQuaternion(link[5])).reshape(3, 3)
        return np.asarray(link[4]) + rot @ np.array([0.0, 0.0, self.offset])

    def follow(self) -> None:
        self.world.pb.resetBasePositionAndOrientation(self.body, self.centre().tolist(), [0, 0, 0, 1])

    def remove(self) -> None:
        self.world.remove_step_hook(self.follow)
        self.world.pb.removeBody(self.body)
