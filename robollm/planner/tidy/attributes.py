"""What a rule may say about an object: its type, colour, colour families, size and
material, and the words for each.

Colour families are fixed lists, not thresholds on RGB: people call pink warm and cyan
cool whatever the exact shade, and a list is what a person editing a preferences file
can check.
"""

from __future__ import annotations

from dataclasses import dataclass

from robollm.world.scene import COLOURS, MATERIALS, SIZE_RANGE

LOOSE_TYPES = ("block", "cup")  # what tidying puts away: the one-hand graspable types
RECEPTACLE_TYPES = ("bowl", "plate", "tray", "box")

WARM = ("red", "orange", "yellow", "pink")
COOL = ("blue", "green", "cyan", "purple")
NEUTRAL = ("white", "grey", "black", "brown")
LIGHT = ("white", "yellow", "pink", "cyan")
DARK = ("black", "brown", "purple", "blue")

# attribute -> the words that name its values in a sentence about "things"
ATTRIBUTES = ("type", "colour", "warmth", "lightness", "size", "material")
MATERIAL_ADJECTIVES = {"metal": "metal", "wood": "wooden", "plastic": "plastic", "glass": "glass",
                       "ceramic": "ceramic", "foam": "foam"}
SIZE_WORDS = {"small": "small", "little": "small", "tiny": "small", "large": "large", "big": "large"}


@dataclass(frozen=True)
class Thing:
    """An object as tidying knows it. `material` and `size` may be unknown (None): a
    camera does not see material, and a spoken example may not say how big it was."""

    type: str
    colour: str
    material: str | None = None
    size: str | None = None  # small | large, relative to its type's size range
    name: str | None = None  # the scene's name, for objects on the table

    def features(self) -> dict[str, str | None]:
        """Every attribute a rule can test, with None where it is unknown or undefined."""
        return {"type": self.type, "colour": self.colour, "warmth": warmth(self.colour),
                "lightness": lightness(self.colour), "size": self.size, "material": self.material}

    def phrase(self) -> str:
        """"the small red metal block": every known attribute, in the order people say them."""
        words = [self.size, self.colour, MATERIAL_ADJECTIVES.get(self.material or ""), self.type]
        return "the " + " ".join(w for w in words if w)

    def key(self) -> tuple:
        return (self.type, self.colour, self.material, self.size)


def warmth(colour: str) -> str:
    return "warm" if colour in WARM else "cool" if colour in COOL else "neutral"


def lightness(colour: str) -> str | None:
    return "light" if colour in LIGHT else "dark" if colour in DARK else None


def size_word(kind: str, metres: float) -> str:
    """small or large: below or above the middle of the type's size range."""
    lo, hi = SIZE_RANGE[kind]
    return "small" if metres < (lo + hi) / 2 else "large"


def value_words(attribute: str, value: str, plural: bool = True) -> str:
    """How a sentence names the things with one attribute value: "cups", "warm-coloured things"."""
    if attribute == "type":
        return value + ("s" if plural else "")
    noun = "things" if plural else "thing"
    if attribute in ("warmth", "lightness"):
        return f"{value}-coloured {noun}"
    if attribute == "material":
        return f"{MATERIAL_ADJECTIVES[value]} {noun}"
    return f"{value} {noun}"


def known_values(attribute: str) -> tuple[str, ...]:
    return {"type": LOOSE_TYPES, "colour": tuple(COLOURS), "warmth": ("warm", "cool", "neutral"),
            "lightness": ("light", "dark"), "size": ("small", "large"),
            "material": MATERIALS}[attribute]
