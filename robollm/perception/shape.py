"""What an object's measured shape rules out, beside what its crop looks like.

CLIP reads a crop's look; the depth image measures its shape. Where the two disagree on
a colour and type pair training never rendered (a black bowl read as a plate, though it
stands six centimetres tall), the shape is the surer witness. The rules are coarse facts
about the kinds of thing, with wide margins, not measurements of the simulator's models:
a plate is flat; a block is about as tall as it is wide; a bowl is wider than it is tall;
a cup is not much wider than it is tall. A type without a rule (a word a launch file
adds) is never ruled out.

A rule is applied only where the whole height is seen: a region that reaches down to the
table. The top of a thing half hidden behind another, or standing on a stack, can look
flat or squat without being so.
"""

from __future__ import annotations

from collections.abc import Callable

PLATE_MAX_HEIGHT = 0.03  # m: a plate is a flat dish
MIN_WIDTH = 0.005  # m: a footprint narrower than this is a line of pixels along an edge

# height, long side of the footprint (m) -> whether a thing of that shape can be of the type
SHAPE_RULES: dict[str, Callable[[float, float], bool]] = {
    "plate": lambda height, long: height <= PLATE_MAX_HEIGHT,
    "block": lambda height, long: height >= 0.5 * long,
    "bowl": lambda height, long: height <= 1.0 * long,
    "cup": lambda height, long: height >= 0.6 * long,
}


def ruled_out(types: list[str], height: float, long_side: float, on_table: bool) -> list[bool]:
    """Per type, whether the measured shape (`height` and `long_side` in m, `on_table`:
    seen down to the table) rules it out. Never all of them: where every rule fails, the
    measurement is not trusted and none is ruled out."""
    if not on_table or long_side <= 0.0:
        return [False] * len(types)
    out = [t in SHAPE_RULES and not SHAPE_RULES[t](height, long_side) for t in types]
    return [False] * len(types) if all(out) else out


def has_width(extent: tuple[float, float]) -> bool:
    """Whether a footprint (short, long side in m) is wide enough to be a thing: a wall of
    a tray seen edge-on can come apart into a line of pixels with no width at all, and
    every type of thing is centimetres wide."""
    return extent[0] >= MIN_WIDTH
