"""What camera perception names, and the prompts it matches crops against.

Colours and types come from the scene vocabulary; a new colour or type is one more
word here (or in a launch file's `colours` / `types`), which becomes one more prompt,
not a new classifier head. `HELDOUT_COMBOS` are colour and type pairs that training
never renders, so the benchmark can measure how recognition composes words it only
saw apart.
"""

from __future__ import annotations

from robollm.world.scene import COLOURS, OBJECT_TYPES

TYPES: tuple[str, ...] = OBJECT_TYPES
COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS)
OTHER = "other"  # the training label of things that are none of the types
HELDOUT_COMBOS: frozenset[tuple[str, str]] = frozenset({
    ("pink", "cup"), ("brown", "cup"), ("black", "cup"), ("brown", "plate"), ("red", "tray"),
    ("green", "tray"), ("yellow", "box"), ("blue", "box"), ("brown", "block"), ("black", "bowl"),
})


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def object_prompt(colour: str, kind: str) -> str:
    return f"a photo of {article(colour)} {colour} {kind}"


def colour_prompt(colour: str) -> str:
    return f"a photo of something {colour}"


def type_prompt(kind: str) -> str:
    if kind == OTHER:
        return "a photo of some other thing"
    return f"a photo of {article(kind)} {kind}"
