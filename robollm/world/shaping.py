"""How far a scene is from a success predicate holding: the shaped reward's geometry.

A policy being trained for a discovered skill earns, each tick, the decrease of this
distance. Each relation measures its own gap (metres; tilt in radians counts as metres
at 0.1 m per radian), so progress towards the goal pays before the goal is reached.
"""

from __future__ import annotations

import math

from robollm.world.geometric import (
    PERCEIVED_TOUCH_GAP,
    UPRIGHT_TILT,
    at_edge_distance,
    footprint_gap,
    tilt,
)
from robollm.world.perceived import PerceivedFacts
from robollm.world.predicates import And, Atom, Expr, Not, TrueExpr
from robollm.world.state import SceneState


def atom_distance(atom: Atom, want: bool, scene: SceneState) -> float:
    """How far the scene is from `atom` having the truth value `want`, in metres
    (radians count as metres at 0.1 m per radian, about a block's lever arm)."""
    rel, args, objs = atom.relation, atom.args, scene.objects
    if rel == "upright":
        t = tilt(objs[args[0]].pose.orientation)
        return 0.1 * (max(0.0, t - UPRIGHT_TILT) if want else max(0.0, UPRIGHT_TILT + 0.2 - t))
    if rel == "at_edge" and want:
        return at_edge_distance(objs[args[0]], args[1], scene)
    if rel == "touching" and want:
        return max(0.0, footprint_gap(objs[args[0]], objs[args[1]]) - PERCEIVED_TOUCH_GAP)
    if rel == "at" and want:
        box, (x, y) = scene.regions[args[1]], objs[args[0]].pose.position[:2]
        return math.hypot(max(0.0, box.low[0] - x, x - box.high[0]), max(0.0, box.low[1] - y, y - box.high[1]))
    # Relations without a useful gradient here: 0 when the perceived scene agrees, else a step.
    return 0.0 if PerceivedFacts(scene).holds(rel, args) == want else 0.05


def predicate_distance(expr: Expr, scene: SceneState, want: bool = True) -> float:
    """A distance that is 0 where the predicate holds: sums over a conjunction, the least
    over a disjunction (De Morgan under `not`)."""
    if isinstance(expr, TrueExpr):
        return 0.0 if want else 1.0
    if isinstance(expr, Atom):
        return atom_distance(expr, want, scene)
    if isinstance(expr, Not):
        return predicate_distance(expr.operand, scene, not want)
    parts = [predicate_distance(o, scene, want) for o in expr.operands]
    conjunctive = isinstance(expr, And) == want
    return sum(parts) if conjunctive else min(parts)


