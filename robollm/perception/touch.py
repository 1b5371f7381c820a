"""What a touch says: stiffness, friction, how cold the surface feels, and words for them.

The touch skill presses with closed fingertips until they feel a few newtons, then
strokes sideways. From that stream this module measures
- stiffness (N/m): the slope of the pad force against how far the fingertips went
  down after the first contact (a least-squares fit over the press);
- friction: the ratio of shear to normal force on the pads while stroking (its 90th
  percentile: the pads slip at the friction limit, and stick below it);
- cooling (deg C): how far the pad's thermometer fell from its temperature in air. A
  surface with a high effusivity sqrt(k rho c) pulls the pad towards room temperature.
Each material's typical readings give material beliefs (naive Bayes over the three
readings), and the words follow the beliefs: P(hard) is the belief in the materials
whose properties are hard. One reading alone misleads: Bullet's rigid contacts yield in
proportion to the object's mass, so a light wooden block gives under the fingertips
about as much as foam, and a light object slides with the fingers, so its shear ratio is
sometimes the table's friction; together with the pad's cooling the three tell the
material apart. Where a calibration lists no words per material, each word comes from
its own reading's threshold. The readings per material, the words each material's
properties call for and the thresholds were measured over simulated touches by
`robollm train touch`; the shipped calibration and its record are in
`robollm/perception/models/touch_calibration.json`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from robollm.perception.evidence import Evidence, belief_sentence, no_reading
from robollm.robot.sensors import ContactReading

DEFAULT_CALIBRATION = Path(__file__).resolve().parent / "models" / "touch_calibration.json"
MIN_NORMAL = 0.5  # N on the pads for a friction sample to count
FEATURES = ("log_stiffness", "friction", "cooling")
WORDS = {"hardness": ("hard", "soft"), "texture": ("rough", "smooth"), "temperature": ("cold", "warm")}
# The feature each word reads, and which side of the threshold the first word is on.
WORD_FEATURE = {"hardness": ("log_stiffness", "above"), "texture": ("friction", "above"),
                "temperature": ("cooling", "above")}


def _normal(r: ContactReading) -> float:
    return sum(f.normal_force for f in r.fingers.values())


def _shear(r: ContactReading) -> float:
    return sum(f.shear_force for f in r.fingers.values())


def pad_temperature(r: ContactReading, touching_only: bool) -> float | None:
    values = [f.temperature for f in r.fingers.values()
              if f.temperature is not None and (f.in_contact or not touching_only)]
    return float(np.mean(values)) if values else None


def measure(data: dict[str, Any]) -> dict[str, float] | None:
    """The touch's measured quantities from the skill's data (None: no contact at all)."""
    press: list[tuple[float, float]] = data.get("press") or []
    contact: list[ContactReading] = data.get("contact") or []
    if len(press) < 2 or not contact:
        return None
    z = np.array([p[0] for p in press])
    f = np.array([p[1] for p in press])
    depth = z[0] - z
    slope = float(np.polyfit(depth, f, 1)[0]) if np.ptp(depth) > 1e-6 else math.inf
    stiffness = max(slope, 1.0)
    ratios = [_shear(r) / _normal(r) for r in contact if _normal(r) >= MIN_NORMAL]
    friction = float(np.percentile(ratios, 90)) if ratios else float("nan")
    air = next((t for r in contact if (t := pad_temperature(r, False)) is not None), None)
    touching = [t for r in contact if (t := pad_temperature(r, True)) is not None]
    cooling = float(air - min(touching)) if air is not None and touching else float("nan")
    return {"stiffness_n_per_m": stiffness, "log_stiffness": math.log10(stiffness),
            "friction": friction, "cooling": cooling,
            "pad_temperature": float(min(touching)) if touching else float("nan")}


def load_calibration(path: str | Path | None = None) -> dict:
    p = Path(path) if path else DEFAULT_CALIBRATION
    return json.loads(p.read_text())


def word_for(word: str, values: dict[str, float], calibration: dict) -> tuple[str, float] | None:
    """(word, confidence) for one of hardness / texture / temperature, None if not measured."""
    feature, side = WORD_FEATURE[word]
    value = values.get(feature, float("nan"))
    if not math.isfinite(value):
        return None
    threshold, spread = calibration["thresholds"][word], max(calibration["spread"][word], 1e-6)
    first = value >= threshold if side == "above" else value < threshold
    margin = abs(value - threshold) / spread
    return WORDS[word][0 if first else 1], 1.0 / (1.0 + math.exp(-3.0 * margin))


def word_from_beliefs(word: str, beliefs: dict[str, float], calibration: dict) -> tuple[str, float] | None:
    """(word, its probability) for one of hardness / texture / temperature: the belief in
    the materials whose properties call for it; None if the calibration has no words."""
    per_material = calibration.get("words")
    if not per_material or not beliefs:
        return None
    first = WORDS[word][0]
    p = sum(b for m, b in beliefs.items() if per_material.get(m, {}).get(word) == first)
    return (first, p) if p >= 0.5 else (WORDS[word][1], 1.0 - p)


def material_beliefs(values: dict[str, float], calibration: dict) -> dict[str, float]:
    """Gaussian naive Bayes over the measured features, with each material's measured spread."""
    logs = {}
    for material, stats in calibration["materials"].items():
        total = 0.0
        for feature in FEATURES:
            v = values.get(feature, float("nan"))
            if not math.isfinite(v):
                continue
            mean, std = stats[feature]
            total += -0.5 * ((v - mean) / std) ** 2 - math.log(std)
        logs[material] = total
    top = max(logs.values())
    weights = {m: math.exp(v - top) for m, v in logs.items()}
    norm = sum(weights.values())
    return {m: w / norm for m, w in sorted(weights.items(), key=lambda kv: -kv[1])}


class TouchInterpreter:
    def __init__(self, calibration: str | Path | None = None) -> None:
        self.calibration = load_calibration(calibration)

    def interpret(self, data: dict[str, Any] | None) -> Evidence:
        values = measure(data or {})
        if values is None:
            return no_reading("touch", "the fingers found no surface")
        beliefs = material_beliefs(values, self.calibration)
        chosen = [r for w in ("hardness", "texture", "temperature")
                  if (r := word_from_beliefs(w, beliefs, self.calibration) or word_for(w, values, self.calibration))]
        words = tuple(w for w, _ in chosen)
        confidence = float(np.prod([c for _, c in chosen])) if chosen else 0.0
        feel = " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 2 else list(words))
        return Evidence("touch", True, confidence, words, beliefs,
                        {k: v for k, v in values.items() if k != "log_stiffness"},
                        adjective_line=f"It feels {feel}." if words else "It feels like nothing in particular.",
                        belief_line=belief_sentence(beliefs))
