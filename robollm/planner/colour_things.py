"""Colours named by things: "the block the colour of fresh grass" is the green block.

A model of 135 million parameters knows few of these (asked "What colour is a lemon?"
with four colours to choose from, the embedded model is right on about two thirds of
forty everyday things), so the planner reads them from a table of things people name
colours by before the model sees the instruction. Each thing lists its colours, most
usual first; the first one that an object of the named kind has on the table is taken
("the block the colour of the sky" is the blue block, or the cyan one where there is no
blue block). A thing the table lacks is left to the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from robollm.planner.grounding import PLURAL_TYPE_WORDS, TYPE_WORDS
from robollm.planner.phrases import kind_of, replace_spans

# Things by the colour they are usually named for; singular, without articles. A thing of
# two words wins over its last word ("night sky" over "sky").
_BY_COLOUR = {
    "red": "strawberry, cherry, tomato, blood, ruby, fire truck, fire engine, stop sign, ladybird, ladybug, "
           "raspberry, cranberry, lobster, chilli, chili, poppy, radish, brick, postbox, letterbox, "
           "london bus, rose, heart",
    "green": "grass, leaf, leaves, lime, frog, pine tree, pine, cucumber, lettuce, broccoli, pea, peas, "
             "emerald, moss, spinach, kiwi, fern, olive, avocado, cactus, shamrock, clover, parsley, basil, "
             "mint, christmas tree, jade, lizard",
    "blue": "clear sky, blueberry, sapphire, denim, jeans, denim jeans, blue whale, bluebell, swimming pool, smurf",
    "cyan": "turquoise, teal, aqua",
    "yellow": "lemon, banana, sunflower, egg yolk, yolk, butter, school bus, taxi, taxi cab, canary, "
              "duckling, corn, sweetcorn, sun, daffodil, buttercup, mustard, cheese, honey, bee, pineapple",
    "orange": "carrot, pumpkin, tangerine, orange, mandarin, clementine, apricot, mango, goldfish, tiger, "
              "fox, marigold, traffic cone, basketball, flame",
    "purple": "grape, plum, aubergine, eggplant, lavender, violet, amethyst, lilac, beetroot, blackberry",
    "pink": "flamingo, bubble gum, bubblegum, piglet, pig, candy floss, cotton candy, ham, cherry blossom, blossom",
    "white": "milk, snow, paper, sheet of paper, chalk, sugar, salt, cotton, swan, polar bear, ivory, "
             "eggshell, egg shell, egg, tooth, teeth, cream, rice, flour, ghost, marshmallow, dove, sheep, bone",
    "black": "coal, ink, night, night sky, tyre, tire, car tyre, crow, raven, soot, tar, charcoal, panther, "
             "liquorice, licorice, asphalt, oil",
    "brown": "chocolate, coffee, bark, tree bark, soil, mud, dirt, wood, bear, cocoa, toast, cinnamon, acorn, "
             "chestnut, walnut, hazelnut, potato, cardboard, caramel",
    "grey": "elephant, ash, rain cloud, storm cloud, mouse, rat, concrete, cement, pebble, stone, rock, steel, "
            "iron, lead, slate, koala, dolphin, pigeon, smoke",
}
THINGS: dict[str, tuple[str, ...]] = {thing: (colour,) for colour, things in _BY_COLOUR.items()
                                      for thing in things.split(", ")}
THINGS.update({  # things whose colour varies: the usual one first
    "sky": ("blue", "cyan"), "sea": ("blue", "cyan"), "ocean": ("blue", "cyan"), "lake": ("blue", "cyan"),
    "cloud": ("white", "grey"), "silver": ("grey", "white"), "gold": ("yellow", "orange"),
    "salmon": ("pink", "orange"), "peach": ("orange", "pink"), "tree": ("green", "brown"),
})

_ARTICLE = r"(?:(?:a|an|the|some|fresh|clear|ripe|dark|new|summer|spring|old|freshly fallen|fallen|"\
           r"wet|dry|cut|cold|hot|plain|pure|bright|little|big|fluffy|white|nice)\s+)*"
_NOUN = "|".join(sorted({*TYPE_WORDS, *PLURAL_TYPE_WORDS, "one", "ones"}, key=len, reverse=True))
_THING = r"(?P<thing>[a-z]+(?:[ -][a-z]+){0,2})"
_COLOUR_WORD = r"colou?r"
# "the block (that is) (the same) colour of (a) clear sky", "the block coloured like snow"
_AFTER = re.compile(r"\b(?P<head>the\s+(?:(?:small|big|large|little|tiny)\s+)?(?P<noun>" + _NOUN + r"))"
                    r"(?:\s*,)?\s+(?:(?:that|which)\s+(?:is|are|'s)\s+|that's\s+|with\s+)?"
                    r"(?:(?:the\s+)?(?:same\s+)?" + _COLOUR_WORD + r"\s+(?:of|as)|" + _COLOUR_WORD + r"ed\s+like|"
                    r"as\s+\w+\s+as)\s+" + _ARTICLE + _THING)
# "the lemon-coloured block", "the snow coloured cube"
_BEFORE = re.compile(r"\bthe\s+" + _ARTICLE + r"(?P<thing>[a-z]+(?:\s+[a-z]+)?)[ -]" + _COLOUR_WORD
                     + r"ed\s+(?P<noun>" + _NOUN + r")\b")


def thing_colours(words: str) -> tuple[tuple[str, ...], int] | None:
    """The colours of the longest thing that `words` starts with, and how many words it took."""
    parts = words.replace("-", " ").split()
    for n in (3, 2, 1):
        if len(parts) >= n:
            key = " ".join(parts[:n])
            if key in THINGS or (key.endswith("s") and key[:-1] in THINGS):
                return THINGS.get(key) or THINGS[key[:-1]], n
    return None


def _pick(colours: tuple[str, ...], kind: str | None, scene: Mapping[str, tuple[str, str]]) -> str | None:
    """The first of `colours` an object of `kind` (any kind: None) has on the table."""
    present = {c for c, t in scene.values() if kind is None or t == kind}
    return next((c for c in colours if c in present), None)


def name_colours(text: str, scene: Mapping[str, tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """`text` with colours named by things put as colour words ("the block the colour of
    snow" -> "the white block"), and the (was, now) pairs. `scene`: name -> (colour, type)."""
    lower = text.lower()
    spans = []
    for match in _AFTER.finditer(lower):
        found = thing_colours(match.group("thing"))
        if found is None:
            continue
        colours, n = found
        colour = _pick(colours, kind_of(match.group("noun")), scene)
        if colour is None:
            continue
        thing_words = list(re.finditer(r"[a-z]+", lower[match.start("thing"):]))
        end = match.start("thing") + thing_words[n - 1].end()
        head = match.group("head")
        spans.append((match.start(), end, head[:4] + colour + " " + head[4:]))
    for match in _BEFORE.finditer(lower):
        found = thing_colours(match.group("thing"))
        if found is None or found[1] != len(match.group("thing").split()):
            continue
        colour = _pick(found[0], kind_of(match.group("noun")), scene)
        if colour is not None:
            spans.append((match.start(), match.end(), f"the {colour} {match.group('noun')}"))
    kept, last = [], 0
    for start, end, new in sorted(spans):  # a phrase the other pattern also matched counts once
        if start >= last:
            kept.append((start, end, new))
            last = end
    return replace_spans(text, kept)
