"""Training tasks for language about where things are: objects named by their region
("the red block on the left", "the leftmost block"), everything of a kind in one region,
and objects named by a neighbour ("the cup near the plate").

Each task's table has a layout, the region of every object and which objects stand close
together (`draw_layout`), which the prompt's `{scene}` describes
(robollm.planner.scene_text); the sensing tasks' tables are drawn the same way. The
families here are part of the wider language of `robollm.training.synthetic_language`,
drawn only for prompts that show the table.
"""

from __future__ import annotations

import random

from robollm.training.synthetic import (
    GRASPABLE,
    HOLDERS,
    NOUNS,
    Phrases,
    Task,
    _colour,
    _targets_for,
    _type,
    move,
)

REGION_WORDS = {"left": ("on the left", "on the left side", "on the left-hand side"),
                "right": ("on the right", "on the right side", "on the right-hand side"),
                "middle": ("in the middle", "in the centre", "in the middle of the table")}


def draw_layout(rng: random.Random, objs: list[str]) -> tuple[dict[str, str], set[frozenset[str]]]:
    """A region per object (a tray or box in the middle) and a few pairs standing close."""
    regions = {o: "middle" if _type(o) in ("tray", "box") else rng.choice(("left", "middle", "right"))
               for o in objs}
    near: set[frozenset[str]] = set()
    for i, a in enumerate(objs):
        for b in objs[i + 1:]:
            if regions[a] == regions[b] and rng.random() < 0.3:
                near.add(frozenset((a, b)))
    return regions, near


def _noun(p: Phrases, name: str) -> str:
    return p.rng.choice(NOUNS[_type(name)])


def _movable(objs: list[str]) -> list[str]:
    return [o for o in objs if _type(o) in GRASPABLE]


def _holders(objs: list[str]) -> list[str]:
    return [o for o in objs if _type(o) in HOLDERS]


# -- where things are (need the layout in the prompt) ----------------------------------------------
def by_region(p: Phrases, objs: list[str]) -> Task | None:
    """Two look-alikes in different regions; the instruction picks one by where it is."""
    movable = _movable(objs)
    if not movable:
        return None
    obj = p.rng.choice(movable)
    twin = f"{obj}_2"
    here = p.layout[obj]
    there = p.rng.choice([r for r in ("left", "middle", "right") if r != here])
    objs = [*objs, twin]
    p.layout[twin] = there
    chosen = p.rng.choice((obj, twin))
    targets = [t for t in _targets_for(obj, objs) if t not in (obj, twin)]
    if not targets:
        return None
    target = p.rng.choice(targets)
    ref = f"the {_colour(obj)} {_noun(p, obj)} {p.rng.choice(REGION_WORDS[p.layout[chosen]])}"
    if p.rng.random() < 0.3:
        ref = f"the {p.layout[chosen]} {_colour(obj)} {_noun(p, obj)}"
    text = p.rng.choice(("put {r} {prep} {t}", "{r} goes {prep} {t}", "move {r} {prep} {t}")).format(
        r=ref, prep=p.prep(target), t=p.ref(target))
    return Task("spatial", objs, p.wrap(text), move(chosen, target))


def _by_place(p: Phrases, name: str, objs: list[str]) -> str | None:
    """'the block on the left', 'the leftmost block', 'the bowl in the middle': a name by
    its region, when no other object of its kind stands there; None otherwise."""
    region = p.layout.get(name)
    if region is None or [o for o in objs if _type(o) == _type(name) and p.layout.get(o) == region] != [name]:
        return None
    noun = _noun(p, name)
    forms = [f"the {noun} {p.rng.choice(REGION_WORDS[region])}", f"the {region} {noun}"]
    if region in ("left", "right"):
        forms += [f"the {region}most {noun}", f"the {noun} furthest to the {region}"]
    else:
        forms += [f"the {noun} in the centre"]
    return p.rng.choice(forms)


def region_ref(p: Phrases, objs: list[str]) -> Task | None:
    """An object, and sometimes its destination, named by where it stands and not by colour."""
    choices = [o for o in _movable(objs) if sum(_type(x) == _type(o) for x in objs) >= 2]
    p.rng.shuffle(choices)
    for obj in choices:
        ref = _by_place(p, obj, objs)
        targets = _targets_for(obj, objs)
        if ref is None or not targets:
            continue
        target = p.rng.choice(targets)
        tref = (_by_place(p, target, objs) if sum(_type(x) == _type(target) for x in objs) >= 2
                and p.rng.random() < 0.5 else None) or p.ref(target)
        core = p.rng.choice(("put {r} {prep} {t}", "move {r} {prep} {t}", "{r} goes {prep} {t}",
                             "take {r} and put it {prep} {t}", "pick up {r} and place it {prep} {t}"))
        return Task("spatial", objs, p.wrap(core.format(r=ref, prep=p.prep(target), t=tref)), move(obj, target))
    return None


def region_all(p: Phrases, objs: list[str]) -> Task | None:
    """Every object of a kind in one region into a holder, the same kind elsewhere stays."""
    holders = _holders(objs)
    for kind in p.rng.sample(GRASPABLE, len(GRASPABLE)):
        items = [o for o in objs if _type(o) == kind]
        regions = sorted({p.layout[o] for o in items})
        if len(items) < 2 or len(regions) < 2 or not holders:
            continue
        region = p.rng.choice(regions)
        chosen = [o for o in items if p.layout[o] == region]
        target = p.rng.choice(holders)
        noun = _noun(p, items[0])
        core = p.rng.choice(("put all the {n}s {w} {prep} {t}", "the {n}s {w} go {prep} {t}",
                             "move every {n} {w} {prep} {t}", "put whatever {n}s are {w} {prep} {t}",
                             "take the {n}s that are {w} and put them {prep} {t}"))
        text = core.format(n=noun, w=p.rng.choice(REGION_WORDS[region]), prep=p.prep(target), t=p.ref(target))
        return Task("spatial", objs, p.wrap(text), [s for o in chosen for s in move(o, target)])
    return None


def by_neighbour(p: Phrases, objs: list[str]) -> Task | None:
    """An object picked out by what stands next to it."""
    pairs = [(a, b) for pair in sorted(sorted(pair) for pair in p.near) for a, b in (pair, pair[::-1])
             if _type(a) in GRASPABLE]  # sorted: a set's order follows the string hash seed
    if not pairs:
        return None
    obj, neighbour = p.rng.choice(pairs)
    if sum(_type(o) == _type(obj) for o in objs) < 2:
        return None  # "the block next to the bowl" only matters when there are several blocks
    targets = [t for t in _targets_for(obj, objs) if t != neighbour]
    if not targets:
        return None
    target = p.rng.choice(targets)
    word = p.rng.choice(("next to", "near", "beside", "close to"))
    ref = f"the {_noun(p, obj)} {word} the {_colour(neighbour)} {_noun(p, neighbour)}"
    text = p.rng.choice(("put {r} {prep} {t}", "{r} should go {prep} {t}", "take {r} and put it {prep} {t}")).format(
        r=ref, prep=p.prep(target), t=p.ref(target))
    return Task("spatial", objs, p.wrap(text), move(obj, target))


SCENE_FAMILIES = {"by_region": (0.8, by_region), "by_neighbour": (0.6, by_neighbour),
                  "region_ref": (0.8, region_ref), "region_all": (0.5, region_all)}
