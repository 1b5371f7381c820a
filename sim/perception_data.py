"""Rendered table scenes for training and scoring camera perception.

Scenes are drawn at random: objects of every type, colour and size, loose or packed so
that they touch, some stacked or standing in containers, now and then a thing that is
none of the types (a ball, a lying can, a duck), under varied light and with the camera
moved a little. The segmentation mask labels each proposal for training and scores
perception in the benchmark; perception itself never sees it.

Kinds of scene: `train` (held-out colour and type pairs never appear), `suite` (the
shipped suites' scenes), `heldout` (held-out pairs among others) and `clutter` (eight or
more objects packed together, some partly hidden).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pybullet_data

from robollm.config import LaunchConfig, load_config
from robollm.geometry import Pose
from robollm.robot.sensors import CameraFrame
from robollm.sim.materials import MATERIAL_TABLE
from robollm.sim.objects import build_model, mass_and_com, spawn
from robollm.sim.robot import PyBulletRobot
from robollm.sim.sensors import TABLE, TABLE_SIZE, CameraSpec, SimCamera
from robollm.sim.world import SimObject
from robollm.world.scene import COLOURS, SIZE_RANGE, ObjectSpec

KINDS = ("train", "suite", "heldout", "clutter")
TYPE_WEIGHTS = {"block": 0.34, "bowl": 0.18, "plate": 0.14, "cup": 0.16, "tray": 0.09, "box": 0.09}
SMALL = ("block", "cup")


@dataclass
class Placed:
    spec: ObjectSpec
    xy: tuple[float, float]
    yaw: float
    z: float = 0.0  # base height (on the table: 0)


@dataclass
class Truth:
    name: str
    type: str  # an object type, or "other" for a distractor
    colour: str
    pose: Pose
    size: float


def _pick_combo(rng: np.random.Generator, allowed, types=None) -> tuple[str, str]:
    types = types or list(TYPE_WEIGHTS)
    w = np.array([TYPE_WEIGHTS[t] for t in types])
    while True:
        kind = str(rng.choice(types, p=w / w.sum()))
        colour = str(rng.choice(list(COLOURS)))
        if allowed(colour, kind):
            return colour, kind


def _footprint_radii(spec: ObjectSpec) -> tuple[float, float]:
    """(inner, outer) radius of the object's footprint."""
    fx, fy = build_model(spec).footprint
    return min(fx, fy) / 2, math.hypot(fx, fy) / 2


def sample_layout(rng: np.random.Generator, kind: str, heldout: frozenset, table_low, table_high) -> list[Placed]:
    """Objects and where they go; overlapping footprints are allowed only in `packed` scenes
    (physics then pushes the corners apart, leaving them touching)."""
    if kind == "clutter":
        count, packed = int(rng.integers(8, 11)), True
    elif kind == "heldout":
        count, packed = int(rng.integers(3, 7)), rng.random() < 0.3
    else:
        count, packed = int(rng.integers(2, 10)), rng.random() < 0.4
    specs: list[ObjectSpec] = []
    big = 0
    for i in range(count):
        def allowed(c: str, t: str, first: bool = kind == "heldout" and i < 2) -> bool:
            return ((c, t) in heldout) == first
        types = [t for t in TYPE_WEIGHTS if t not in ("tray", "box") or big == 0]
        if kind == "clutter":
            types = [t for t in types if t not in ("tray", "box")]
        colour, t = _pick_combo(rng, allowed, types)
        big += t in ("tray", "box")
        lo, hi = SIZE_RANGE[t]
        if t in ("tray", "box"):
            hi = min(hi, 0.34)
        specs.append(ObjectSpec(type=t, colour=colour, size=float(rng.uniform(lo, hi)), name=f"o{i}"))
    specs.sort(key=lambda s: -s.resolved_size)
    (x0, y0), (x1, y1) = table_low, table_high
    placed: list[Placed] = []
    for spec in specs:
        r_in, r_out = _footprint_radii(spec)
        # Stack a block on a block, or put a small thing in or on a holder.
        if placed and spec.type in SMALL and rng.random() < (0.35 if packed else 0.15):
            hosts = [p for p in placed if p.z == 0.0 and (p.spec.type in ("bowl", "plate", "tray", "box")
                                                          or (p.spec.type == "block" and spec.type == "block"))
                     and _footprint_radii(p.spec)[0] > r_in * 0.8]
            if hosts:
                host = hosts[int(rng.integers(len(hosts)))]
                model = build_model(host.spec)
                z = model.height if host.spec.type in ("block", "plate") else 0.012
                off = rng.uniform(-1, 1, 2) * 0.006
                placed.append(Placed(spec, (host.xy[0] + off[0], host.xy[1] + off[1]),
                                     float(rng.uniform(-0.6, 0.6)), z))
                continue
        for _ in range(300):
            if spec.type in ("tray", "box"):
                xy = (float(rng.uniform(0.5 - 0.03, 0.5 + 0.03)), float(rng.uniform(-0.05, 0.05)))
            elif packed and placed and rng.random() < 0.8:
                near = placed[int(rng.integers(len(placed)))]
                a = rng.uniform(0, 2 * math.pi)
                d = _footprint_radii(near.spec)[1] * 0.9 + r_out * 0.9 + rng.uniform(0.0, 0.01)
                xy = (near.xy[0] + d * math.cos(a), near.xy[1] + d * math.sin(a))
            else:
                xy = (float(rng.uniform(x0 + r_out + 0.02, x1 - r_out - 0.02)),
                      float(rng.uniform(y0 + r_out + 0.02, y1 - r_out - 0.02)))
            if not (x0 + r_in < xy[0] < x1 - r_in and y0 + r_in < xy[1] < y1 - r_in):
                continue
            need = 0.9 if packed else 1.0
            if all(math.dist(xy, p.xy) >= (r_out + _footprint_radii(p.spec)[1]) * need + (0 if packed else 0.02)
                   for p in placed if p.z == 0.0):
                yaw = 0.0 if spec.type in ("tray", "box") else float(rng.uniform(-math.pi / 4, math.pi / 4))
                placed.append(Placed(spec, xy, yaw))
                break
    return placed


class SceneRenderer:
    """One simulated rig reused for many scenes: lay out, settle, photograph."""

    def __init__(self, config: LaunchConfig | None = None) -> None:
        self.config = config or load_config()
        self.robot = PyBulletRobot(self.config)
        self.robot.connect()
        self.world = self.robot.world
        self.table_low = tuple(self.config.table.low)
        self.table_high = tuple(self.config.table.high)
        self._others: list[int] = []

    def close(self) -> None:
        self.robot.disconnect()

    def _clear(self) -> None:
        self.world.clear_objects()
        for body in self._others:
            self.world.pb.removeBody(body)
        self._others.clear()

    def lay_out(self, placed: list[Placed]) -> None:
        self._clear()
        for p in placed:
            body = spawn(self.world.pb, p.spec, (p.xy[0], p.xy[1], self.world.table_height + p.z + 0.0005), p.yaw)
            model = build_model(p.spec)
            com = mass_and_com(model, MATERIAL_TABLE[p.spec.resolved_material])[1]
            self.world.objects[p.spec.object_name] = SimObject(p.spec, body, model, com)
        self.world.settle(0.5)

    def add_distractor(self, rng: np.random.Generator) -> None:
        """A thing that is none of the types, somewhere free on the table."""
        pb = self.world.pb
        colour = (*rng.uniform(0.05, 0.95, 3), 1.0)
        choice = int(rng.integers(4))
        for _ in range(100):
            x = float(rng.uniform(self.table_low[0] + 0.05, self.table_high[0] - 0.05))
            y = float(rng.uniform(self.table_low[1] + 0.05, self.table_high[1] - 0.05))
            if all(math.dist((x, y), self.world.object_pose(n).position[:2]) > 0.12 for n in self.world.objects):
                break
        if choice == 0:
            r = float(rng.uniform(0.02, 0.04))
            vis = pb.createVisualShape(pb.GEOM_SPHERE, radius=r, rgbaColor=colour)
            col = pb.createCollisionShape(pb.GEOM_SPHERE, radius=r)
            body = pb.createMultiBody(0.1, col, vis, (x, y, r + 0.001))
        elif choice == 1:
            r, length = float(rng.uniform(0.015, 0.03)), float(rng.uniform(0.06, 0.12))
            orn = pb.getQuaternionFromEuler((math.pi / 2, 0, float(rng.uniform(0, math.pi))))
            vis = pb.createVisualShape(pb.GEOM_CYLINDER, radius=r, length=length, rgbaColor=colour)
            col = pb.createCollisionShape(pb.GEOM_CYLINDER, radius=r, height=length)
            body = pb.createMultiBody(0.1, col, vis, (x, y, r + 0.001), orn)
        else:
            urdf = ("duck_vhacd.urdf", "teddy_vhacd.urdf")[choice - 2]
            scale = float(rng.uniform(0.7, 1.0)) if choice == 2 else float(rng.uniform(0.9, 1.3))
            body = pb.loadURDF(f"{pybullet_data.getDataPath()}/{urdf}", (x, y, 0.05),
                               pb.getQuaternionFromEuler((math.pi / 2, 0, float(rng.uniform(0, 6.28)))),
                               globalScaling=scale)
            pb.changeVisualShape(body, -1, rgbaColor=colour)
        self._others.append(body)
        self.world.settle(0.3)

    def truth(self) -> dict[int, Truth]:
        """By body id: what each object is and where its footprint centre is."""
        out = {}
        for name, obj in self.world.objects.items():
            out[obj.body] = Truth(name, obj.spec.type, obj.spec.colour, self.world.object_pose(name),
                                  obj.spec.resolved_size)
        for body in self._others:
            pos, orn = self.world.pb.getBasePositionAndOrientation(body)
            out[body] = Truth(f"other{body}", "other", "", Pose(tuple(pos), tuple(orn)), 0.0)
        return out

    def photograph(self, rng: np.random.Generator | None = None) -> CameraFrame:
        """The table camera's view; with `rng`, light and camera pose vary a little."""
        spec, light = TABLE, None
        if rng is not None:
            jitter = rng.normal(0, 0.015, 6)
            spec = replace(TABLE, eye=tuple(np.add(TABLE.eye, jitter[:3])),
                           target=tuple(np.add(TABLE.target, jitter[3:])))
            d = rng.normal(0, 1, 3)
            d[2] = abs(d[2]) + 1.0
            light = {"lightDirection": list(d / np.linalg.norm(d)),
                     "lightAmbientCoeff": float(rng.uniform(0.4, 0.8)),
                     "lightDiffuseCoeff": float(rng.uniform(0.3, 0.7)),
                     "lightSpecularCoeff": float(rng.uniform(0.0, 0.3)),
                     "lightColor": list(rng.uniform(0.85, 1.0, 3)),
                     "shadow": int(rng.random() < 0.3)}
        cam = SimCamera("table_camera", self.world, spec, *TABLE_SIZE)
        return cam.read(light=light)


def camera_spec() -> CameraSpec:
    return TABLE


def label_proposals(frame: CameraFrame, proposals, truth: dict[int, Truth], purity: float = 0.8):
    """(proposal, truth) pairs: each proposal labelled by the object most of its pixels show."""
    out = []
    for m in proposals:
        seg = frame.segmentation[m.region.pixels[:, 0], m.region.pixels[:, 1]]
        values, counts = np.unique(seg, return_counts=True)
        best = int(values[counts.argmax()])
        if best in truth and counts.max() >= purity * counts.sum():
            out.append((m, truth[best]))
        else:
            out.append((m, None))
    return out


def training_crops(layouts: int, seed: int, photos: int = 2, distractors: float = 0.3,
                   progress=None) -> dict[str, np.ndarray]:
    """Crops of the proposals in `layouts` random scenes (each photographed `photos` times
    under other light and camera jitter) with their colour and type; held-out colour and
    type pairs are never laid out."""
    from robollm.perception.crops import crop
    from robollm.perception.proposals import look
    from robollm.perception.vocabulary import HELDOUT_COMBOS

    rng = np.random.default_rng(seed)
    renderer = SceneRenderer()
    crops, colours, types = [], [], []
    try:
        for i in range(layouts):
            kind = "clutter" if rng.random() < 0.25 else "train"
            renderer.lay_out(sample_layout(rng, kind, HELDOUT_COMBOS, renderer.table_low, renderer.table_high))
            if rng.random() < distractors:
                renderer.add_distractor(rng)
            truth = renderer.truth()
            for _ in range(photos):
                frame = renderer.photograph(rng)
                seen = look(frame, renderer.table_low, renderer.table_high)
                for m, t in label_proposals(frame, seen.proposals, truth):
                    if t is None or m.pixels < 20:
                        continue
                    crops.append(crop(frame.rgb, m.region.bbox))
                    colours.append(t.colour)
                    types.append(t.type)
            if progress:
                progress(i + 1, layouts, len(crops))
    finally:
        renderer.close()
    return {"crops": np.stack(crops), "colours": np.array(colours), "types": np.array(types)}
