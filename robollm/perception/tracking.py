"""Names that stay put from one look to the next, and what each hand holds.

A detection joins the track of the same colour and type nearest to it (an object pushed
across the table keeps its name), or any track within 2 cm and at its height, or of its
colour and size whose footprint it lies on (the same object read differently, or seen
in part); an object a hand let go is the thing of its colour seen next. New objects are
named `<colour>_<type>`, with `_2`, `_3` for look-alikes. An object that is not seen
(hidden behind another, or under a hand) keeps its last pose; so does one with another
standing on it, of which only strips of its sides are seen. What a hand holds comes from
the arm's own state: fingers closed on something, over a known object, start a hold,
and the held object then moves with the hand until the fingers open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from robollm.geometry import Pose

SAME_OBJECT = 0.02  # m: a detection this close to a track (and at its height) is that object, whatever it looks like
SAME_SIZE = 0.6  # a detection at least this fraction of a track's size, on its footprint, may be it
GRIP_REACH = 0.03  # m from a grasp point to an object's footprint for a hold to start on it
FINGER_PAD = 0.018  # m of an object's top a top-down grasp encloses (or half its height)
BODY_GRIP = {"cup": 0.6}  # types grasped around the body: grasp height as a fraction of height
OPEN_MARGIN = 0.005  # m below the widest opening at which fingers count as open
EMPTY_WIDTH = 0.004  # m: fingers closed this far hold nothing
STACK_STEP = 0.012  # m: a base this close to a track's top stands on it; heights this close agree
LET_GO_MATCH = 0.04  # m: a let-go track's same-label match ranks as if this near
SIDE_REACH = 0.01  # m outside a track's footprint that a strip of its side may be centred


@dataclass
class Detection:
    type: str
    colour: str
    type_score: float
    colour_score: float
    centre: tuple[float, float]
    base_z: float
    height: float
    extent: tuple[float, float]  # short, long side of the footprint
    yaw: float
    size: float
    bbox: tuple[int, int, int, int] = (0, 0, 0, 0)
    pixels: object = None  # (N, 2) rows and columns of its region, for scoring and drawing

    @property
    def label(self) -> str:
        return f"{self.colour}_{self.type}"


@dataclass
class Track:
    name: str
    det: Detection
    position: tuple[float, float, float]
    yaw: float
    seen: int  # the look it was last seen in
    grips: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # arm -> offset from the hand
    rides_on: str | None = None  # the held object it stands in or on, and goes up with
    ride_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    let_go: bool = False  # released by the hand and not seen since: where it landed is not known yet

    @property
    def pose(self) -> Pose:
        return Pose(self.position, (0.0, 0.0, math.sin(self.yaw / 2), math.cos(self.yaw / 2)))


@dataclass(frozen=True)
class Gripper:
    position: tuple[float, float, float]
    width: float
    max_width: float

    @property
    def closed_on_something(self) -> bool:
        return EMPTY_WIDTH < self.width < self.max_width - OPEN_MARGIN


def _seen_in_part(d: Detection, t: Track) -> bool:
    """A detection of the track's colour and about its size, centred on its footprint and
    at its height: the same object half hidden by an arm and read as another type (a bowl
    whose visible part looks like a cup), not a new object. A thing standing in a
    container is smaller than it, so it still gets a name of its own."""
    small, large = sorted((d.size, t.det.size))
    return (d.colour == t.det.colour and small > SAME_SIZE * large and abs(d.base_z - t.position[2]) < 0.01
            and footprint_distance(d.centre[0], d.centre[1], t) == 0.0)


def footprint_distance(x: float, y: float, track: Track) -> float:
    """Horizontal distance from a point to the track's footprint rectangle (0 inside)."""
    tx, ty, _ = track.position
    c, s = math.cos(track.yaw), math.sin(track.yaw)
    u = c * (x - tx) + s * (y - ty)
    v = -s * (x - tx) + c * (y - ty)
    short, long = track.det.extent
    du, dv = max(abs(u) - short / 2, 0.0), max(abs(v) - long / 2, 0.0)
    return math.hypot(du, dv)


class Tracker:
    def __init__(self) -> None:
        self.tracks: dict[str, Track] = {}
        self.looks = 0

    def holding(self) -> dict[str, str]:
        return {arm: t.name for t in self.tracks.values() for arm in t.grips}

    def carried(self) -> set[str]:
        """Objects held, and objects standing in or on something held."""
        return {t.name for t in self.tracks.values() if t.grips or t.rides_on}

    def update_holds(self, grippers: dict[str, Gripper]) -> None:
        for arm, g in grippers.items():
            held = next((t for t in self.tracks.values() if arm in t.grips), None)
            if held is not None and not g.closed_on_something:
                self._release(held, arm)  # where the hand let go; the next look places it
            elif held is None and g.closed_on_something:
                self._start_hold(arm, g)
        for t in self.tracks.values():
            if t.grips:
                spots = [tuple(p + o for p, o in zip(grippers[a].position, t.grips[a], strict=True))
                         for a in t.grips if a in grippers]
                if spots:
                    t.position = tuple(sum(v) / len(spots) for v in zip(*spots, strict=True))  # type: ignore[assignment]
        for t in self.tracks.values():
            if t.rides_on in self.tracks:
                base = self.tracks[t.rides_on].position
                t.position = tuple(b + o for b, o in zip(base, t.ride_offset, strict=True))  # type: ignore[assignment]

    def _release(self, held: Track, arm: str) -> None:
        del held.grips[arm]
        if not held.grips:
            held.let_go = True
            for t in self.tracks.values():
                if t.rides_on == held.name:
                    t.rides_on = None

    def _start_hold(self, arm: str, g: Gripper) -> None:
        # The hand may have risen since it closed: the object is the topmost one (of a
        # stack) whose footprint lies under the fingers.
        gx, gy, gz = g.position
        best, best_key = None, None
        for t in self.tracks.values():
            if (t.grips and t.det.type not in ("tray", "box")) or t.rides_on:
                continue
            if t.position[2] > gz + 0.02 or footprint_distance(gx, gy, t) > GRIP_REACH:
                continue
            key = (t.position[2] + t.det.height, -footprint_distance(gx, gy, t))
            if best_key is None or key > best_key:
                best, best_key = t, key
        if best is None:
            return
        h = best.det.height
        if best.grips:  # a second hand on a tray's other handle, at the first hand's height
            grip_z = next(iter(best.grips.values()))[2]
        elif best.det.type in BODY_GRIP:
            grip_z = -BODY_GRIP[best.det.type] * h
        else:
            grip_z = -(h - min(FINGER_PAD, h / 2))
        if not best.grips:
            for t in self._standing_on(best):
                t.rides_on = best.name
                t.ride_offset = tuple(p - b for p, b in zip(t.position, best.position, strict=True))  # type: ignore[assignment]
        best.grips[arm] = (best.position[0] - gx, best.position[1] - gy, grip_z)

    def _standing_on(self, holder: Track) -> list[Track]:
        """What stands in or on `holder`: over its footprint, based at or above its base."""
        return [t for t in self.tracks.values() if t is not holder and not t.grips
                and footprint_distance(t.position[0], t.position[1], holder) == 0.0
                and holder.position[2] - 0.005 <= t.position[2] <= holder.position[2] + holder.det.height + 0.01]

    def update(self, detections: list[Detection]) -> None:
        """Match one look's detections to the tracks not held; new ones get names."""
        self.looks += 1
        self._drop_false_holds(detections)
        free = [t for t in self.tracks.values() if not t.grips and not t.rides_on]
        sides = self._covered_sides(detections, free)
        for name in set(sides.values()):  # seen, in part: where it is stays as it was
            self.tracks[name].seen = self.looks
        free = [t for t in free if t.name not in sides.values()]
        pairs = []
        for i, d in enumerate(detections):
            if i in sides:
                continue
            for t in free:
                dist = math.dist(d.centre, t.position[:2])
                if t.det.label == d.label:
                    # Let go and not seen since, its pose is where the hand was: what it
                    # looks like, not how near it is, says it (before a look-alike of
                    # another label that happens to stand under it).
                    pairs.append((min(dist, LET_GO_MATCH) if t.let_go else dist, i, t.name))
                elif (dist < SAME_OBJECT and abs(d.base_z - t.position[2]) < SAME_OBJECT) or _seen_in_part(d, t):
                    pairs.append((dist + 0.05, i, t.name))
                elif t.let_go and t.det.colour == d.colour:
                    # Let go where the look could not follow (the hand moved on before it):
                    # a thing of its colour is it, even read as another type on a stack.
                    pairs.append((dist + 1.0, i, t.name))
        pairs.sort()
        used_d, used_t = set(sides), set()
        for _, i, name in pairs:
            if i in used_d or name in used_t:
                continue
            used_d.add(i)
            used_t.add(name)
            self._refresh(self.tracks[name], detections[i])
        for i, d in enumerate(detections):
            if i not in used_d:
                name = self._new_name(d.label)
                self.tracks[name] = Track(name, d, (*d.centre, d.base_z), d.yaw, self.looks)

    def _covered_sides(self, detections: list[Detection], free: list[Track]) -> dict[int, str]:
        """Detections that are the sides of an object with another standing on it.

        A block under a block shows the camera only strips of its sides, each small, of
        its height, on the edge of its footprint, and often read as another colour (a thin
        dark strip looks like anything). They are that object seen in part, not new things,
        and its pose stays what it was when it was seen whole.
        """
        sides: dict[int, str] = {}
        for t in free:
            top = t.position[2] + t.det.height
            on_top = {i for i, d in enumerate(detections) if abs(d.base_z - top) < STACK_STEP
                      and footprint_distance(d.centre[0], d.centre[1], t) < SIDE_REACH}
            if not on_top:
                continue
            for i, d in enumerate(detections):
                if i in on_top or i in sides:
                    continue
                if (footprint_distance(d.centre[0], d.centre[1], t) < SIDE_REACH
                        and abs(d.base_z - t.position[2]) < STACK_STEP and abs(d.height - t.det.height) < STACK_STEP
                        and d.size < SAME_SIZE * t.det.size):
                    sides[i] = t.name
        return sides

    def _drop_false_holds(self, detections: list[Detection]) -> None:
        """Fingers closed on an object that stayed down (too heavy, or caught by its edge):
        the camera sees it where it was, so the hand does not hold it after all."""
        for t in self.tracks.values():
            if not t.grips or t.det.type in ("tray", "box"):
                continue
            for d in detections:
                if d.label == t.det.label and math.dist(d.centre, t.position[:2]) < 0.03 and \
                        t.position[2] - d.base_z > 0.05:
                    for arm in list(t.grips):
                        self._release(t, arm)
                    break

    def _refresh(self, t: Track, d: Detection) -> None:
        label = t.det
        # The name and what it is stay; the geometry is the new look's.
        t.det = Detection(label.type, label.colour, max(label.type_score, d.type_score),
                          max(label.colour_score, d.colour_score), d.centre, d.base_z, d.height,
                          d.extent, d.yaw, d.size, d.bbox, d.pixels)
        t.position, t.yaw, t.seen, t.let_go = (*d.centre, d.base_z), d.yaw, self.looks, False

    def _new_name(self, label: str) -> str:
        if label not in self.tracks:
            return label
        n = 2
        while f"{label}_{n}" in self.tracks:
            n += 1
        return f"{label}_{n}"
