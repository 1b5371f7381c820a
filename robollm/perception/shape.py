"""What an object's measured shape rules out, beside what its crop looks like.

CLIP reads a crop's look; the depth image measures its shape. Where the two disagree on
a colour and type pair training never rendered (a black bowl read as a plate, though it
stands six centimetres tall), the shape is the surer witness. The rules are coarse facts
about the kinds of thing, with wide margins, not measurements of the simulator's models:
a plate is flat; a block is about as tall as it is wide, and solid: the middle of its
footprint is its flat top; a bowl is wider than it is tall; a cup is not much wider than
it is tall, and open: the middle of its footprint lies well below its rim (where a dark
cup and a dark block look alike, the depth image still tells them apart). A type
without a rule (a word a launch file adds) is never ruled out.

Hollowness (`hollowness`) is how far below the top the middle of the footprint lies, as
a fraction of the height. Measured on 200 rendered scenes laid out as for training (a
seed of their own; 354 blocks, 162 cups seen down to the table): blocks 0.0 at the
median, 8 above 0.2 and 1 above 0.5 (0.63); cups 0.82 to 0.94 (0.53 the lowest in 60
other scenes). The thresholds below sit between the two.

A rule is applied only where the whole height is seen: a region that reaches down to the
table. The top of a thing half hidden behind another, or standing on a stack, can look
flat or squat without being so.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

PLATE_MAX_HEIGHT = 0.03  # m: a plate is a flat dish
MIN_WIDTH = 0.005  # m: a footprint narrower than this is a line of pixels along an edge
SOLID_MAX_HOLLOW = 0.5  # a block's middle is never this far below its top
OPEN_MIN_HOLLOW = 0.2  # a cup's middle is always at least this far below its rim
INNER = 0.3  # the middle of a footprint: within this fraction of each side from its centre
MIN_INNER_POINTS = 5

# height, long side of the footprint (m), hollowness (None: not measured) -> whether a
# thing of that shape can be of the type
SHAPE_RULES: dict[str, Callable[[float, float, float | None], bool]] = {
    "plate": lambda height, long, hollow: height <= PLATE_MAX_HEIGHT,
    "block": lambda height, long, hollow: height >= 0.5 * long and (hollow is None or hollow <= SOLID_MAX_HOLLOW),
    "bowl": lambda height, long, hollow: height <= 1.0 * long,
    "cup": lambda height, long, hollow: height >= 0.6 * long and (hollow is None or hollow >= OPEN_MIN_HOLLOW),
}


def hollowness(points_xy: np.ndarray, heights: np.ndarray, top: float, centre: tuple[float, float], yaw: float,
               extent: tuple[float, float], height: float) -> float | None:
    """How far below `top` (the region's highest points) the middle of the footprint
    lies, over `height`: 0 for a solid top, near 1 for an open vessel; None when too few
    points fall in the middle to say. `yaw` is the direction of `extent[0]`."""
    c, s = math.cos(yaw), math.sin(yaw)
    rel = points_xy - np.asarray(centre)
    a, b = rel @ np.array([c, s]), rel @ np.array([-s, c])
    inner = (np.abs(a) < INNER * extent[0]) & (np.abs(b) < INNER * extent[1])
    if int(inner.sum()) < MIN_INNER_POINTS or height <= 0.0:
        return None
    return max(0.0, top - float(np.median(heights[inner]))) / height


def ruled_out(types: list[str], height: float, long_side: float, on_table: bool,
              hollow: float | None = None) -> list[bool]:
    """Per type, whether the measured shape (`height` and `long_side` in m, `on_table`:
    seen down to the table, `hollow`: `hollowness`) rules it out. Never all of them:
    where every rule fails, the measurement is not trusted and none is ruled out."""
    if not on_table or long_side <= 0.0:
        return [False] * len(types)
    out = [t in SHAPE_RULES and not SHAPE_RULES[t](height, long_side, hollow) for t in types]
    return [False] * len(types) if all(out) else out


def has_width(extent: tuple[float, float]) -> bool:
    """Whether a footprint (short, long side in m) is wide enough to be a thing: a wall of
    a tray seen edge-on can come apart into a line of pixels with no width at all, and
    every type of thing is centimetres wide."""
    return extent[0] >= MIN_WIDTH
