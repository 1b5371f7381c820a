"""Geometric relations that discovered skills need: upright, at_edge and touching.

The hand-written relations (in, on, at, held) say where an object is; skills found by
discovery change how it stands (tipped over), how close it comes to the table's edge, and
whether it rests against another object. These functions read those relations off a
scene's poses and footprints, so perception, the simulator and the training reward
(`robollm.world.shaping`) share one definition.
"""

from __future__ import annotations

import math

from robollm.geometry import Box
from robollm.world.predicates import And, Atom, Expr, Or
from robollm.world.state import ObjectInfo, SceneState

UPRIGHT_TILT = 0.5  # rad the up axis may lean for an object to count as standing upright
EDGE_GAP = 0.01  # m from the footprint to a table edge (or beyond it) for `at_edge`
TOUCH_GAP = 0.004  # m between two objects' surfaces for `touching` (contact, allowing for noise)
# Perception calls two objects touching only inside half that gap. It measures the gap
# between footprints from poses and sizes, which can differ from the bodies' true closest
# distance (0.35 mm measured at the threshold), and a skill that stops the moment it sees
# contact stops right at the threshold; the margin keeps it inside what the simulator's
# geometry calls touching.
PERCEIVED_TOUCH_GAP = TOUCH_GAP / 2
FLOOR_DROP = 0.03  # m below the table top: an object this low has fallen off it
EDGES = ("far", "near", "left", "right")


def tilt(orientation: tuple[float, float, float, float]) -> float:
    """Angle in radians between the object's up axis and the world's."""
    x, y, _, _ = orientation
    up_z = 1.0 - 2.0 * (x * x + y * y)
    return math.acos(max(-1.0, min(1.0, up_z)))


def table_box(regions: dict[str, Box]) -> Box:
    """The table top as the union of its regions."""
    boxes = list(regions.values())
    return Box((min(b.low[0] for b in boxes), min(b.low[1] for b in boxes), min(b.low[2] for b in boxes)),
               (max(b.high[0] for b in boxes), max(b.high[1] for b in boxes), max(b.high[2] for b in boxes)))


def region_edges(region: Box, table: Box) -> list[str]:
    """The table edges a region borders: each side of the region that lies on the table's."""
    edges = []
    for name, mine, theirs in (("far", region.high[0], table.high[0]), ("near", region.low[0], table.low[0]),
                               ("left", region.high[1], table.high[1]), ("right", region.low[1], table.low[1])):
        if abs(mine - theirs) < 1e-6:
            edges.append(name)
    return edges


def extents(obj: ObjectInfo) -> tuple[float, float]:
    """Half extents of the object's footprint along world x and y."""
    c, s = abs(math.cos(obj.yaw)), abs(math.sin(obj.yaw))
    fx, fy = obj.footprint
    if tilt(obj.pose.orientation) > UPRIGHT_TILT:  # lying down: its height lies along the table
        fx = max(fx, obj.height)
    return 0.5 * (fx * c + fy * s), 0.5 * (fx * s + fy * c)


def edge_gaps(obj: ObjectInfo, table: Box) -> dict[str, float]:
    """Metres from the footprint to each table edge; negative where it overhangs."""
    x, y = obj.pose.position[:2]
    ex, ey = extents(obj)
    return {"far": table.high[0] - (x + ex), "near": (x - ex) - table.low[0],
            "left": table.high[1] - (y + ey), "right": (y - ey) - table.low[1]}


def edge_point(obj: ObjectInfo, region: Box, table: Box) -> tuple[float, float]:
    """The point on the nearest of the region's table edges, level with the object."""
    x, y = obj.pose.position[:2]
    gaps = edge_gaps(obj, table)
    edges = region_edges(region, table) or list(EDGES)
    nearest = min(edges, key=lambda e: gaps[e])
    return {"far": (table.high[0], y), "near": (table.low[0], y),
            "left": (x, table.high[1]), "right": (x, table.low[1])}[nearest]


def on_table(obj: ObjectInfo, table: Box) -> bool:
    x, y, z = obj.pose.position
    return table.contains_xy(x, y) and z > table.low[2] - FLOOR_DROP


def nothing_fell(scene: SceneState) -> bool:
    """Whether every object of the scene is still on the table."""
    table = table_box(scene.regions)
    return all(on_table(o, table) for o in scene.objects.values())


def at_edge_distance(obj: ObjectInfo, region_name: str, scene: SceneState) -> float:
    """Metres still to go before `at_edge` holds (0 once it does)."""
    table, region = table_box(scene.regions), scene.regions[region_name]
    if not on_table(obj, table):
        return 1.0  # fallen off: as far from a resting edge position as it gets
    gaps = edge_gaps(obj, table)
    edges = region_edges(region, table)
    if not edges:
        return 1.0
    x, y = obj.pose.position[:2]
    outside = math.hypot(max(0.0, region.low[0] - x, x - region.high[0]),
                         max(0.0, region.low[1] - y, y - region.high[1]))
    return outside + max(0.0, min(gaps[e] for e in edges) - EDGE_GAP)


ROUND_TYPES = ("bowl", "cup", "plate")


def footprint_polygon(obj: ObjectInfo) -> list[tuple[float, float]]:
    """The footprint's outline on the table: a turned rectangle, or a 16-gon for round things."""
    x, y = obj.pose.position[:2]
    if obj.type in ROUND_TYPES:
        r = max(obj.footprint) / 2
        return [(x + r * math.cos(2 * math.pi * k / 16), y + r * math.sin(2 * math.pi * k / 16)) for k in range(16)]
    c, s = math.cos(obj.yaw), math.sin(obj.yaw)
    hx, hy = obj.footprint[0] / 2, obj.footprint[1] / 2
    return [(x + c * px - s * py, y + s * px + c * py) for px, py in ((hx, hy), (-hx, hy), (-hx, -hy), (hx, -hy))]


def _segment_distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / max(dx * dx + dy * dy, 1e-12)))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def _inside(p: tuple[float, float], poly: list[tuple[float, float]]) -> bool:
    """Whether p lies in a convex polygon given counter-clockwise."""
    n = len(poly)
    return all((poly[(i + 1) % n][0] - poly[i][0]) * (p[1] - poly[i][1])
               - (poly[(i + 1) % n][1] - poly[i][1]) * (p[0] - poly[i][0]) >= 0 for i in range(n))


def footprint_gap(a: ObjectInfo, b: ObjectInfo) -> float:
    """Metres between two footprints' outlines (0 when they overlap)."""
    pa, pb = footprint_polygon(a), footprint_polygon(b)
    if any(_inside(p, pb) for p in pa) or any(_inside(p, pa) for p in pb):
        return 0.0
    gaps = [_segment_distance(p, q[i], q[(i + 1) % len(q)]) for p_, q in ((pa, pb), (pb, pa))
            for p in p_ for i in range(len(q))]
    return min(gaps)


def perceived_holds(relation: str, args: tuple[str, ...], scene: SceneState) -> bool:
    """The discovery relations over a perceived scene."""
    objs = scene.objects
    if relation == "upright":
        return tilt(objs[args[0]].pose.orientation) <= UPRIGHT_TILT
    if relation == "at_edge":
        obj = objs[args[0]]
        return scene.holder(obj.name) is None and at_edge_distance(obj, args[1], scene) == 0.0
    if relation == "touching":
        a, b = args
        return a != b and footprint_gap(objs[a], objs[b]) <= PERCEIVED_TOUCH_GAP
    raise KeyError(relation)


DISCOVERY_RELATIONS = ("upright", "at_edge", "touching")


def anchor(expr: Expr, scene: SceneState) -> tuple[float, float] | None:
    """Where the first atom that names a place wants its object: a table edge or another object.

    Region membership (`at`) names no point worth heading for, so it gives none."""
    for atom in _positive_atoms(expr):
        obj = scene.objects[atom.args[0]] if atom.args[0] in scene.objects else None
        if obj is None:
            continue
        if atom.relation == "at_edge":
            return edge_point(obj, scene.regions[atom.args[1]], table_box(scene.regions))
        if atom.relation in ("touching", "near"):
            return tuple(scene.objects[atom.args[1]].pose.position[:2])  # type: ignore[return-value]
    return None


def _positive_atoms(expr: Expr) -> list[Atom]:
    if isinstance(expr, Atom):
        return [expr]
    if isinstance(expr, And | Or):
        return [a for o in expr.operands for a in _positive_atoms(o)]
    return []
