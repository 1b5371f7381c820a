"""The task families that mirror the shipped suites' six kinds: pick and place, stacking,
several objects, regions, two-arm tasks and paraphrases (each drawn with many phrasings),
and their weights, with `sample_task`, which draws from them, and `generate`, which draws
many tasks from any sampler; the wider language (`synthetic_language`) adds its families
beside them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from robollm.training.synthetic import (
    GRASPABLE,
    HOLDERS,
    NOUNS,
    SIDES,
    Phrases,
    Task,
    _colour,
    _targets_for,
    _type,
    add_retry,
    move,
    normalise,
    random_objects,
    say,
)


def _place_one(p: Phrases, obj: str, target: str) -> str:
    o, t, prep = p.ref(obj), p.ref(target), p.prep(target)
    verb = p.rng.choice(("put", "put", "place", "set", "move", "drop", "pop", "stand", "rest", "lay", "get"))
    if _type(target) == "block" and p.rng.random() < 0.4:
        return p.wrap(p.rng.choice(("stack {o} on {t}", "stack {o} on top of {t}")).format(o=o, t=t))
    if p.rng.random() < 0.35:
        return p.rng.choice((
            "I want {o} {prep} {t}", "I'd like {o} {prep} {t}", "{o} goes {prep} {t}", "{o} should go {prep} {t}",
            "{o} should end up {prep} {t}", "{o} belongs {prep} {t}", "I need {o} sitting {prep} {t}",
            "grab {o} and put it {prep} {t}", "take {o} and place it {prep} {t}", "pick up {o} and put it {prep} {t}",
        )).format(o=o, t=t, prep=prep)
    return p.wrap(f"{verb} {o} {prep} {t}")


def pick_place(p: Phrases, objs: list[str]) -> Task | None:
    movable = [o for o in objs if _type(o) in GRASPABLE]
    pairs = [(o, t) for o in movable for t in _targets_for(o, objs)]
    if not pairs:
        return None
    obj, target = p.rng.choice(pairs)
    family = "stacking" if _type(target) == "block" else "pick_place"
    return Task(family, objs, _place_one(p, obj, target), move(obj, target))


def pick_up(p: Phrases, objs: list[str]) -> Task | None:
    movable = [o for o in objs if _type(o) in GRASPABLE]
    if not movable:
        return None
    obj = p.rng.choice(movable)
    core = p.rng.choice(("pick up {o}", "pick up {o} and hold it", "grab {o}", "hold {o}", "lift {o}",
                         "pick {o} up", "take {o} in your hand"))
    return Task("pick_place", objs, p.wrap(core.format(o=p.ref(obj))), [say("pick", obj=obj)])


def tower(p: Phrases, objs: list[str]) -> Task | None:
    blocks = [o for o in objs if _type(o) == "block"]
    if len(blocks) < 3:
        return None
    n = p.rng.choice([3] * 3 + [4]) if len(blocks) >= 4 else 3
    order = p.rng.sample(blocks, n)
    cs = [_colour(b) for b in order]
    if n == 3:
        core = p.rng.choice((
            "stack the blocks: {0} at the bottom, then {1}, then {2}",
            "build a tower: {0} on the bottom, {1} in the middle, {2} on top",
            "make a tower with {0} at the bottom, {1} in the middle and {2} on top",
            "stack the {0}, {1} and {2} blocks, {0} at the bottom and {2} on top",
            "make a tower: the {0} cube on the bottom, then the {1} one, then the {2} one",
            "build a stack from the bottom up: {0}, {1}, {2}",
            "stack {1} on {0} and then {2} on {1}",
        )).format(*cs)
    else:
        core = p.rng.choice((
            "stack all four blocks, from the bottom up: {0}, {1}, {2}, {3}",
            "build a tower of four: {0} at the bottom, then {1}, then {2}, then {3} on top",
        )).format(*cs)
    steps = [s for below, above in zip(order, order[1:], strict=False) for s in move(above, below)]
    return Task("stacking", objs, p.wrap(core), steps)


def _two_blocks_and_holder(p: Phrases, objs: list[str]) -> tuple[str, str, str] | None:
    """Two different blocks and a bowl, plate or tray, drawn at random; None if the table lacks them."""
    blocks = [o for o in objs if _type(o) == "block"]
    holders = [o for o in objs if _type(o) in HOLDERS]
    if len(blocks) < 2 or not holders:
        return None
    a, b = p.rng.sample(blocks, 2)
    return a, b, p.rng.choice(holders)


def base_and_stack(p: Phrases, objs: list[str]) -> Task | None:
    if (drawn := _two_blocks_and_holder(p, objs)) is None:
        return None
    a, b, base = drawn
    core = p.rng.choice(("put {a} {prep} {t} and stack {b} on it", "put {a} {prep} {t}, then stack {b} on it",
                         "place {a} {prep} {t} and put {b} on top of it"))
    text = core.format(a=p.ref(a), b=p.ref(b), t=p.ref(base), prep=p.prep(base))
    return Task("stacking", objs, p.wrap(text), move(a, base) + move(b, a))


def all_into(p: Phrases, objs: list[str]) -> Task | None:
    kinds = [k for k in GRASPABLE if sum(_type(o) == k for o in objs) >= 2]
    targets = [o for o in objs if _type(o) in HOLDERS]
    if not kinds or not targets:
        return None
    kind, target = p.rng.choice(kinds), p.rng.choice(targets)
    items = [o for o in objs if _type(o) == kind]
    noun = p.rng.choice(NOUNS[kind]) + "s"
    t, prep = p.ref(target), p.prep(target)
    if len(items) == 2 and p.rng.random() < 0.4:
        core = p.rng.choice(("put both {n} {prep} {t}", "drop both {n} {prep} {t}", "move both {n} {prep} {t}"))
    else:
        core = p.rng.choice(("put all the {n} {prep} {t}", "put every {s} {prep} {t}", "place all of the {n} {prep} {t}",
                             "move all the {n} {prep} {t}", "put all {n} {prep} {t}"))
    text = core.format(n=noun, s=noun[:-1], t=t, prep=prep)
    return Task("multi_object", objs, p.wrap(text), [s for o in items for s in move(o, target)])


def two_into_one(p: Phrases, objs: list[str]) -> Task | None:
    if (drawn := _two_blocks_and_holder(p, objs)) is None:
        return None
    a, b, target = drawn
    t, prep = p.ref(target), p.prep(target)
    text = f"put the {_colour(a)} and the {_colour(b)} block {prep} {t}"
    rest = [o for o in objs if _type(o) == "block" and o not in (a, b)]
    if rest and p.rng.random() < 0.4:
        text += p.rng.choice((", but leave {r} out", " and leave {r} alone", ", not {r}")).format(r=p.ref(rest[0]))
    return Task("multi_object", objs, p.wrap(text), move(a, target) + move(b, target))


def two_targets(p: Phrases, objs: list[str]) -> Task | None:
    movable = [o for o in objs if _type(o) in GRASPABLE]
    if len(movable) < 2:
        return None
    a, b = p.rng.sample(movable, 2)
    ta = [t for t in _targets_for(a, objs) if t != b and _type(t) != "block"]
    tb = [t for t in _targets_for(b, objs) if t != a and _type(t) != "block"]
    choices = [(x, y) for x in ta for y in tb if x != y]
    if not choices:
        return None
    x, y = p.rng.choice(choices)
    text = f"put {p.ref(a)} {p.prep(x)} {p.ref(x)} and {p.ref(b)} {p.prep(y)} {p.ref(y)}"
    return Task("multi_object", objs, p.wrap(text), move(a, x) + move(b, y))


def by_colour(p: Phrases, objs: list[str]) -> Task | None:
    """Each block (or cup) into the container of its own colour, or a colour swap."""
    for kind in p.rng.sample(GRASPABLE, 2):
        for tkind in p.rng.sample(("bowl", "plate"), 2):
            items = [o for o in objs if _type(o) == kind and f"{_colour(o)}_{tkind}" in objs]
            if len(items) < 2:
                continue
            noun, tnoun = p.rng.choice(NOUNS[kind]), p.rng.choice(NOUNS[tkind])
            if p.rng.random() < 0.25 and len(items) == 2:
                a, b = items
                ca, cb = _colour(a), _colour(b)
                prep = "in" if tkind == "bowl" else "on"
                text = f"put the {ca} {noun} {prep} the {cb} {tnoun} and the {cb} {noun} {prep} the {ca} {tnoun}"
                return Task("multi_object", objs, p.wrap(text),
                            move(a, f"{cb}_{tkind}") + move(b, f"{ca}_{tkind}"))
            core = p.rng.choice((
                "put each {n} {prep} the {t} of its colour", "put every {n} {prep} the {t} of the same colour",
                "each {n} {prep} the {t} that matches its colour", "match each {n} to the {t} of its colour",
                "put every {n} {prep} the {t} that has the same colour", "sort the {n}s into the {t}s by colour",
            ))
            text = core.format(n=noun, t=tnoun, prep=p.prep(f"x_{tkind}"))
            return Task("multi_object", objs, p.wrap(text), [s for o in items for s in move(o, f"{_colour(o)}_{tkind}")])
    return None


def region(p: Phrases, objs: list[str]) -> Task | None:
    movable = [o for o in objs if _type(o) in GRASPABLE]
    if not movable:
        return None
    obj = p.rng.choice(movable)
    side = p.rng.choice([r for r in SIDES if r != p.layout.get(obj)])  # not where it already is
    verb = p.rng.choice(("move", "move", "put", "bring", "shift", "slide", "get", "take", "carry"))
    linker = p.rng.choice(("to", "to", "over to")) if verb != "put" else p.rng.choice(("on", "in")) if side != "middle" else "in"
    text = f"{verb} {p.ref(obj)} {linker} {p.side(side)}"
    if p.rng.random() < 0.2:
        text = p.rng.choice(("{o} should be on {s}", "I want {o} on {s}", "{o} goes to {s}")).format(
            o=p.ref(obj), s=p.side(side))
    return Task("regions", objs, p.wrap(text), move(obj, side))


def two_regions(p: Phrases, objs: list[str]) -> Task | None:
    movable = [o for o in objs if _type(o) in GRASPABLE]
    if len(movable) < 2:
        return None
    a, b = p.rng.sample(movable, 2)
    if p.rng.random() < 0.5:
        sides = [r for r in SIDES if r not in (p.layout.get(a), p.layout.get(b))]
        if not sides:
            return None
        side = p.rng.choice(sides)
        if _type(a) == _type(b) == "block" and p.rng.random() < 0.5:
            text = f"move the {_colour(a)} and the {_colour(b)} block to {p.side(side)}"
        else:
            text = f"move {p.ref(a)} and {p.ref(b)} to {p.side(side)}"
        return Task("regions", objs, p.wrap(text), move(a, side) + move(b, side))
    sa, sb = p.rng.sample(("left", "right"), 2)
    if p.layout.get(a) == sa or p.layout.get(b) == sb:
        return None
    text = f"put {p.ref(a)} on {p.side(sa)} and {p.ref(b)} on {p.side(sb)}"
    return Task("regions", objs, p.wrap(text), move(a, sa) + move(b, sb))


def tray_lift(p: Phrases, objs: list[str]) -> Task | None:
    trays = [o for o in objs if _type(o) == "tray"]
    if not trays:
        return None
    tray = trays[0]
    t = p.ref(tray)
    core = p.rng.choice((
        "lift {t} with both hands", "lift {t} with both arms", "raise {t} using both arms",
        "use both hands to lift {t}", "pick up {t} with both hands", "hoist {t} with two arms",
        "{t} is heavy, so lift it with both hands", "both hands on {t} and lift it", "lift {t} with two hands",
        "raise {t} with both hands",
    )).format(t=t)
    blocks = [o for o in objs if _type(o) in GRASPABLE]
    if blocks and p.rng.random() < 0.45:
        obj = p.rng.choice(blocks)
        first = f"put {p.ref(obj)} {p.prep(tray)} {t}"
        joiner = p.rng.choice((", then ", " and ", " and then ", ", and then "))
        second = p.rng.choice(("lift the tray with both hands", "lift it with both hands", "raise the tray with both arms",
                               f"lift {t} with both hands"))
        return Task("bimanual", objs, p.wrap(first + joiner + second), move(obj, tray) + [say("lift_with_both_arms", obj=tray)])
    return Task("bimanual", objs, p.wrap(core), [say("lift_with_both_arms", obj=tray)])


Family = Callable[[Phrases, list[str]], Task | None]  # a table's objects -> a task, or None where it does not fit

FAMILIES: dict[str, tuple[float, Family]] = {
    "pick_place": (3.0, pick_place),
    "pick_up": (0.6, pick_up),
    "tower": (1.2, tower),
    "base_and_stack": (0.6, base_and_stack),
    "all_into": (1.0, all_into),
    "two_into_one": (0.8, two_into_one),
    "two_targets": (1.0, two_targets),
    "by_colour": (1.2, by_colour),
    "region": (1.2, region),
    "two_regions": (0.8, two_regions),
    "tray_lift": (0.8, tray_lift),
}


def sample_task(rng: random.Random, families: Iterable[str] | None = None) -> Task:
    chosen = list(families or FAMILIES)
    weights = [FAMILIES[f][0] for f in chosen]
    while True:
        objs = random_objects(rng)
        family = rng.choices(chosen, weights)[0]
        task = FAMILIES[family][1](Phrases(rng, objs), objs)
        if task is None:
            continue
        task.instruction = " ".join(task.instruction.split())
        return add_retry(rng, task)


def generate(count: int, seed: int, exclude: Iterable[str] = (),
             sampler: Callable[[random.Random], Task] | None = None) -> list[Task]:
    """`count` tasks from `sampler` (default: `sample_task`); none whose instruction
    (normalised) is in `exclude`."""
    rng = random.Random(seed)
    banned = {normalise(e) for e in exclude}
    tasks: list[Task] = []
    while len(tasks) < count:
        task = (sampler or sample_task)(rng)
        if normalise(task.instruction) not in banned:
            tasks.append(task)
    return tasks
