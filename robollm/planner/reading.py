"""How the planner reads an instruction before the language model does.

Four rewrites, each of which leaves alone what it cannot settle: misspelt words of the
robot's vocabulary put right (`robollm.planner.spelling`), colours named by things put as
colour words (`robollm.planner.colour_things`), objects named by their place or a
neighbour put as their names (`robollm.planner.references`), and then "all the blocks"
(less what the instruction leaves out) put as the list of them (`robollm.planner.every`). The model, the grounding
check and the left-alone check then read the result; the trace and `run --json` show it
beside what the person wrote. `planner.read_instruction: false` in a launch file turns it
off.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from robollm.planner.colour_things import name_colours
from robollm.planner.every import expand_every
from robollm.planner.phrases import Table
from robollm.planner.references import resolve_places
from robollm.planner.scene_text import near_pairs
from robollm.planner.spelling import correct_spelling
from robollm.world.state import SceneState
from robollm.world.symbolic import SymbolicState


@dataclass
class Reading:
    """The instruction as the planner reads it, and each change: (kind, was, now)."""

    text: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    # before "all the blocks" became a list: what the left-alone check reads ("put every block
    # in the bowl except the red one" still says which block is left out)
    unexpanded: str = ""

    def __bool__(self) -> bool:
        return bool(self.changes)

    def trace_line(self) -> str:
        """'read as: <text>  (<was> -> <now>; ...)', as the run's trace prints it."""
        return f"read as: {self.text}  (" + "; ".join(f"{was!r} -> {now!r}" for _, was, now in self.changes) + ")"


def read_instruction(text: str, table: Table, skill_words: Iterable[str] = ()) -> Reading:
    reading = Reading(text)
    for kind, rewrite in (("spelling", lambda t: correct_spelling(t, skill_words)),
                          ("colour", lambda t: name_colours(t, table.objects)),
                          ("place", lambda t: resolve_places(t, table)),
                          ("every", lambda t: expand_every(t, table))):
        if kind == "every":
            reading.unexpanded = reading.text
        reading.text, changes = rewrite(reading.text)
        reading.changes += [(kind, was, now) for was, now in changes]
    return reading


def scene_table(scene: SceneState, state: SymbolicState) -> Table:
    """The resolver's view of a perceived scene: regions from the symbolic state, near pairs
    and distances from the geometry."""

    def distance(a: str, b: str) -> float:
        (ax, ay), (bx, by) = scene.objects[a].pose.position[:2], scene.objects[b].pose.position[:2]
        return math.hypot(ax - bx, ay - by)

    # the table's left-right axis and sense, from the centres of its left and right regions
    (lx, ly), (rx, ry) = (scene.regions[r].low[:2] for r in ("left", "right"))
    (lx2, ly2), (rx2, ry2) = (scene.regions[r].high[:2] for r in ("left", "right"))
    dx, dy = (lx + lx2 - rx - rx2) / 2, (ly + ly2 - ry - ry2) / 2

    def leftness(name: str) -> float:
        x, y = scene.objects[name].pose.position[:2]
        return x * dx + y * dy

    lateral = leftness if "left" in scene.regions and "right" in scene.regions else None
    return Table({n: (o.colour, o.type) for n, o in scene.objects.items()}, state,
                 frozenset(near_pairs(scene)), distance, lateral, lambda n: scene.objects[n].size)
