"""`PyBulletRobot`: the simulated two-arm Panda rig behind the `Robot` interface.

Joints run under PyBullet's position motors with Franka's torque limits as the motor
force limits, so a load the real arm could not carry sags here too.
"""

from __future__ import annotations

from robollm.config import LaunchConfig
from robollm.geometry import Pose
from robollm.robot.base import Action, ArmCommand, ArmState, Robot, RobotObservation
from robollm.robot.capabilities import GeometricFacts, GroundTruth, MarkerHolder, SceneLoader
from robollm.robot.kinematics import GRASP_LINK, PandaKinematics
from robollm.robot.sensors import Sensor
from robollm.sim.facts import SimGeometricFacts
from robollm.sim.grasp import GraspModel
from robollm.sim.marker import HandMarker
from robollm.sim.sensors import (
    FRONT,
    TABLE,
    TABLE_SIZE,
    TOP,
    SimCamera,
    SimFingerContact,
    SimMicrophone,
    SimWristForceTorque,
)
from robollm.sim.world import FINGER_LINKS, SimWorld
from robollm.world.predicates import Facts
from robollm.world.scene import SceneSpec
from robollm.world.state import ObjectInfo, SceneState

ARM_JOINTS = list(range(7))
POSITION_GAIN = 0.25
OPEN_FORCE = 20.0  # N the finger motors use when opening or holding a width
GRASP_CHECK_EVERY = 4  # physics steps between grasp updates


class PyBulletRobot(Robot, SceneLoader, GroundTruth, GeometricFacts, MarkerHolder):
    """Also lays out scenes, knows the true scene, judges success from geometry, and holds a
    camera-calibration marker in a hand."""

    def __init__(self, config: LaunchConfig, gui: bool | None = None, world: SimWorld | None = None) -> None:
        self.config = config
        self.world = world or SimWorld(config, gui=gui)
        self.arms = self.world.arms
        self.kinematics = PandaKinematics()
        self.control_period = 4 * self.world.dt
        self.grasps = GraspModel(self.world)
        self.world.add_step_hook(GRASP_CHECK_EVERY, self.grasps.update)
        w, h = config.sim.camera_width, config.sim.camera_height
        sensors: list[Sensor] = [
            SimCamera("front_camera", self.world, FRONT, w, h),
            SimCamera("top_camera", self.world, TOP, w, h),
            SimCamera("table_camera", self.world, TABLE, *TABLE_SIZE),
            SimMicrophone(self.world),
        ]
        for arm in self.arms:
            sensors += [SimWristForceTorque(self.world, arm), SimFingerContact(self.world, arm)]
        self.sensors = {s.name: s for s in sensors}
        self._marker: HandMarker | None = None
        self._connected = False
        self._targets: dict[str, tuple[float, ...]] = {a: s.home for a, s in self.arms.items()}

    # -- Robot interface ------------------------------------------------------------
    def connect(self) -> None:
        if self.world.pb is None:
            raise RuntimeError("the simulation was closed; make a new PyBulletRobot")
        self._connected = True
        self.send_action({a: ArmCommand(joints=s.home, gripper_width=s.gripper_max_width)
                          for a, s in self.arms.items()})

    def disconnect(self) -> None:
        if self._connected:
            self._connected = False
        self.world.close()

    @property
    def is_connected(self) -> bool:
        return self._connected

    def observe(self) -> RobotObservation:
        pb = self.world.pb
        arms = {}
        for name, body in self.world.arm_bodies.items():
            states = pb.getJointStates(body, ARM_JOINTS)
            link = pb.getLinkState(body, GRASP_LINK, computeForwardKinematics=True)
            fingers = pb.getJointStates(body, list(FINGER_LINKS))
            arms[name] = ArmState(
                joints=tuple(s[0] for s in states),
                velocities=tuple(s[1] for s in states),
                torques=tuple(s[3] for s in states),
                ee_pose=Pose(tuple(link[4]), tuple(link[5])),
                gripper_width=float(fingers[0][0] + fingers[1][0]),
            )
        return RobotObservation(arms, self.world.time)

    def send_action(self, action: Action) -> Action:
        if not self._connected:
            raise RuntimeError("send_action before connect()")
        sent = self.clip_action(action)
        pb = self.world.pb
        for name, cmd in sent.items():
            body, spec = self.world.arm_bodies[name], self.arms[name]
            if cmd.joints is not None:
                self._targets[name] = cmd.joints
                pb.setJointMotorControlArray(
                    body, ARM_JOINTS, pb.POSITION_CONTROL, targetPositions=list(cmd.joints),
                    forces=list(spec.max_torque), positionGains=[POSITION_GAIN] * 7)
            if cmd.gripper_width is not None:
                closing = cmd.gripper_force is not None and cmd.gripper_force > 0
                force = cmd.gripper_force if closing else OPEN_FORCE
                half = cmd.gripper_width / 2
                pb.setJointMotorControlArray(body, list(FINGER_LINKS), pb.POSITION_CONTROL,
                                             targetPositions=[half, half], forces=[force, force])
                self.grasps.command(name, force if closing else 0.0)
        return sent

    def wait(self, seconds: float) -> None:
        self.world.step(max(1, int(round(seconds / self.world.dt))))

    # -- capabilities: scene layout, ground truth, geometric success facts --------------
    def load_scene(self, scene: SceneSpec, seed: int) -> None:
        self.world.load_scene(scene, seed)

    def held_object(self, arm: str) -> str | None:
        return self.grasps.held(arm)

    def true_scene(self) -> SceneState:
        objects = {}
        for name, obj in self.world.objects.items():
            spec = obj.spec
            objects[name] = ObjectInfo(
                name=name, type=spec.type, colour=spec.colour, size=spec.resolved_size,
                pose=self.world.object_pose(name), height=obj.model.height,
                footprint=obj.model.footprint,
            )
        holding = {arm: self.held_object(arm) for arm in self.world.arms}
        return SceneState(objects, holding, dict(self.world.regions), self.world.time)

    def geometric_facts(self) -> Facts:
        return SimGeometricFacts(self)

    def hold_marker(self, arm: str, radius: float, rgb: tuple[float, float, float],
                    offset: float = 0.0) -> None:
        self.drop_marker()
        self._marker = HandMarker(self.world, arm, radius, rgb, offset)
        spec = self.arms[arm]
        self.send_action({arm: ArmCommand(gripper_width=min(2 * radius, spec.gripper_max_width))})

    def drop_marker(self) -> None:
        if self._marker is not None:
            self._marker.remove()
            self._marker = None
