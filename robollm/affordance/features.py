"""What a learned affordance model sees of one skill call: a fixed-length vector.

The rules know which arm reaches which region; physics cares about more: how far the
object is from the arm's base (the edge of reach), how close its neighbours stand (a
finger comes down on them), what stands on it and what it stands on (stacks), how big
it is against its target (a block on a small plate, in a small cup), what lies in the
way of a push and how near the table's edge is. These are read off the perceived scene
only, never off the simulator, so the same encoder runs on a real robot's perception.
Per-object quantities are computed once per step and shared by every candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from robollm.plan import SkillCall
from robollm.world.scene import MATERIALS, OBJECT_TYPES
from robollm.world.state import ObjectInfo, SceneState
from robollm.world.symbolic import ARMS, SymbolicState

DIRECTION_VECTORS = {"forward": (1.0, 0.0), "backward": (-1.0, 0.0), "leftward": (0.0, 1.0),
                     "rightward": (0.0, -1.0)}
REGIONS = ("left", "middle", "right")
RELATIONS = ("at", "in", "on", "held")
NEAR = 0.10  # m: neighbours closer than this (edge to edge) count as crowding
DEFAULT_BASES = {"left": (0.0, 0.25), "right": (0.0, -0.25)}  # the default rig's arm bases (x, y)
DEFAULT_WORKSPACES = {"left": ((0.2, -0.14), (0.78, 0.7)), "right": ((0.2, -0.7), (0.78, 0.14))}

OBJECT_FEATURES = (
    [f"type_{t}" for t in OBJECT_TYPES]
    + [f"rel_{r}" for r in RELATIONS]
    + [f"region_{r}" for r in REGIONS]
    + [f"material_{m}" for m in MATERIALS] + ["material_unknown"]
    + ["size", "height", "footprint", "z", "x", "abs_y", "dist_left", "dist_right", "dist_near",
       "dist_far", "clearance", "finger_clearance", "neighbours", "on_top", "below", "edge", "sensed"]
)
CALL_FEATURES = (
    ["heuristic", "arm_left", "arm_right", "arm_none", "arm_dist", "arm_dx", "arm_across", "arm_margin",
     "tgt_arm_dist", "tgt_arm_dx", "tgt_arm_across", "tgt_arm_margin", "other_hand_full", "other_hand_gap",
     "acting_hand_full",
     "has_target", "target_region", "target_direction", "size_ratio", "target_inner", "target_occupied",
     "region_crowd", "push_block", "push_edge", "objects"]
    + [f"dir_{d}" for d in DIRECTION_VECTORS] + [f"tregion_{r}" for r in REGIONS]
)
FEATURE_NAMES = ([f"obj.{n}" for n in OBJECT_FEATURES] + [f"tgt.{n}" for n in OBJECT_FEATURES]
                 + CALL_FEATURES)


@dataclass(frozen=True)
class Geometry:
    """Where the arms stand and where the table ends: from the launch file the model was
    trained with (the default rig unless the options say otherwise)."""

    bases: dict[str, tuple[float, float]]
    table_low: tuple[float, float] = (0.28, -0.58)
    table_high: tuple[float, float] = (0.72, 0.58)
    # Each arm's workspace box on the table (x, y low and high): the motion layer refuses
    # any target outside it. Default: the default rig's.
    workspaces: dict[str, tuple[tuple[float, float], tuple[float, float]]] = field(
        default_factory=lambda: dict(DEFAULT_WORKSPACES))


def _clearance(o: ObjectInfo, others: list[ObjectInfo]) -> tuple[float, int]:
    x, y = o.pose.position[:2]
    gaps = [math.hypot(x - p.pose.position[0], y - p.pose.position[1]) - o.radius - p.radius for p in others]
    return (min(gaps, default=0.5), sum(g < NEAR for g in gaps))


def _finger_clearance(o: ObjectInfo, others: list[ObjectInfo]) -> float:
    """Room for an open gripper's fingers beside the object, at the better of the two
    top-down grasp angles a square object allows (a cup: its own angle only). The
    fingers stand 5.5 cm either side of the centre, across the grasp."""
    x, y = o.pose.position[:2]
    q = math.pi / 2
    base = (o.yaw + q / 2) % q - q / 2
    best = -1.0
    for yaw in ([base] if o.type == "cup" else [base, base + q]):
        dx, dy = -math.sin(yaw) * 0.055, math.cos(yaw) * 0.055
        gap = min((math.hypot(fx - p.pose.position[0], fy - p.pose.position[1]) - p.radius
                   for fx, fy in ((x + dx, y + dy), (x - dx, y - dy)) for p in others), default=0.3)
        best = max(best, gap)
    return min(best, 0.3)


def _stack_depth(name: str, state: SymbolicState) -> int:
    depth, seen = 0, set()
    while state.relation.get(name) in ("in", "on") and name not in seen:
        seen.add(name)
        name = state.parent[name]
        depth += 1
    return depth


def object_vectors(scene: SceneState, state: SymbolicState, geo: Geometry) -> dict[str, np.ndarray]:
    """The OBJECT_FEATURES of every perceived object."""
    on_table = [o for o in scene.objects.values() if scene.holder(o.name) is None]
    (lx, ly), (hx, hy) = geo.table_low, geo.table_high
    out = {}
    for name, o in scene.objects.items():
        v = np.zeros(len(OBJECT_FEATURES), dtype=np.float32)
        v[OBJECT_TYPES.index(o.type)] = 1.0
        i = len(OBJECT_TYPES)
        rel = state.relation.get(name, "at")
        v[i + RELATIONS.index(rel)] = 1.0
        i += len(RELATIONS)
        region = state.region_of(name)
        if region in REGIONS:
            v[i + REGIONS.index(region)] = 1.0
        i += len(REGIONS)
        material = o.material if o.material in MATERIALS else None
        v[i + (MATERIALS.index(material) if material else len(MATERIALS))] = 1.0
        i += len(MATERIALS) + 1
        x, y, z = o.pose.position
        dists = [math.hypot(x - bx, y - by) for bx, by in (geo.bases[a] for a in ARMS)]
        others = [p for p in on_table if p.name != name]
        clear, crowd = _clearance(o, others)
        edge = min(x - lx, hx - x, y - ly, hy - y)
        v[i:] = (o.size, o.height, max(o.footprint), z, x, abs(y), dists[0], dists[1], min(dists),
                 max(dists), min(clear, 0.3), _finger_clearance(o, others), crowd, len(state.stacked_on(name)),
                 _stack_depth(name, state), edge, len(state.sensed.get(name, ())))
        out[name] = v
    return out


def _push_features(o: ObjectInfo, direction: str, scene: SceneState, geo: Geometry) -> tuple[float, float]:
    """Distance to the first object in the push's path, and to the table's edge that way."""
    dx, dy = DIRECTION_VECTORS[direction]
    x, y = o.pose.position[:2]
    block = 0.5
    for p in scene.objects.values():
        if p.name == o.name or scene.holder(p.name):
            continue
        rx, ry = p.pose.position[0] - x, p.pose.position[1] - y
        along, across = rx * dx + ry * dy, abs(-rx * dy + ry * dx)
        if along > 0 and across < o.radius + p.radius:
            block = min(block, along - o.radius - p.radius)
    (lx, ly), (hx, hy) = geo.table_low, geo.table_high
    edge = {(1.0, 0.0): hx - x, (-1.0, 0.0): x - lx, (0.0, 1.0): hy - y, (0.0, -1.0): y - ly}[(dx, dy)]
    return block, edge


def encode(scene: SceneState, state: SymbolicState, calls: Sequence[SkillCall], heuristic: Sequence[float],
           arms: Sequence[str | None], geo: Geometry) -> np.ndarray:
    """One row of FEATURE_NAMES per call; `arms` is the arm each call would use (None: no arm)."""
    objs = object_vectors(scene, state, geo)
    n_obj = len(OBJECT_FEATURES)
    zeros = np.zeros(n_obj, dtype=np.float32)
    rows = np.zeros((len(calls), len(FEATURE_NAMES)), dtype=np.float32)
    base = 2 * n_obj
    idx = {n: base + k for k, n in enumerate(CALL_FEATURES)}
    on_table = len([o for o in scene.objects if scene.holder(o) is None])
    for r, (call, h, arm) in enumerate(zip(calls, heuristic, arms, strict=True)):
        row = rows[r]
        first = call.args[0] if call.args and call.args[0] in objs else None
        second = call.args[1] if len(call.args) > 1 else None
        row[:n_obj] = objs[first] if first else zeros
        row[idx["heuristic"]] = h
        row[idx["objects"]] = on_table
        row[idx[f"arm_{arm}" if arm in ARMS else "arm_none"]] = 1.0
        if arm in ARMS:
            row[idx["acting_hand_full"]] = float(scene.holding.get(arm) not in (None, first))
            other = ARMS[1 - ARMS.index(arm)]
            row[idx["other_hand_full"]] = float(scene.holding.get(other) is not None)
            row[idx["other_hand_gap"]] = _other_hand_gap(scene, scene.holding.get(other), (first, second))
            for key, name in (("arm", first), ("tgt_arm", second if second in objs else None)):
                if name:
                    row[idx[f"{key}_dist"]], row[idx[f"{key}_dx"]], row[idx[f"{key}_across"]] = \
                        _from_base(scene.objects[name], geo.bases[arm])
                    row[idx[f"{key}_margin"]] = _margin(scene.objects[name], geo.workspaces.get(arm))
        if second in objs:
            row[n_obj:base] = objs[second]
            row[idx["has_target"]] = 1.0
            t = scene.objects[second]
            if first:
                row[idx["size_ratio"]] = scene.objects[first].size / t.size
            row[idx["target_inner"]] = t.size
            row[idx["target_occupied"]] = len(state.stacked_on(second))
        elif second in REGIONS:
            row[idx["target_region"]] = 1.0
            row[idx[f"tregion_{second}"]] = 1.0
            row[idx["region_crowd"]] = sum(state.region_of(o) == second for o in objs)
        if second in DIRECTION_VECTORS or (call.skill == "push" and second in REGIONS):
            row[idx["target_direction"]] = float(second in DIRECTION_VECTORS)
            if second in DIRECTION_VECTORS:
                row[idx[f"dir_{second}"]] = 1.0
            if first:
                way = second if second in DIRECTION_VECTORS else _towards(scene.objects[first], second, scene)
                if way:
                    row[idx["push_block"]], row[idx["push_edge"]] = _push_features(scene.objects[first], way, scene, geo)
    return rows


def _margin(o: ObjectInfo, box: tuple[tuple[float, float], tuple[float, float]] | None) -> float:
    """How far inside an arm's workspace the object stands (negative: outside it)."""
    if box is None:
        return 0.3
    (lx, ly), (hx, hy) = box
    x, y = o.pose.position[:2]
    return max(-0.3, min(0.3, x - lx, hx - x, y - ly, hy - y))


def _other_hand_gap(scene: SceneState, held: str | None, names: Sequence[str | None]) -> float:
    """How close the other hand comes to where this arm must go, from the object that
    hand holds (its gripper is there): arms parked over the table collide."""
    if held is None or held not in scene.objects:
        return 0.5
    hx, hy = scene.objects[held].pose.position[:2]
    gaps = [math.hypot(hx - scene.objects[n].pose.position[0], hy - scene.objects[n].pose.position[1])
            for n in names if n in scene.objects and n != held]
    return min([0.5, *gaps])


def _from_base(o: ObjectInfo, base: tuple[float, float]) -> tuple[float, float, float]:
    """Where an object stands from an arm's base: distance, how far forward, and how far
    across towards the other arm (an arm reaches less far across its body)."""
    (x, y), (bx, by) = o.pose.position[:2], base
    across = (y - by) * (-1.0 if by > 0 else 1.0)
    return math.hypot(x - bx, y - by), x - bx, across


def _towards(o: ObjectInfo, region: str, scene: SceneState) -> str | None:
    box = scene.regions.get(region)
    if box is None:
        return None
    cy = 0.5 * (box.low[1] + box.high[1])
    return "leftward" if cy > o.pose.position[1] else "rightward"
