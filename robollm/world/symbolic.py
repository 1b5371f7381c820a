"""The symbolic scene: where each object is (in, on, at, held) without geometry.

Skills state their effects on it, the fast `symbolic` executor applies only those
effects, and success predicates evaluate on it exactly as on the physical world.
Comparing the two separates planning errors from control errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from robollm.world.scene import CONTAINER_TYPES, SUPPORT_TYPES, TWO_HANDED_TYPES
from robollm.world.state import ObjectInfo, SceneState

ARMS = ("left", "right")
REACH = {"left": ("left", "middle"), "right": ("right", "middle")}


def other_arm(arm: str) -> str:
    return "right" if arm == "left" else "left"


@dataclass
class SymbolicState:
    types: dict[str, str]
    parent: dict[str, str]  # object -> container/support name, region name, or arm name when held
    relation: dict[str, str]  # object -> "in" | "on" | "at" | "held"
    region_names: tuple[str, ...] = ("left", "middle", "right")
    lifted_objects: set[str] = field(default_factory=set)
    near_pairs: set[frozenset[str]] = field(default_factory=set)
    sensed: dict[str, set[str]] = field(default_factory=dict)  # object -> cues gathered (sound, touch, weight)
    # Held objects that both hands hold (a tray by its two handles); `parent` names the left arm.
    held_by_both: set[str] = field(default_factory=set)
    # What discovered skills state (robollm.world.geometric): objects lying tipped over,
    # and at_edge / touching atoms that hold. Moving an object clears its entries.
    tipped: set[str] = field(default_factory=set)
    contacts: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)

    def copy(self) -> SymbolicState:
        """A copy sharing nothing mutable. Field by field rather than `deepcopy`: the
        affordance rules copy the state once per candidate, 80 times a step."""
        return SymbolicState(dict(self.types), dict(self.parent), dict(self.relation), self.region_names,
                             set(self.lifted_objects), set(self.near_pairs),
                             {k: set(v) for k, v in self.sensed.items()}, set(self.held_by_both),
                             set(self.tipped), set(self.contacts))

    # -- queries -------------------------------------------------------------------
    def holding(self, arm: str) -> str | None:
        for obj, rel in self.relation.items():
            if rel == "held" and (self.parent[obj] == arm or obj in self.held_by_both):
                return obj
        return None

    def rides_on_two_hands(self, obj: str) -> bool:
        """True for what sits in or on something held by both hands: it goes up with it."""
        seen = set()
        while self.relation.get(obj) in ("in", "on") and obj not in seen:
            seen.add(obj)
            obj = self.parent[obj]
        return self.relation.get(obj) == "held" and obj in self.held_by_both

    def holder(self, obj: str) -> str | None:
        return self.parent[obj] if self.relation.get(obj) == "held" else None

    def region_of(self, obj: str) -> str | None:
        seen = set()
        while obj in self.parent and obj not in seen:
            seen.add(obj)
            if self.relation[obj] == "held":
                return None
            if self.relation[obj] == "at":
                return self.parent[obj]
            obj = self.parent[obj]
        return obj if obj in self.region_names else None

    def stacked_on(self, obj: str) -> list[str]:
        return [o for o, p in self.parent.items() if p == obj and self.relation[o] in ("in", "on")]

    def choose_arm(self, obj: str) -> str | None:
        """The arm that should grasp `obj`: the only one that reaches it, or the free one."""
        holder = self.holder(obj)
        if holder:
            return holder
        region = self.region_of(obj)
        arms = [a for a in ARMS if region in REACH[a]]
        free = [a for a in arms if self.holding(a) is None]
        return (free or arms or [None])[0]

    def reaches(self, arm: str, region: str | None) -> bool:
        return region in REACH[arm]

    # -- changes ---------------------------------------------------------------------
    def put(self, obj: str, relation: str, parent: str) -> None:
        self.relation[obj], self.parent[obj] = relation, parent
        self.lifted_objects.discard(obj)
        self.held_by_both.discard(obj)
        self.near_pairs = {p for p in self.near_pairs if obj not in p}
        self.tipped.discard(obj)
        self.contacts = {c for c in self.contacts if obj not in c[1]}

    def hold_with_both(self, obj: str) -> None:
        self.put(obj, "held", ARMS[0])
        self.held_by_both.add(obj)

    # -- Facts protocol -------------------------------------------------------------
    def objects(self) -> set[str]:
        return set(self.types)

    def regions(self) -> set[str]:
        return set(self.region_names)

    def arms(self) -> set[str]:
        return set(ARMS)

    def holds(self, relation: str, args: tuple[str, ...]) -> bool:
        if relation == "holding":
            return self.holding(args[0]) == args[1]
        if relation == "lifted":
            return (args[0] in self.lifted_objects or self.relation.get(args[0]) == "held"
                    or self.rides_on_two_hands(args[0]))
        if relation == "at":
            return self.region_of(args[0]) == args[1]
        if relation in ("in", "on"):
            a, b = args
            if self.relation.get(a) == relation and self.parent.get(a) == b:
                return True
            if relation == "on" and self.types.get(b) in CONTAINER_TYPES:
                return self.holds("in", args)  # resting in a container counts as on it
            # Something stacked on a block that sits in a bowl is in the bowl too.
            return relation == "in" and self.relation.get(a) == "on" and self.holds("in", (self.parent[a], b))
        if relation == "near":
            a, b = args
            return (frozenset(args) in self.near_pairs or self.parent.get(a) == b
                    or self.parent.get(b) == a)
        if relation == "upright":
            return args[0] not in self.tipped
        if relation == "at_edge":
            return (relation, tuple(args)) in self.contacts and self.region_of(args[0]) == args[1]
        if relation == "touching":
            a, b = args
            if a == b:
                return False
            stacked = self.parent.get(a) == b or self.parent.get(b) == a
            return stacked or (relation, (a, b)) in self.contacts or (relation, (b, a)) in self.contacts
        raise KeyError(relation)


def _over(x: float, y: float, other: ObjectInfo) -> bool:
    """Whether the point lies over `other`'s footprint: a disc for round things, the
    inner rectangle for a tray or box (whose handles stretch its footprint lengthwise)."""
    ox, oy = other.pose.position[:2]
    if other.type not in TWO_HANDED_TYPES:
        return math.hypot(x - ox, y - oy) < max(other.footprint) / 2 - 0.01
    c, s = math.cos(other.yaw), math.sin(other.yaw)
    lx, ly = c * (x - ox) + s * (y - oy), -s * (x - ox) + c * (y - oy)
    return abs(lx) < other.footprint[0] / 2 - 0.01 and abs(ly) < other.size / 2 - 0.01


def from_scene(scene: SceneState) -> SymbolicState:
    """Read the symbolic relations off a perceived scene's geometry."""
    types = {n: o.type for n, o in scene.objects.items()}
    held = list(scene.holding.values())
    both = {n for n in types if held.count(n) >= 2}
    parent, relation = {}, {}
    for name, obj in scene.objects.items():
        holder = scene.holder(name)
        if holder:
            parent[name], relation[name] = holder, "held"
            continue
        x, y, z = obj.pose.position
        best = None
        for other in scene.objects.values():
            # A tray lifted by both hands still carries what is in it.
            if other.name == name or (scene.holder(other.name) and other.name not in both):
                continue
            ox, oy, oz = other.pose.position
            if not _over(x, y, other):
                continue
            top = oz + other.height
            if other.type in CONTAINER_TYPES and oz - 0.005 <= z <= top:
                best = ("in", other.name, oz)
            elif other.type in SUPPORT_TYPES and abs(z - top) < 0.02 and (best is None or oz > best[2]):
                best = ("on", other.name, oz)
        if best:
            relation[name], parent[name] = best[0], best[1]
        else:
            relation[name], parent[name] = "at", scene.region_of(name) or "middle"
    state = SymbolicState(types, parent, relation, tuple(scene.regions), held_by_both=both)
    _read_geometric(state, scene)
    return state


def _read_geometric(state: SymbolicState, scene: SceneState) -> None:
    """Tipped objects, and at_edge / touching atoms, as the perceived geometry shows them."""
    from robollm.world.geometric import perceived_holds

    if not scene.regions:
        return
    loose = [n for n in scene.objects if scene.holder(n) is None]
    for name in loose:
        if not perceived_holds("upright", (name,), scene):
            state.tipped.add(name)
        for region in scene.regions:
            if perceived_holds("at_edge", (name, region), scene):
                state.contacts.add(("at_edge", (name, region)))
        for other in loose:
            if other != name and perceived_holds("touching", (name, other), scene):
                state.contacts.add(("touching", (name, other)))
