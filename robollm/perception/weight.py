"""What a weighing says: grams, from the wrist force sensor with the hand held still.

The weigh skill reads the wrist twice at the same pose: with the hand empty and with
the object lifted, each averaged over half a second of stillness. The difference of
the vertical forces is the object's weight alone: the hand's and fingers' own weight
(and any bias of the sensor at that pose) is in both readings and cancels. The
spread of the readings gives the uncertainty.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from robollm.perception.evidence import Evidence, no_reading
from robollm.robot.sensors import ForceTorque

GRAVITY = 9.81
MIN_GRAMS = 0.5  # below this the hand holds nothing the sensor can tell from noise


def about(grams: float) -> str:
    """A weight as a person would say it: 720 g, 48 g, 3.2 g, 1.4 kg."""
    if grams >= 1000:
        return f"{grams / 1000:.1f} kg"
    if grams >= 100:
        return f"{round(grams, -1):.0f} g"
    if grams >= 10:
        return f"{grams:.0f} g"
    return f"{grams:.1f} g"


def comparison(weighed: list[tuple[str, float]]) -> str:
    """After two weighings or more in one run, which object weighed most and which least,
    in the words of the object names: "Of the 3 weighed, the heaviest is the grey block 2
    and the lightest is the grey block." The planner adds it to the line of each weighing
    after the first, so choosing the heaviest needs no arithmetic of the language model."""
    last = {name: grams for name, grams in weighed}  # an object weighed twice: its last weight
    if len(last) < 2:
        return ""
    heaviest, lightest = (f(last, key=last.__getitem__).replace("_", " ") for f in (max, min))
    return f"Of the {len(last)} weighed, the heaviest is the {heaviest} and the lightest is the {lightest}."


def with_comparison(line: str, weighed: list[tuple[str, float]], name: str, grams: float) -> str:
    """A weighing's line, with `name`'s weight added to `weighed` and the comparison after it."""
    weighed.append((name, grams))
    return f"{line} {comparison(weighed)}".rstrip()


def _vertical(readings: list[ForceTorque]) -> tuple[float, float, int]:
    z = np.array([r.force[2] for r in readings], dtype=float)
    return float(np.mean(z)), float(np.std(z)), len(z)


class WeightInterpreter:
    def interpret(self, data: dict[str, Any] | None) -> Evidence:
        data = data or {}
        held, empty = data.get("wrench") or [], data.get("empty_wrench") or []
        if not held or not empty:
            return no_reading("weight", "the object was not held still")
        (fe, se, ne), (fh, sh, nh) = _vertical(empty), _vertical(held)
        grams = (fe - fh) / GRAVITY * 1000.0
        error = math.sqrt(se ** 2 / ne + sh ** 2 / nh) / GRAVITY * 1000.0
        if grams < MIN_GRAMS:
            return no_reading("weight", "the hand felt no weight")
        confidence = 1.0 / (1.0 + 2.0 * error / max(grams, 1e-9))
        return Evidence("weight", True, confidence, (about(grams),), {},
                        {"grams": grams, "grams_error": error},
                        adjective_line=f"It weighs about {about(grams)}.",
                        belief_line=f"It weighs {about(grams)} (within {max(error, 0.1):.1f} g).")
