"""Training tasks for language beyond plain commands: where things are (the families of
`robollm.training.synthetic_places`), what to leave alone, "under", long towers and
several pairs, moving a tray, count and order words, colours named by things that have
them, which hand, polite and several-sentence requests, misspellings.

Each task's table has a layout (the region of every object and which objects stand close
together), which the prompt's `{scene}` describes (robollm.planner.scene_text), so "the
red block on the left" or "the cup near the plate" can be resolved. Families that need
the layout are drawn only for prompts that show it.

The wording here is this module's own: the held-out `language` suite was written before
it and is never read by it (instructions that match a suite's are dropped by
`synthetic_families.generate`, and a test checks it).
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from robollm.training.synthetic import (
    GRASPABLE,
    NOUNS,
    Phrases,
    Task,
    _colour,
    _targets_for,
    _type,
    add_retry,
    move,
    random_objects,
    say,
)
from robollm.training.synthetic_families import FAMILIES, Family, generate
from robollm.training.synthetic_places import (
    REGION_WORDS,
    SCENE_FAMILIES,
    _holders,
    _movable,
    _noun,
    draw_layout,
)
from robollm.world.symbolic import REACH, other_arm

# Things whose colour everyone knows (not the held-out suite's: it measures carrying over).
COLOUR_OF = {
    "red": ("a strawberry", "a fire truck", "a cherry", "a stop sign"),
    "green": ("a leaf", "a lime", "a frog", "a pine tree"),
    "blue": ("the ocean", "a blueberry", "denim jeans"),
    "yellow": ("a lemon", "a sunflower", "an egg yolk", "a school bus"),
    "orange": ("a carrot", "a pumpkin", "a tangerine"),
    "purple": ("a grape", "a plum", "an aubergine"),
    "pink": ("a flamingo", "bubble gum", "a piglet"),
    "white": ("milk", "a cloud", "a sheet of paper"),
    "black": ("ink", "the night", "a car tyre"),
    "brown": ("chocolate", "coffee", "tree bark"),
    "grey": ("an elephant", "ash", "a rain cloud"),
}


def _several_of_a_kind(p: Phrases, objs: list[str], least: int) -> list[str]:
    """The objects of the first graspable kind, in a random order of kinds, with at least
    `least` of them on the table; none when there is no holder to put them in."""
    kinds = p.rng.sample(GRASPABLE, 2)
    if not _holders(objs):
        return []
    for kind in kinds:
        items = [o for o in objs if _type(o) == kind]
        if len(items) >= least:
            return items
    return []


# -- negation and exceptions ----------------------------------------------------------------
def except_one(p: Phrases, objs: list[str]) -> Task | None:
    """All of a kind but one or two into a holder; those left out are named by colour, or
    by where they stand when that tells them apart."""
    items, holders = _several_of_a_kind(p, objs, 3), _holders(objs)
    if not items:
        return None
    target = p.rng.choice(holders)
    noun = _noun(p, items[0])
    two = len(items) >= 4 and p.rng.random() < 0.25
    left_out = p.rng.sample(items, 2 if two else 1)
    if two:
        c1, c2 = (_colour(o) for o in left_out)
        core = p.rng.choice((
            "put all the {n}s {prep} {t} except the {c1} and the {c2} ones",
            "every {n} {prep} {t} apart from the {c1} one and the {c2} one",
            "move the {n}s {prep} {t} but leave the {c1} and {c2} {n}s where they are",
            "all the {n}s other than {c1} and {c2} go {prep} {t}",
        ))
        text = core.format(n=noun, c1=c1, c2=c2, prep=p.prep(target), t=p.ref(target))
    else:
        one = left_out[0]
        alone_there = [o for o in items if p.layout.get(o) == p.layout.get(one)] == [one]
        which = (f"the one {p.rng.choice(REGION_WORDS[p.layout[one]])}" if alone_there and p.rng.random() < 0.3
                 else f"the {_colour(one)} one")
        core = p.rng.choice((
            "put all the {n}s except {w} {prep} {t}", "every {n} but {w} goes {prep} {t}",
            "move the {n}s {prep} {t}, all of them apart from {w}",
            "put the {n}s {prep} {t} but not {w}", "all the {n}s {prep} {t}, except for {w}",
            "apart from {w}, put every {n} {prep} {t}", "put every {n} other than {w} {prep} {t}",
            "the {n}s go {prep} {t}; skip {w}", "put all {n}s {prep} {t} except {w}, which stays",
        ))
        text = core.format(n=noun, w=which, prep=p.prep(target), t=p.ref(target))
        if which.endswith(" one") and p.rng.random() < 0.3:
            text = text.replace(which, f"the {_colour(one)} {noun}")
    return Task("negation", objs, p.wrap(text), [s for o in items if o not in left_out for s in move(o, target)])


def not_that_one(p: Phrases, objs: list[str]) -> Task | None:
    """A destination ruled out: of two holders of a kind, the one not named."""
    movable = _movable(objs)
    kinds = [k for k in ("bowl", "plate") if sum(_type(o) == k for o in objs) == 2]
    if not movable or not kinds:
        return None
    kind = p.rng.choice(kinds)
    banned, target = p.rng.sample([o for o in objs if _type(o) == kind], 2)
    obj = p.rng.choice(movable)
    noun = _noun(p, banned)
    core = p.rng.choice((
        "put {o} {prep} a {n}, but not {b}", "put {o} {prep} the {n} that is not {c}",
        "{o} goes {prep} the other {n}, not {b}", "not {b}: put {o} {prep} the other {n}",
        "put {o} {prep} any {n} except {b}", "don't put {o} {prep} {b}; use the other {n}",
    ))
    text = core.format(o=p.ref(obj), prep=p.prep(target), n=noun, b=p.ref(banned), c=_colour(banned))
    return Task("negation", objs, p.wrap(text), move(obj, target))


def leave_alone(p: Phrases, objs: list[str]) -> Task | None:
    """One object is not to be touched; another is moved."""
    movable = _movable(objs)
    if len(movable) < 2:
        return None
    keep, obj = p.rng.sample(movable, 2)
    targets = [t for t in _targets_for(obj, objs) if t != keep]
    if not targets:
        return None
    target = p.rng.choice(targets)
    first = p.rng.choice(("leave {k} alone", "do not touch {k}", "don't move {k}", "keep your hands off {k}",
                          "{k} stays where it is", "ignore {k}", "leave {k} where it is", "{k} must not move",
                          "never mind {k}", "don't do anything with {k}")).format(k=p.ref(keep))
    second = f"put {p.ref(obj)} {p.prep(target)} {p.ref(target)}"
    text = p.rng.choice(("{a} and {b}", "{a}, but {b}", "{a}; {b}", "{b}, and {a}", "{b} but {a}",
                         "{a}. Just {b}", "{b} without touching {k}")).format(a=first, b=second, k=p.ref(keep))
    return Task("negation", objs, p.wrap(text), move(obj, target))


# -- under / below ----------------------------------------------------------------------------
def under(p: Phrases, objs: list[str]) -> Task | None:
    blocks = [o for o in objs if _type(o) == "block"]
    if len(blocks) < 2:
        return None
    low, high = p.rng.sample(blocks, 2)
    core = p.rng.choice((
        "put {l} under {h}", "put {l} underneath {h}", "{l} goes below {h}", "{l} should be beneath {h}",
        "stack them so that {l} is under {h}", "make {l} the base and put {h} on it",
        "{h} on top, {l} underneath", "place {l} below {h}",
    ))
    return Task("under", objs, p.wrap(core.format(l=p.ref(low), h=p.ref(high))), move(high, low))


# -- several pairs and long towers -----------------------------------------------------------
def long_tower(p: Phrases, objs: list[str]) -> Task | None:
    blocks = [o for o in objs if _type(o) == "block"]
    if len(blocks) < 4:
        return None
    order = p.rng.sample(blocks, p.rng.choice(range(4, min(5, len(blocks)) + 1)))
    cs = [_colour(b) for b in order]
    listed = ", ".join(cs[:-1]) + " and " + cs[-1]
    core = p.rng.choice((
        "build a tower from the bottom up: {seq}", "stack the {listed} blocks with {first} at the bottom and {last} on top",
        "make a stack of {n} blocks: {seq}, bottom to top", "tower time: {first} first, then {rest}",
        "stack the blocks top to bottom: {rev}",
    ))
    text = core.format(seq=", ".join(cs), listed=listed, first=cs[0], last=cs[-1], n=len(cs),
                       rest=", then ".join(cs[1:]), rev=", ".join(reversed(cs)))
    steps = [s for below, above in zip(order, order[1:], strict=False) for s in move(above, below)]
    return Task("pairs_towers", objs, p.wrap(text), steps)


def three_pairs(p: Phrases, objs: list[str]) -> Task | None:
    """Three objects to the holders of their colours (the table is extended to fit)."""
    kind, tkind = p.rng.choice(GRASPABLE), p.rng.choice(("bowl", "plate"))
    colours = p.rng.sample(sorted({_colour(o) for o in objs} | {"red", "blue", "green", "yellow", "white"}), 3)
    table = [f"{c}_{kind}" for c in colours] + [f"{c}_{tkind}" for c in colours]
    p.rng.shuffle(table)
    for name in table:
        p.layout[name] = p.layout.get(name) or p.rng.choice(("left", "middle", "right"))
    noun, tnoun = p.rng.choice(NOUNS[kind]), p.rng.choice(NOUNS[tkind])
    core = p.rng.choice((
        "match all three {n}s with the {t}s of their colours", "every {n} onto the {t} of the same colour",
        "sort the {n}s: each one to the {t} that shares its colour", "pair up each {n} with its colour's {t}",
    ))
    return Task("pairs_towers", table, p.wrap(core.format(n=noun, t=tnoun)),
                [s for o in table if _type(o) == kind for s in move(o, f"{_colour(o)}_{tkind}")])


# -- the tray, moved with both arms ------------------------------------------------------------
def tray_move(p: Phrases, objs: list[str]) -> Task | None:
    trays = [o for o in objs if _type(o) == "tray"]
    if not trays:
        return None
    tray, side = trays[0], p.rng.choice(("left", "right"))
    core = p.rng.choice((
        "move {t} to the {s} with both hands", "carry {t} over to the {s} side using two arms",
        "lift {t} with both arms and put it down on the {s}", "{t} goes to the {s} side; use both hands",
        "take {t} in both hands and set it on the {s}",
    ))
    steps = [say("lift_with_both_arms", obj=tray), say("put_down", obj=tray, target=side)]
    return Task("tray_box", objs, p.wrap(core.format(t=p.ref(tray), s=side)), steps)


# -- count words -----------------------------------------------------------------------------------
def some_of(p: Phrases, objs: list[str]) -> Task | None:
    """'two of the blocks', 'one cup': the expert moves the first ones the prompt lists."""
    items, holders = _several_of_a_kind(p, objs, 2), _holders(objs)
    if not items:
        return None
    n = p.rng.choice(range(1, len(items)))
    target = p.rng.choice(holders)
    count = ("one", "two", "three", "four")[n - 1]
    noun = _noun(p, items[0]) + ("s" if n > 1 else "")
    core = p.rng.choice(("put {c} of the {n}s {prep} {t}", "move any {c} {w} {prep} {t}",
                         "just {c} {w} {prep} {t}, please"))
    text = core.format(c=count, n=_noun(p, items[0]), w=noun, prep=p.prep(target), t=p.ref(target))
    return Task("count", objs, text, [s for o in items[:n] for s in move(o, target)])


# -- colours named by things ----------------------------------------------------------------------
def colour_of_thing(p: Phrases, objs: list[str]) -> Task | None:
    movable = [o for o in _movable(objs) if _colour(o) in COLOUR_OF]
    if not movable:
        return None
    obj = p.rng.choice(movable)
    targets = _targets_for(obj, objs)
    if not targets:
        return None
    target = p.rng.choice(targets)
    thing = p.rng.choice(COLOUR_OF[_colour(obj)])
    forms = ["the {n} that is the colour of {x}", "the {n} the colour of {x}"]
    bare = thing.split(" ", 1)[-1] if thing.startswith(("a ", "an ", "the ")) else thing
    if " " not in bare:  # "lemon-coloured", not "egg yolk-coloured"
        forms.append("the {b}-coloured {n}")
    ref = p.rng.choice(forms).format(n=_noun(p, obj), x=thing, b=bare)
    text = f"put {ref} {p.prep(target)} {p.ref(target)}"
    return Task("colour_knowledge", objs, p.wrap(text), move(obj, target))


# -- which hand (with the library whose skills name it: synthetic.WITH_HANDS) ----------------------
def one_hand(p: Phrases, objs: list[str]) -> Task | None:
    """A hand named for an object: that hand picks it where it reaches, else the other
    hand picks it and passes it over; sometimes the object then goes somewhere."""
    movable = _movable(objs)
    if not movable:
        return None
    obj, arm = p.rng.choice(movable), p.rng.choice(("left", "right"))
    hand = p.rng.choice(("{a} hand", "{a} hand", "{a} arm", "{a} gripper")).format(a=arm)
    reaches = p.layout[obj] in REACH[arm]
    targets = _targets_for(obj, objs)
    if reaches and targets and p.rng.random() < 0.5:
        target = p.rng.choice(targets)
        core = p.rng.choice(("put {o} {prep} {t} with your {h}", "use your {h} to put {o} {prep} {t}",
                             "with the {h}, move {o} {prep} {t}", "{o} goes {prep} {t}; do it with the {h}"))
        text = core.format(o=p.ref(obj), prep=p.prep(target), t=p.ref(target), h=hand)
        return Task("hands", objs, p.wrap(text), [say("pick_with", obj=obj, arm=arm),
                                                  say("place", obj=obj, target=target)])
    core = p.rng.choice(("pick up {o} with your {h}", "use the {h} to pick up {o}", "grab {o} with the {h}",
                         "take {o} in your {h}", "hold {o} in the {h}", "I want {o} in your {h}"))
    steps = ([say("pick_with", obj=obj, arm=arm)] if reaches
             else [say("pick_with", obj=obj, arm=other_arm(arm)), say("hand_over", obj=obj)])
    return Task("hands", objs, p.wrap(core.format(o=p.ref(obj), h=hand)), steps)


def each_hand(p: Phrases, objs: list[str]) -> Task | None:
    """Two objects at once, one in each hand (both arms at their own pace): the left hand
    takes the one it reaches; both in the middle, the first named, unless the request says."""
    movable = _movable(objs)
    if len(movable) < 2:
        return None
    a, b = p.rng.sample(movable, 2)
    if p.layout[a] in REACH["left"] and p.layout[b] in REACH["right"]:
        left, right = a, b
    elif p.layout[b] in REACH["left"] and p.layout[a] in REACH["right"]:
        left, right = b, a
    else:
        return None
    ra, rb = p.ref(a), p.ref(b)
    if p.layout[a] == p.layout[b] == "middle" and p.rng.random() < 0.5:
        left, right = p.rng.choice(((a, b), (b, a)))
        text = p.rng.choice(("take {l} in your left hand and {r} in your right, at the same time",
                             "at once: {r} in the right hand, {l} in the left")).format(
            l=ra if left == a else rb, r=rb if right == b else ra)
    else:
        text = p.rng.choice(("pick up {a} and {b} at the same time, one in each hand",
                             "grab {a} and {b} together, a hand for each", "lift {a} and {b} at once, one per hand",
                             "use both hands at once to pick up {a} and {b}")).format(a=ra, b=rb)
    steps = [say("pick_both", obj=left, target=right)]
    holders = [t for t in _holders(objs) if t not in (a, b)]
    if holders and p.rng.random() < 0.4:
        target = p.rng.choice(holders)
        text += f", then put them both {p.prep(target)} {p.ref(target)}"
        first, second = (right, left) if p.layout[target] == "right" else (left, right)  # the hand that reaches it
        steps += [say("place", obj=first, target=target), say("place", obj=second, target=target)]
    return Task("hands", objs, p.wrap(text), steps)


HAND_FAMILIES = {"one_hand": (0.8, one_hand), "each_hand": (0.6, each_hand)}

LANGUAGE_FAMILIES = {
    "except_one": (1.2, except_one), "leave_alone": (0.8, leave_alone), "not_that_one": (0.4, not_that_one),
    "under": (0.7, under),
    "long_tower": (0.6, long_tower), "three_pairs": (0.5, three_pairs), "tray_move": (1.5, tray_move),
    "some_of": (0.6, some_of), "colour_of_thing": (0.5, colour_of_thing),
}


# -- whole-sentence variation ---------------------------------------------------------------------
def misspell(rng: random.Random, text: str, rate: float = 0.15) -> str:
    """Drop, double or swap a letter in some words of four letters or more."""
    out = []
    for word in text.split(" "):
        if len(word) >= 4 and word.isalpha() and rng.random() < rate:
            i = rng.randrange(1, len(word) - 1)
            how = rng.choice(("drop", "double", "swap"))
            word = (word[:i] + word[i + 1:] if how == "drop" else word[:i] + word[i] + word[i:] if how == "double"
                    else word[:i] + word[i + 1] + word[i] + word[i + 2:])
        out.append(word)
    return " ".join(out)


def sentences(rng: random.Random, text: str) -> str:
    """A request as a person might write it: a greeting, a full stop, a thank-you."""
    opener = rng.choice(("", "", "Hello robot. ", "Hey. ", "Hi there! ", "OK, next job. ", "Robot, listen. "))
    closer = rng.choice(("", "", " Thanks.", " Thank you!", " Cheers.", " That's all."))
    body = text[0].upper() + text[1:]
    if " and then " in body and rng.random() < 0.6:
        body = body.replace(" and then ", ". Then ", 1)
    elif " and " in body and rng.random() < 0.3:
        body = body.replace(" and ", ". After that, ", 1)
    return f"{opener}{body}.{closer}"


def language_families(hands: bool = False, weights: dict[str, float] | None = None) -> dict[str, tuple[float, Family]]:
    """The six plain kinds and the families above (with `hands`, those that name the hand
    too): name -> (weight, family). `weights` replaces the weights of the families it names."""
    table = FAMILIES | LANGUAGE_FAMILIES | SCENE_FAMILIES | (HAND_FAMILIES if hands else {})
    return {name: (float((weights or {}).get(name, weight)), family) for name, (weight, family) in table.items()}


def table_task(rng: random.Random, objs: list[str], family: Family) -> Task | None:
    """A task of `family` on a table of `objs` laid out by `draw_layout` (None when the
    family does not fit the table)."""
    phrases = Phrases(rng, objs, *draw_layout(rng, objs))
    task = family(phrases, objs)
    if task is not None:
        task.instruction = " ".join(task.instruction.split())
        task.layout, task.near = phrases.layout, phrases.near
    return task


def sample_language_task(rng: random.Random, hands: bool = False, weights: dict[str, float] | None = None) -> Task:
    """One task of `language_families(hands, weights)`, on a table with a layout; some
    instructions are written as several sentences or with misspellings."""
    table = language_families(hands, weights)
    names, chances = list(table), [w for w, _ in table.values()]
    while True:
        objs = random_objects(rng)
        family = rng.choices(names, chances)[0]
        task = table_task(rng, objs, table[family][1])
        if task is None:
            continue
        if rng.random() < 0.15:
            task.instruction = sentences(rng, task.instruction)
        if rng.random() < 0.08:
            task.instruction = misspell(rng, task.instruction)
        return add_retry(rng, task)


def generate_language(count: int, seed: int, exclude: Iterable[str] = (), hands: bool = False,
                      weights: dict[str, float] | None = None) -> list[Task]:
    """`synthetic_families.generate` with the wider language (with `hands`: requests naming the hand,
    planned with the skills of synthetic.WITH_HANDS; `weights`: other weights for the
    families it names)."""
    return generate(count, seed, exclude, sampler=lambda rng: sample_language_task(rng, hands, weights))

