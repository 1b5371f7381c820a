"""Object models built from primitive shapes, with mass from material density.

Every object's frame sits at the centre of its footprint on the table, so placing an
object at table height puts it on the table. Round containers are rings of wall
boxes around a base disc: cheap for the contact solver and still open on top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from robollm.sim.materials import MATERIAL_TABLE, RIGID_STIFFNESS, Material
from robollm.world.scene import COLOURS, ObjectSpec

BOX, CYLINDER = "box", "cylinder"
HANDLE_BELOW_RIM = 0.012  # m from a tray's or box's rim down to the middle of its handle bars


@dataclass(frozen=True)
class Part:
    shape: str
    dims: tuple[float, ...]  # box: half extents; cylinder: (radius, height)
    position: tuple[float, float, float]
    yaw: float = 0.0

    @property
    def volume(self) -> float:
        if self.shape == BOX:
            return 8.0 * self.dims[0] * self.dims[1] * self.dims[2]
        return math.pi * self.dims[0] ** 2 * self.dims[1]


@dataclass
class ObjectModel:
    """Geometry in the object's frame plus the facts perception and skills need."""

    parts: list[Part]
    height: float
    footprint: tuple[float, float]  # x, y extent
    grasp_points: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    inner_radius: float = 0.0  # containers: free radius inside the walls
    graspable: bool = True


def _ring(radius: float, height: float, base_z: float, n: int, thickness: float) -> list[Part]:
    length = 2 * math.pi * radius / n * 1.08
    parts = []
    for i in range(n):
        a = 2 * math.pi * i / n
        parts.append(
            Part(BOX, (thickness / 2, length / 2, height / 2),
                 (radius * math.cos(a), radius * math.sin(a), base_z + height / 2), yaw=a)
        )
    return parts


def _open_box(length: float, width: float, height: float, floor: float, wall: float) -> list[Part]:
    """Floor plus four walls; `length` runs along y (between the handles)."""
    hl, hw = length / 2, width / 2
    return [
        Part(BOX, (hw, hl, floor / 2), (0.0, 0.0, floor / 2)),
        Part(BOX, (wall / 2, hl, height / 2), (hw - wall / 2, 0.0, height / 2)),
        Part(BOX, (wall / 2, hl, height / 2), (-hw + wall / 2, 0.0, height / 2)),
        Part(BOX, (hw, wall / 2, height / 2), (0.0, hl - wall / 2, height / 2)),
        Part(BOX, (hw, wall / 2, height / 2), (0.0, -hl + wall / 2, height / 2)),
    ]


def _handles(length: float, z: float, reach: float = 0.045) -> tuple[list[Part], dict]:
    """Two bars sticking out of the short ends; a top-down gripper closes across a bar's
    4 cm width, so the fingers stay clear of the end wall."""
    bar = (0.02, reach / 2, 0.009)  # half extents: 4 cm wide along x, 18 mm tall
    parts, points = [], {}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        y = sign * (length / 2 + reach / 2 - 0.004)
        parts.append(Part(BOX, bar, (0.0, y, z)))
        points[side] = (0.0, sign * (length / 2 + reach / 2), z)
    return parts, points


def build_model(spec: ObjectSpec) -> ObjectModel:
    kind, size = spec.type, spec.resolved_size
    if kind == "block":
        h = size / 2
        return ObjectModel([Part(BOX, (h, h, h), (0.0, 0.0, h))], size, (size, size),
                           {"top": (0.0, 0.0, size / 2)})
    if kind == "plate":
        t = 0.012
        return ObjectModel([Part(CYLINDER, (size / 2, t), (0.0, 0.0, t / 2))], t, (size, size),
                           graspable=False)
    if kind in ("bowl", "cup"):
        height = size * (0.38 if kind == "bowl" else 1.2)
        floor, wall = 0.006, 0.005
        r = size / 2 - wall / 2
        parts = [Part(CYLINDER, (size / 2 - wall, floor), (0.0, 0.0, floor / 2))]
        parts += _ring(r, height - floor, floor, 12 if kind == "bowl" else 10, wall)
        grasp = {"body": (0.0, 0.0, height * 0.6)} if kind == "cup" else {}
        return ObjectModel(parts, height, (size, size), grasp, inner_radius=r - wall,
                           graspable=kind == "cup")
    if kind in ("tray", "box"):
        width = size * (0.62 if kind == "tray" else 0.65)
        # The steel tray is thick-walled on purpose: about 11.7 kg, more than one Panda
        # arm's joint torques can raise by one handle at the table's far half, but
        # comfortably within what two arms share.
        height, floor, wall = (0.045, 0.013, 0.010) if kind == "tray" else (0.10, 0.01, 0.008)
        parts = _open_box(size, width, height, floor=floor, wall=wall)
        handle_parts, points = _handles(size, height - HANDLE_BELOW_RIM)
        return ObjectModel(parts + handle_parts, height, (width, size + 0.09), points,
                           inner_radius=min(width, size) / 2 - wall, graspable=False)
    raise ValueError(f"no model for object type {kind!r}")


def mass_and_com(model: ObjectModel, material: Material) -> tuple[float, tuple[float, float, float]]:
    volumes = np.array([p.volume for p in model.parts])
    centres = np.array([p.position for p in model.parts])
    com = (volumes[:, None] * centres).sum(axis=0) / volumes.sum()
    return float(volumes.sum() * material.density), tuple(float(c) for c in com)


def spawn(pb, spec: ObjectSpec, position, yaw: float) -> int:
    """Create the object in client `pb`; returns its body id."""
    model = build_model(spec)
    material = MATERIAL_TABLE[spec.resolved_material]
    mass, com = mass_and_com(model, material)
    rgba = (*COLOURS[spec.colour], 1.0)
    col_kwargs: dict[str, list] = {"shapeTypes": [], "halfExtents": [], "radii": [], "lengths": [],
                                   "collisionFramePositions": [], "collisionFrameOrientations": []}
    vis_kwargs: dict[str, list] = {"shapeTypes": [], "halfExtents": [], "radii": [], "lengths": [],
                                   "visualFramePositions": [], "visualFrameOrientations": [],
                                   "rgbaColors": []}
    for part in model.parts:
        shape = pb.GEOM_BOX if part.shape == BOX else pb.GEOM_CYLINDER
        half = part.dims if part.shape == BOX else (0.0, 0.0, 0.0)
        radius = part.dims[0] if part.shape == CYLINDER else 0.0
        length = part.dims[1] if part.shape == CYLINDER else 0.0
        orn = pb.getQuaternionFromEuler((0.0, 0.0, part.yaw))
        offset = tuple(p - c for p, c in zip(part.position, com, strict=True))
        for kw, prefix in ((col_kwargs, "collision"), (vis_kwargs, "visual")):
            kw["shapeTypes"].append(shape)
            kw["halfExtents"].append(half)
            kw["radii"].append(radius)
            kw["lengths"].append(length)
            kw[f"{prefix}FramePositions"].append(offset)
            kw[f"{prefix}FrameOrientations"].append(orn)
        vis_kwargs["rgbaColors"].append(rgba)
    col = pb.createCollisionShapeArray(**col_kwargs)
    vis = pb.createVisualShapeArray(**vis_kwargs)
    # The body's frame is its centre of mass; `position` names the footprint centre.
    c, s = math.cos(yaw), math.sin(yaw)
    world_com = (position[0] + c * com[0] - s * com[1], position[1] + s * com[0] + c * com[1],
                 position[2] + com[2])
    body = pb.createMultiBody(mass, col, vis, world_com, pb.getQuaternionFromEuler((0, 0, yaw)))
    dyn = {"lateralFriction": material.friction, "restitution": material.restitution,
           "rollingFriction": 0.0005, "spinningFriction": 0.001}
    if material.stiffness < RIGID_STIFFNESS:
        dyn.update(contactStiffness=material.stiffness, contactDamping=2 * math.sqrt(material.stiffness * mass))
    pb.changeDynamics(body, -1, **dyn)
    return body
