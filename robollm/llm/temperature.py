"""A temperature for the language model's usefulness, fitted on held-out planning steps.

A tuned planner model puts nearly all of a step's probability on one call, so a
multiplied affordance below 1 could never change the choice: 0.3 x 1.000 still beats
0.9 x 0.000. Dividing the model's scores by a temperature T fitted for log-likelihood
on planning steps the model was not trained on makes its probabilities mean what they
say (T > 1 when it is more sure than it is right). The fitted value lives beside the
adapter it belongs to (`robollm-temperature.json`, written by
`robollm train lm-temperature`), and the planner reads it from there. With T the
argmax among equally afforded calls never changes: only how much the second best
keeps.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from robollm.errors import ConfigError

TEMPERATURE_FILE = "robollm-temperature.json"
T_RANGE = (0.05, 100.0)  # fitted values are clipped to this: beyond it the scores carry no ranking


def softmax_t(values: Sequence[float], temperature: float) -> list[float]:
    """Softmax of `values / temperature`."""
    if not values:
        return []
    top = max(values)
    weights = [math.exp((v - top) / temperature) for v in values]
    total = sum(weights)
    return [w / total for w in weights]


def nll(steps: Sequence[tuple[Sequence[float], int]], temperature: float) -> float:
    """Mean negative log-likelihood of the right call of each step, in nats."""
    total = 0.0
    for values, target in steps:
        top = max(values)
        log_z = top / temperature + math.log(sum(math.exp((v - top) / temperature) for v in values))
        total += log_z - values[target] / temperature
    return total / max(1, len(steps))


def chosen_ece(steps: Sequence[tuple[Sequence[float], int]], temperature: float, bins: int = 10) -> dict[str, float]:
    """Accuracy of the chosen (argmax) call, its mean probability, and the expected
    calibration error of that probability over `bins` equal-width bins."""
    rows = []
    for values, target in steps:
        p = softmax_t(values, temperature)
        best = max(range(len(p)), key=p.__getitem__)
        rows.append((p[best], best == target))
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [r for r in rows if lo < r[0] <= hi or (b == 0 and r[0] == 0.0)]
        if sel:
            ece += len(sel) / len(rows) * abs(sum(r[0] for r in sel) / len(sel) - sum(r[1] for r in sel) / len(sel))
    n = max(1, len(rows))
    return {"accuracy": round(sum(r[1] for r in rows) / n, 4), "confidence": round(sum(r[0] for r in rows) / n, 4),
            "ece": round(ece, 4)}


def fit_temperature(steps: Sequence[tuple[Sequence[float], int]]) -> float:
    """The T minimising held-out NLL: golden-section search on log T (NLL is convex in 1/T)."""
    lo, hi = math.log(T_RANGE[0]), math.log(T_RANGE[1])
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(steps, math.exp(a)), nll(steps, math.exp(b))
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(steps, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(steps, math.exp(b))
    return math.exp((lo + hi) / 2)


def read_temperature(adapter_folder: Path) -> tuple[float, dict[str, Any]]:
    """The fitted temperature stored beside an adapter, and its record; 1.0 and {} when
    none was fitted."""
    path = Path(adapter_folder) / TEMPERATURE_FILE
    if not path.is_file():
        return 1.0, {}
    try:
        record = json.loads(path.read_text())
        t = float(record["temperature"])
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: expected JSON with a number 'temperature' ({type(e).__name__})") from None
    if not (math.isfinite(t) and t > 0):
        raise ConfigError(f"{path}: 'temperature' must be a positive number, got {t}")
    return t, record
