"""The table in words for the planner's prompt: where each object is and what the hands hold.

"Put the red block on the left in the bowl" can only be resolved by a model that is told
which red block is on the left. A prompt with the `{scene}` placeholder gets one entry
per object: its region, or what it is in or on, or the hand holding it, and its nearest
neighbour when one stands close by:

    red block (left, near the green bowl), red block 2 (right), blue block (on the red block 2)

The planner renders it from the perceived scene at the start of a run, and after every
step that changes what the hands hold the step's line says so ("Now the left hand holds
the red block."); the training generator renders both from the layouts it draws, with
these same functions, so the tuned model reads exactly the text it was trained on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping

from robollm.world.state import SceneState
from robollm.world.symbolic import ARMS, SymbolicState

NEAR_GAP = 0.06  # metres between two footprints' edges for "near"


def words(name: str) -> str:
    return name.replace("_", " ")


def near_pairs(scene: SceneState, gap: float = NEAR_GAP) -> dict[frozenset[str], float]:
    """Objects on the table whose footprints come within `gap` of each other, with the
    distance between their centres."""
    loose = [o for o in scene.objects.values() if scene.holder(o.name) is None]
    out: dict[frozenset[str], float] = {}
    for i, a in enumerate(loose):
        for b in loose[i + 1:]:
            (ax, ay), (bx, by) = a.pose.position[:2], b.pose.position[:2]
            centres = math.hypot(ax - bx, ay - by)
            if centres - (max(a.footprint) + max(b.footprint)) / 2 < gap:
                out[frozenset((a.name, b.name))] = centres
    return out


def where(state: SymbolicState, obj: str) -> str:
    relation, parent = state.relation.get(obj), state.parent.get(obj)
    if relation == "held":
        return "held with both hands" if obj in state.held_by_both else f"in the {parent} hand"
    if relation in ("in", "on"):
        return f"{relation} the {words(parent)}"
    return parent or "on the table"


def listed_neighbour(state: SymbolicState, name: str, names: Iterable[str], near: Collection[frozenset[str]],
                     distance: Callable[[str, str], float] | None = None) -> str | None:
    """The neighbour the prompt names for an object standing on the table: of the objects
    on the table near it, the closest by `distance`, or the first of `names` without one."""
    if state.relation.get(name) != "at":
        return None
    close = [o for o in names if o != name and frozenset((name, o)) in near and state.relation.get(o) == "at"]
    if not close:
        return None
    return min(close, key=lambda o: distance(name, o)) if distance else close[0]


def scene_text(state: SymbolicState, order: Iterable[str] | None = None,
               near: Iterable[frozenset[str]] = (), distances: Mapping[frozenset[str], float] | None = None) -> str:
    """One entry per object in `order` (default: the state's), with its place and, for an
    object standing on the table, the closest object near it (by `distances` when
    given, else the first in `order`)."""
    names = list(order if order is not None else state.types)
    near = set(near)
    distance = (lambda a, b: distances.get(frozenset((a, b)), 0.0)) if distances else None
    parts = []
    for name in names:
        place = where(state, name)
        best = listed_neighbour(state, name, names, near, distance)
        if best is not None:
            place += f", near the {words(best)}"
        parts.append(f"{words(name)} ({place})")
    return ", ".join(parts)


def hands_text(state: SymbolicState) -> str:
    """'both empty', 'the left hand holds the red block', 'both hands hold the grey tray'."""
    held = {arm: state.holding(arm) for arm in ARMS}
    both = [o for o in held.values() if o is not None and o in state.held_by_both]
    if both:
        return f"both hands hold the {words(both[0])}"
    parts = [f"the {arm} hand holds the {words(obj)}" for arm, obj in held.items() if obj is not None]
    return " and ".join(parts) if parts else "both empty"


def hands_note(before: SymbolicState, after: SymbolicState) -> str:
    """' Now the left hand holds the red block.' after a step that changed what the hands
    hold ('' otherwise): a prompt with {hands} keeps telling it as the run goes on."""
    now = hands_text(after)
    if now == hands_text(before):
        return ""
    return " Now both hands are empty." if now == "both empty" else f" Now {now}."


def perceived_scene_text(scene: SceneState, state: SymbolicState) -> str:
    """`scene_text` for a perceived scene: near pairs and distances from its geometry."""
    pairs = near_pairs(scene)
    return scene_text(state, scene.objects, pairs, pairs)
