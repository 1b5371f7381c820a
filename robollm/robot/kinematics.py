"""Panda kinematics computed by PyBullet used as a math library.

A private DIRECT client holds one Panda at the origin and never steps physics, so
the real driver and the simulated rig get the same inverse kinematics without
touching any simulation that may be running.
"""

from __future__ import annotations

import numpy as np

from robollm.geometry import Pose
from robollm.robot.arms import panda_urdf
from robollm.robot.base import ArmSpec, Kinematics
from robollm.util.quiet import import_pybullet, quiet_stdout

GRASP_LINK = 11  # panda_grasptarget: the point between the fingertips
ARM_JOINTS = tuple(range(7))


def _to_base(arm: ArmSpec, pose: Pose, pb) -> Pose:
    inv_pos, inv_orn = pb.invertTransform(arm.base.position, arm.base.orientation)
    pos, orn = pb.multiplyTransforms(inv_pos, inv_orn, pose.position, pose.orientation)
    return Pose(tuple(pos), tuple(orn))


class PandaKinematics(Kinematics):
    def __init__(self) -> None:
        pybullet, bullet_client = import_pybullet()
        with quiet_stdout():
            self._pb = bullet_client.BulletClient(connection_mode=pybullet.DIRECT)
        self._body = self._pb.loadURDF(str(panda_urdf()), useFixedBase=True)

    def _set(self, joints: tuple[float, ...]) -> None:
        for j, q in zip(ARM_JOINTS, joints, strict=True):
            self._pb.resetJointState(self._body, j, q)

    def forward(self, arm: ArmSpec, joints: tuple[float, ...]) -> Pose:
        self._set(joints)
        state = self._pb.getLinkState(self._body, GRASP_LINK, computeForwardKinematics=True)
        pos, orn = self._pb.multiplyTransforms(
            arm.base.position, arm.base.orientation, state[4], state[5]
        )
        return Pose(tuple(pos), tuple(orn))

    def inverse(
        self, arm: ArmSpec, target: Pose, seed: tuple[float, ...], iterations: int = 8
    ) -> tuple[tuple[float, ...], float]:
        local = _to_base(arm, target, self._pb)
        lower, upper = list(arm.joint_lower), list(arm.joint_upper)
        ranges = [hi - lo for lo, hi in zip(lower, upper, strict=True)]
        q = tuple(seed)
        error = float("inf")
        # PyBullet's IK takes one damped step from the current state; a few rounds from
        # the previous answer converge to millimetres.
        for _ in range(iterations):
            self._set(q)
            sol = self._pb.calculateInverseKinematics(
                self._body,
                GRASP_LINK,
                local.position,
                local.orientation,
                lowerLimits=lower + [0.0, 0.0],
                upperLimits=upper + [0.04, 0.04],
                jointRanges=ranges + [0.04, 0.04],
                restPoses=list(arm.home) + [0.02, 0.02],
                maxNumIterations=100,
                residualThreshold=1e-5,
            )
            q = arm.clip_joints(sol[:7])
            error = self._error(q, local)
            if error < 1e-3:
                return q, error
        # The null-space pull towards home keeps the posture natural but biases the
        # answer by millimetres; finish with plain damped least squares from there.
        for _ in range(iterations):
            self._set(q)
            sol = self._pb.calculateInverseKinematics(
                self._body, GRASP_LINK, local.position, local.orientation,
                maxNumIterations=100, residualThreshold=1e-6,
            )
            q = arm.clip_joints(sol[:7])
            error = self._error(q, local)
            if error < 5e-4:
                break
        return q, error

    def _error(self, q: tuple[float, ...], local: Pose) -> float:
        self._set(q)
        pos = self._pb.getLinkState(self._body, GRASP_LINK, computeForwardKinematics=True)[4]
        return float(np.linalg.norm(np.subtract(pos, local.position)))
