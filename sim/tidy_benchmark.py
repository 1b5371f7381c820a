"""Writes the `tidy` benchmark (sim/tidy/tidy.yaml): scenarios in the style of TidyBot's.

Each scenario is one person's hidden preference (a rule family below), a few example
placements that the rule explains, and a table of loose objects, some like the examples
(seen) and some of colours, types or materials no example had (unseen), each with the
receptacle the person's rule sends it to. Unseen objects always differ from every
example in the attribute the rule tests, so copying the nearest example does not decide
them: the rule has to be inferred. Scenes stay physically sensible: at most one box or
tray, fixed at the near edge of the shared middle so hand-overs find room beyond it
(the taller box is left out: the hand meets its walls when it reaches in), and at most two
objects per bowl and three per plate or tray.

    python -m robollm.sim.tidy_benchmark --out sim/tidy/tidy.yaml
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

import yaml

from robollm.planner.tidy.attributes import COOL, DARK, LIGHT, NEUTRAL, WARM, Thing
from robollm.planner.tidy.benchmark import scenario_from_dict
from robollm.planner.tidy.rules import RuleSet, enumerate_rule_sets

# Foam is left out of the tables: a soft block slips from the grasp too often to measure
# tidying rather than grasping (2 of the first 4 failures on the validation tables).
MATERIALS = ("metal", "wood", "plastic", "glass", "ceramic")

FAMILIES_PER_SPLIT = {"validation": 2, "test": 4}  # scenarios of each family in each split
BLOCK_SIZE = {"small": 0.04, "large": 0.055}
CUP_SIZE = {"small": 0.058, "large": 0.076}
MIDDLE_POSE = {"tray": [0.37, 0.0]}
CAPACITY = {"bowl": 2, "plate": 3, "box": 3, "tray": 3}
COLOURFUL = WARM + COOL
ALL_COLOURS = WARM + COOL + NEUTRAL


@dataclass
class Item:
    thing: Thing
    goes: int  # index of the receptacle


def metres(thing: Thing) -> float:
    return (BLOCK_SIZE if thing.type == "block" else CUP_SIZE)[thing.size or "small"]


def receptacles(rng: random.Random, n: int) -> list[dict]:
    middle = "tray"
    sides = ["bowl", "plate"]
    rng.shuffle(sides)
    kinds = [middle, *sides][:n] if n == 3 else rng.choice([[middle, sides[0]], sides])
    colours = {"tray": ["grey", "black"], "bowl": ["green", "white", "blue"],
               "plate": ["white", "yellow", "pink"]}
    sizes = {"tray": 0.26, "bowl": 0.20, "plate": 0.22}
    out = [{"type": k, "colour": rng.choice(colours[k]), "size": sizes[k]} for k in kinds]
    for r in out:  # at the near edge of the shared middle: the far half stays free for hand-overs
        if r["type"] in MIDDLE_POSE:
            r["pose"] = MIDDLE_POSE[r["type"]]
    return out


def thing(rng: random.Random, colours, types=("block", "cup"), materials=MATERIALS, sizes=("small",)) -> Thing:
    return Thing(rng.choice(list(types)), rng.choice(list(colours)), rng.choice(list(materials)),
                 rng.choice(list(sizes)))


def _two_families(rng, first, second, attribute: str, names: tuple[str, str]):
    """Colours of one family to one place, of the other to another (either type, any material)."""
    a, b = rng.sample(first, 4), rng.sample(second, 4)
    ex = [Item(thing(rng, [c]), 0) for c in a[:2]] + [Item(thing(rng, [c]), 1) for c in b[:2]]
    table = [Item(thing(rng, [a[2]]), 0), Item(thing(rng, [b[2]]), 1),
             Item(thing(rng, [a[3]]), 0), Item(thing(rng, [b[3]]), 1)]
    return 2, ex, [{"when": {attribute: names[0]}, "to": 0}, {"when": {attribute: names[1]}, "to": 1}], table


def family_warmth(rng):
    """Warm colours to one place, cool to another."""
    return _two_families(rng, WARM, COOL, "warmth", ("warm", "cool"))


def family_lightness(rng):
    return _two_families(rng, LIGHT, DARK, "lightness", ("light", "dark"))


def family_type(rng):
    """Blocks one place, cups another; the same colours went both ways in the examples."""
    shared = rng.sample(ALL_COLOURS, 6)
    ex = [Item(thing(rng, [shared[0]], ["block"]), 0), Item(thing(rng, [shared[1]], ["block"]), 0),
          Item(thing(rng, [shared[0]], ["cup"]), 1), Item(thing(rng, [shared[1]], ["cup"]), 1)]
    table = [Item(thing(rng, [shared[2]], ["block"]), 0), Item(thing(rng, [shared[3]], ["cup"]), 1),
             Item(thing(rng, [shared[4]], ["block"]), 0), Item(thing(rng, [shared[5]], ["cup"]), 1)]
    return 2, ex, [{"when": {"type": "block"}, "to": 0}, {"else": 1}], table


def family_material(rng):
    """One material to one place, everything else to another; the examples name materials."""
    special = rng.choice(["metal", "glass", "wood"])
    others = [m for m in MATERIALS if m != special]
    colours = rng.sample(ALL_COLOURS, 8)
    ex = [Item(thing(rng, [colours[0]], materials=[special]), 0),
          Item(thing(rng, [colours[1]], materials=[special]), 0),
          Item(thing(rng, [colours[0]], materials=others), 1),
          Item(thing(rng, [colours[2]], materials=others), 1)]
    table = [Item(thing(rng, [colours[3]], materials=[special]), 0),
             Item(thing(rng, [colours[4]], materials=[special]), 0),
             Item(thing(rng, [colours[5]], materials=others), 1),
             Item(thing(rng, [colours[1]], materials=others), 1)]
    return 2, ex, [{"when": {"material": special}, "to": 0}, {"else": 1}], table


def family_size(rng):
    colours = rng.sample(ALL_COLOURS, 6)
    ex = [Item(thing(rng, [colours[0]], sizes=["small"]), 0), Item(thing(rng, [colours[1]], sizes=["small"]), 0),
          Item(thing(rng, [colours[0]], sizes=["large"]), 1), Item(thing(rng, [colours[2]], sizes=["large"]), 1)]
    table = [Item(thing(rng, [colours[3]], sizes=["small"]), 0), Item(thing(rng, [colours[4]], sizes=["large"]), 1),
             Item(thing(rng, [colours[2]], sizes=["small"]), 0), Item(thing(rng, [colours[1]], sizes=["large"]), 1)]
    return 2, ex, [{"when": {"size": "small"}, "to": 0}, {"else": 1}], table


def family_one_colour(rng):
    """One colour has its own place, everything else goes to the other."""
    special = rng.choice(ALL_COLOURS)
    rest = [c for c in ALL_COLOURS if c != special]
    picks = rng.sample(rest, 5)
    ex = [Item(thing(rng, [special], ["block"]), 0), Item(thing(rng, [special], ["cup"]), 0),
          Item(thing(rng, [picks[0]]), 1), Item(thing(rng, [picks[1]]), 1), Item(thing(rng, [picks[2]]), 1)]
    table = [Item(thing(rng, [special]), 0), Item(thing(rng, [picks[3]]), 1), Item(thing(rng, [picks[4]]), 1),
             Item(thing(rng, [special]), 0)]
    return 2, ex, [{"when": {"colour": special}, "to": 0}, {"else": 1}], table


def family_exception(rng):
    """Blocks to one place except one colour of block, which has its own; cups to a third."""
    special = rng.choice(COLOURFUL)
    rest = [c for c in ALL_COLOURS if c != special]
    p = rng.sample(rest, 6)
    ex = [Item(thing(rng, [special], ["block"]), 1), Item(thing(rng, [p[0]], ["block"]), 0),
          Item(thing(rng, [p[1]], ["block"]), 0), Item(thing(rng, [special], ["cup"]), 2),
          Item(thing(rng, [p[2]], ["cup"]), 2)]
    table = [Item(thing(rng, [special], ["block"]), 1), Item(thing(rng, [p[3]], ["block"]), 0),
             Item(thing(rng, [p[4]], ["block"]), 0), Item(thing(rng, [p[5]], ["cup"]), 2),
             Item(thing(rng, [special], ["cup"]), 2)]
    rules = [{"when": {"type": "block", "colour": special}, "to": 1}, {"when": {"type": "block"}, "to": 0},
             {"else": 2}]
    return 3, ex, rules, table


def family_three_way(rng):
    """Warm things, cool things and neutral (white, grey, black, brown) things each have a place."""
    warm, cool, neutral = rng.sample(WARM, 3), rng.sample(COOL, 3), rng.sample(NEUTRAL, 3)
    ex = [Item(thing(rng, [c]), 0) for c in warm[:2]] + [Item(thing(rng, [c]), 1) for c in cool[:2]] + \
         [Item(thing(rng, [c]), 2) for c in neutral[:2]]
    table = [Item(thing(rng, [warm[2]]), 0), Item(thing(rng, [cool[2]]), 1), Item(thing(rng, [neutral[2]]), 2),
             Item(thing(rng, [warm[1]]), 0), Item(thing(rng, [cool[0]]), 1)]
    rules = [{"when": {"warmth": "warm"}, "to": 0}, {"when": {"warmth": "cool"}, "to": 1}, {"else": 2}]
    return 3, ex, rules, table


FAMILIES = {"warmth": family_warmth, "lightness": family_lightness, "type": family_type,
            "material": family_material, "size": family_size, "one-colour": family_one_colour,
            "exception": family_exception, "three-way": family_three_way}
STATES_MATERIAL = {"material"}  # families whose examples say what things are made of
STATES_SIZE = {"size"}


def words(t: Thing, material: bool, size: bool) -> str:
    parts = [t.size if size else None, t.colour, {"wood": "wooden"}.get(t.material, t.material) if material else None,
             t.type]
    return "the " + " ".join(p for p in parts if p)


MAX_DRAWS = 50


def simpler_reading(data: dict) -> RuleSet | None:
    """A rule strictly simpler than the person's that fits every example but sends an
    unseen object elsewhere, or None. Examples with such a reading demonstrate that simpler
    rule (two yellow and red blocks on the plate and two cyan and purple cups in the tray
    show "blocks go on the plate" better than "warm colours go on the plate"), so any
    reader would take it, and the person's intended place for that object is not
    recoverable from what they showed. Rules as simple as the person's are kept: breaking
    those ties is the summariser's job."""
    parsed = scenario_from_dict(data, data["id"])
    cost = parsed.truth.cost()
    for rule in enumerate_rule_sets(parsed.examples, max_candidates=2000):
        if rule.cost() >= cost:
            break
        if any(rule.place(o.thing) != o.goes for o in parsed.objects if not o.seen):
            return rule
    return None


def scenario(family: str, index: int, split: str) -> dict:
    """One scenario, drawn again (from the same stream) while its examples show a simpler
    rule than the person's."""
    rng = random.Random(f"tidy-{family}-{index}")
    for _ in range(MAX_DRAWS):
        data = draw(rng, family, index, split)
        if simpler_reading(data) is None:
            return data
    raise ValueError(f"{family}-{index + 1}: no draw in {MAX_DRAWS} without a simpler reading")


def draw(rng: random.Random, family: str, index: int, split: str) -> dict:
    n, examples, rules, table = FAMILIES[family](rng)
    recs = receptacles(rng, n)
    rng.shuffle(recs) if n == 2 else None
    names = [r["type"] for r in recs]
    load = [0] * n
    for item in table:
        load[item.goes] += 1
    # One object like an example (seen), where its receptacle has room.
    roomy = [e for e in examples if load[e.goes] < CAPACITY[recs[e.goes]["type"]]]
    seen = rng.choice(roomy)
    table = [*table, Item(seen.thing, seen.goes)]
    load[seen.goes] += 1
    for i, r in enumerate(recs):  # a bowl holds two; give an over-full one the roomiest kind
        if load[i] > CAPACITY[r["type"]]:
            raise ValueError(f"{family}-{index}: {load[i]} objects for a {r['type']}")
    state_m, state_s = family in STATES_MATERIAL, family in STATES_SIZE
    ex_lines = [f"{words(e.thing, state_m, state_s)} went {'on' if names[e.goes] == 'plate' else 'in'} "
                f"the {names[e.goes]}" for e in examples]
    summary = [{("else" if k == "else" else k): (names[v] if k in ("to", "else") else v) for k, v in r.items()}
               for r in rules]
    objects = []
    taken: set[str] = set()
    for item in table:
        t = item.thing
        name = f"{t.colour}_{t.type}"
        while name in taken:
            name = f"{t.colour}_{t.type}_{len(taken)}"
        taken.add(name)
        objects.append({"name": name, "type": t.type, "colour": t.colour, "material": t.material,
                        "size": metres(t), "goes": names[item.goes]})
    return {"id": f"{family}-{index + 1}", "split": split, "receptacles": recs, "examples": ex_lines,
            "summary": summary, "objects": objects}


def build() -> dict:
    scenarios = []
    for family in FAMILIES:
        index = 0
        for split, count in FAMILIES_PER_SPLIT.items():
            for _ in range(count):
                scenarios.append(scenario(family, index, split))
                index += 1
    return {"scenarios": scenarios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "tidy" / "tidy.yaml"))
    args = parser.parse_args()
    head = ("# The tidy benchmark: written by `python -m robollm.sim.tidy_benchmark` (see that module for\n"
            "# how scenarios are built). Each scenario: receptacles, example placements in words, the\n"
            "# person's own rule (summary), and the loose objects with where the person wants each.\n")
    text = yaml.safe_dump(build(), sort_keys=False, width=110, default_flow_style=None)
    Path(args.out).write_text(head + text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
