"""How good a P(success) is: ranking (AUROC), calibration (ECE) and both (Brier).

AUROC counts ties as half, so a 0/1 rule is judged fairly against a graded model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ECE_BINS = 10


def auroc(p: Sequence[float], y: Sequence[bool]) -> float | None:
    """Probability that a random success scores above a random failure (None: one class only)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=bool)
    pos, neg = p[y], p[~y]
    if len(pos) == 0 or len(neg) == 0:
        return None
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    values = np.concatenate([pos, neg])[order]
    ranks = np.empty(len(values))
    i = 0
    while i < len(values):  # average ranks over ties
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[i:j + 1] = 0.5 * (i + j) + 1
        i = j + 1
    full = np.empty(len(values))
    full[order] = ranks
    return float((full[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def ece(p: Sequence[float], y: Sequence[bool], bins: int = ECE_BINS) -> float:
    """Expected calibration error: |mean p - success rate| per equal-width bin, weighted by count."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    if len(p) == 0:
        return 0.0
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += m.sum() * abs(p[m].mean() - y[m].mean())
    return float(total / len(p))


def brier(p: Sequence[float], y: Sequence[bool]) -> float:
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(p) else 0.0


def report(p: Sequence[float], y: Sequence[bool]) -> dict[str, float | int | None]:
    a = auroc(p, y)
    return {"n": len(p), "success_rate": round(float(np.mean(y)), 4) if len(y) else None,
            "auroc": None if a is None else round(a, 4), "ece": round(ece(p, y), 4),
            "brier": round(brier(p, y), 4)}
