"""The simulated world: one PyBullet client holding a table, two Pandas and objects.

The world knows bodies and geometry; the robot driver (`robollm.sim.robot`) turns
it into a `Robot`, and `robollm.sim.facts` reads predicates off it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robollm.config import LaunchConfig
from robollm.errors import ConfigError
from robollm.geometry import Box, Pose
from robollm.robot.arms import panda_urdf
from robollm.robot.base import ArmSpec
from robollm.robot.rig import arm_specs
from robollm.sim.client import new_client
from robollm.sim.materials import MATERIAL_TABLE
from robollm.sim.objects import ObjectModel, build_model, mass_and_com, spawn
from robollm.world.regions import table_regions
from robollm.world.scene import ObjectSpec, SceneSpec

PLACEMENT_MARGIN = 0.035  # m kept free between footprints and from the table edge
FINGER_LINKS = (9, 10)
HAND_JOINT = 8  # fixed joint between flange and hand: the wrist force-torque sensor


@dataclass
class SimObject:
    spec: ObjectSpec
    body: int
    model: ObjectModel
    com: tuple[float, float, float]  # centre of mass in the footprint frame

    @property
    def name(self) -> str:
        return self.spec.object_name


class SimWorld:
    def __init__(self, config: LaunchConfig, gui: bool | None = None) -> None:
        self.config = config
        self.dt = config.sim.timestep
        self.pb = new_client(gui=config.sim.gui if gui is None else gui, timestep=self.dt)
        self.arms: dict[str, ArmSpec] = arm_specs(config.robot)
        self.regions: dict[str, Box] = table_regions(config.table, self.arms)
        self.table_height = config.table.height
        self.table = self._make_table()
        self.arm_bodies: dict[str, int] = {name: self._load_arm(spec) for name, spec in self.arms.items()}
        self.objects: dict[str, SimObject] = {}
        self.steps = 0
        self._hooks: list[tuple[int, Callable[[], None]]] = []

    # -- construction -------------------------------------------------------------
    def _make_table(self) -> int:
        (x0, y0), (x1, y1) = self.config.table.low, self.config.table.high
        half = ((x1 - x0) / 2, (y1 - y0) / 2, 0.02)
        col = self.pb.createCollisionShape(self.pb.GEOM_BOX, halfExtents=half)
        vis = self.pb.createVisualShape(self.pb.GEOM_BOX, halfExtents=half, rgbaColor=(0.78, 0.66, 0.5, 1))
        centre = ((x0 + x1) / 2, (y0 + y1) / 2, self.table_height - half[2])
        body = self.pb.createMultiBody(0.0, col, vis, centre)
        wood = MATERIAL_TABLE["wood"]
        self.pb.changeDynamics(body, -1, lateralFriction=wood.friction, restitution=wood.restitution)
        # A pedestal under the arms so the scene reads as a torso behind a table.
        ped = self.pb.createVisualShape(self.pb.GEOM_BOX, halfExtents=(0.12, 0.42, 0.01), rgbaColor=(0.3, 0.3, 0.33, 1))
        self.pb.createMultiBody(0.0, -1, ped, (0.0, 0.0, self.table_height - 0.01))
        return body

    def _load_arm(self, spec: ArmSpec) -> int:
        body = self.pb.loadURDF(
            str(panda_urdf()), spec.base.position, spec.base.orientation,
            useFixedBase=True, flags=self.pb.URDF_USE_INERTIA_FROM_FILE,
        )
        for j, q in enumerate(spec.home):
            self.pb.resetJointState(body, j, q)
        for finger in FINGER_LINKS:
            self.pb.resetJointState(body, finger, spec.gripper_max_width / 2)
            self.pb.changeDynamics(body, finger, lateralFriction=1.2, spinningFriction=0.01,
                                   frictionAnchor=1)
        self.pb.enableJointForceTorqueSensor(body, HAND_JOINT, True)
        return body

    # -- scenes -------------------------------------------------------------------
    def clear_objects(self) -> None:
        for obj in self.objects.values():
            self.pb.removeBody(obj.body)
        self.objects.clear()

    def load_scene(self, scene: SceneSpec, seed: int, settle: float = 0.3) -> None:
        """Place the scene's objects without overlap; the same seed gives the same layout.
        They are let go half a millimetre above the table and given `settle` seconds to
        come to rest."""
        self.clear_objects()
        rng = np.random.default_rng(seed)
        placed: list[tuple[float, float, float]] = []  # x, y, radius
        # Objects with a fixed pose first, then the largest, so big things find room.
        order = sorted(range(len(scene.objects)),
                       key=lambda i: (scene.objects[i].pose is None, -scene.objects[i].resolved_size))
        poses: dict[int, tuple[float, float, float]] = {}
        for i in order:
            spec = scene.objects[i]
            model = build_model(spec)
            radius = 0.5 * math.hypot(*model.footprint)
            poses[i] = self._choose_pose(spec, radius, placed, rng, scene.source, i)
            placed.append((poses[i][0], poses[i][1], radius))
        for i, spec in enumerate(scene.objects):
            x, y, yaw = poses[i]
            body = spawn(self.pb, spec, (x, y, self.table_height + 0.0005), yaw)
            model = build_model(spec)
            com = mass_and_com(model, MATERIAL_TABLE[spec.resolved_material])[1]
            self.objects[spec.object_name] = SimObject(spec, body, model, com)
        self.settle(settle)

    def _choose_pose(self, spec, radius, placed, rng, source, index) -> tuple[float, float, float]:
        if spec.pose is not None:
            yaw = spec.pose[2] if len(spec.pose) == 3 else 0.0
            return float(spec.pose[0]), float(spec.pose[1]), float(yaw)
        area = self._placement_area(spec)
        low = np.array(area.low[:2]) + PLACEMENT_MARGIN
        high = np.array(area.high[:2]) - PLACEMENT_MARGIN
        # Two-handed objects keep their handles pointing at the two arms.
        two_handed = spec.type in ("tray", "box")
        for _ in range(400):
            x, y = rng.uniform(low, high) if (high > low).all() else (low + high) / 2
            if two_handed:
                y = float(np.clip(y, -0.02, 0.02))
            clear = all(math.hypot(x - px, y - py) >= radius + pr + PLACEMENT_MARGIN for px, py, pr in placed)
            if clear:
                yaw = 0.0 if two_handed else float(rng.uniform(-0.5, 0.5))
                return float(x), float(y), yaw
        where = f"region {spec.region!r}" if spec.region else "the table"
        raise ConfigError(f"{source}: objects[{index}] ({spec.object_name}) does not fit on {where} beside the other objects")

    def _placement_area(self, spec: ObjectSpec) -> Box:
        if spec.region is not None:
            return self.regions[spec.region]
        if spec.type in ("tray", "box"):
            return self.regions["middle"]
        (x0, y0), (x1, y1) = self.config.table.low, self.config.table.high
        return Box((x0, y0, 0.0), (x1, y1, 0.0))

    # -- time -----------------------------------------------------------------------
    def add_step_hook(self, every: int, fn: Callable[[], None]) -> None:
        """Run `fn` after every `every`-th physics step (grasp monitoring, microphones)."""
        self._hooks.append((every, fn))

    def remove_step_hook(self, fn: Callable[[], None]) -> None:
        self._hooks = [(every, f) for every, f in self._hooks if f != fn]

    def step(self, n: int = 1) -> None:
        step = self.pb.stepSimulation
        if not self._hooks:
            for _ in range(n):
                step()
            self.steps += n
            return
        hooks = self._hooks
        chunk = min(every for every, _ in hooks)
        done = 0
        while done < n:
            k = min(chunk - self.steps % chunk, n - done)
            for _ in range(k):
                step()
            self.steps += k
            done += k
            for every, fn in hooks:
                if self.steps % every == 0:
                    fn()

    def settle(self, seconds: float = 0.3) -> None:
        self.step(int(seconds / self.dt))

    @property
    def time(self) -> float:
        return self.steps * self.dt

    # -- queries --------------------------------------------------------------------
    def object_pose(self, name: str) -> Pose:
        """Pose of the object's frame (footprint centre), not of its centre of mass."""
        obj = self.objects[name]
        # The body frame is the centre of mass; shift back to the footprint frame.
        pos, orn = self.pb.getBasePositionAndOrientation(obj.body)
        rot = np.array(self.pb.getMatrixFromQuaternion(orn)).reshape(3, 3)
        origin = np.array(pos) - rot @ np.array(obj.com)
        return Pose(tuple(float(v) for v in origin), tuple(orn))

    def aabb(self, name: str) -> Box:
        low, high = self.pb.getAABB(self.objects[name].body)
        return Box(tuple(low), tuple(high))

    def body_names(self) -> dict[int, str]:
        names = {obj.body: name for name, obj in self.objects.items()}
        names.update({body: f"{arm}_arm" for arm, body in self.arm_bodies.items()})
        names[self.table] = "table"
        return names

    def contacts_between(self, a: int, b: int) -> bool:
        return bool(self.pb.getContactPoints(bodyA=a, bodyB=b))

    def close(self) -> None:
        if self.pb is not None:
            try:
                self.pb.disconnect()
            except Exception:  # noqa: BLE001 - already gone is fine
                pass
            self.pb = None  # type: ignore[assignment]
