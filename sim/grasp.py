"""A friction-limited grasp for the simulated Panda hand.

PyBullet's friction between two thin fingers and a box drifts over seconds, so a
grasp is held by a fixed constraint between the hand and the object, created only
when both fingers press on the same object while the gripper closes. Its force is
capped at what Coulomb friction could hold (2 x mu x grip force): a heavier or
harder-pulled object slips out, and the constraint is dropped as soon as the fingers
open or lose contact. Nothing moves the object to the hand; the constraint holds it
where the fingers found it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robollm.sim.materials import MATERIAL_TABLE
from robollm.sim.world import FINGER_LINKS, SimWorld

GRASP_LINK = 11
SLIP_DISTANCE = 0.02  # m the object may drift from where it was grasped before it counts as slipped


@dataclass
class Grasp:
    body: int
    name: str
    constraint: int
    local_position: tuple[float, float, float]


class GraspModel:
    def __init__(self, world: SimWorld) -> None:
        self.world = world
        self.grasps: dict[str, Grasp | None] = {arm: None for arm in world.arms}
        self.closing: dict[str, float] = {arm: 0.0 for arm in world.arms}  # grip force, 0 = open
        self.slipped: dict[str, str | None] = {arm: None for arm in world.arms}

    def command(self, arm: str, closing_force: float) -> None:
        self.closing[arm] = closing_force
        if closing_force <= 0.0:
            self.release(arm)
            return
        grasp = self.grasps[arm]
        if grasp is not None:  # a firmer or gentler squeeze changes what friction can hold
            obj = next(o for o in self.world.objects.values() if o.body == grasp.body)
            mu = MATERIAL_TABLE[obj.spec.resolved_material].friction
            self.world.pb.changeConstraint(grasp.constraint, maxForce=2.0 * mu * closing_force)

    def release(self, arm: str) -> None:
        grasp = self.grasps[arm]
        if grasp is not None:
            self.world.pb.removeConstraint(grasp.constraint)
            self.grasps[arm] = None

    def held(self, arm: str) -> str | None:
        grasp = self.grasps[arm]
        return grasp.name if grasp else None

    def _finger_touch(self, arm: str) -> set[int]:
        pb, body = self.world.pb, self.world.arm_bodies[arm]
        touched: list[set[int]] = []
        for link in FINGER_LINKS:
            touched.append({c[2] for c in pb.getContactPoints(bodyA=body, linkIndexA=link)})
        return touched[0] & touched[1]

    def update(self) -> None:
        """Called every few physics steps: make, keep or break grasps."""
        if not any(force > 0.0 for force in self.closing.values()):
            return
        objects = {obj.body: obj for obj in self.world.objects.values()}
        for arm, body in self.world.arm_bodies.items():
            force = self.closing[arm]
            grasp = self.grasps[arm]
            if force <= 0.0:
                continue
            both = self._finger_touch(arm) & set(objects)
            if grasp is None:
                if both:
                    self._make(arm, body, objects[min(both)], force)
                continue
            if grasp.body not in both or self._drift(arm, grasp) > SLIP_DISTANCE:
                self.slipped[arm] = grasp.name
                self.release(arm)

    def _make(self, arm: str, arm_body: int, obj, force: float) -> None:
        pb = self.world.pb
        link = pb.getLinkState(arm_body, GRASP_LINK, computeForwardKinematics=True)
        obj_pos, obj_orn = pb.getBasePositionAndOrientation(obj.body)
        inv_pos, inv_orn = pb.invertTransform(link[4], link[5])
        rel_pos, rel_orn = pb.multiplyTransforms(inv_pos, inv_orn, obj_pos, obj_orn)
        cid = pb.createConstraint(arm_body, GRASP_LINK, obj.body, -1, pb.JOINT_FIXED, (0, 0, 0),
                                  rel_pos, (0, 0, 0), rel_orn, (0, 0, 0, 1))
        mu = MATERIAL_TABLE[obj.spec.resolved_material].friction
        pb.changeConstraint(cid, maxForce=2.0 * mu * force)
        self.grasps[arm] = Grasp(obj.body, obj.name, cid, tuple(rel_pos))
        self.slipped[arm] = None

    def _drift(self, arm: str, grasp: Grasp) -> float:
        pb = self.world.pb
        link = pb.getLinkState(self.world.arm_bodies[arm], GRASP_LINK, computeForwardKinematics=True)
        expected, _ = pb.multiplyTransforms(link[4], link[5], grasp.local_position, (0, 0, 0, 1))
        actual, _ = pb.getBasePositionAndOrientation(grasp.body)
        return float(np.linalg.norm(np.subtract(expected, actual)))
