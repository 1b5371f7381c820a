"""`robollm train touch`: measure simulated touches and choose the touch words' thresholds.

    robollm train touch --out my-touch      # about a minute on 2 CPU cores

It touches objects of every material and shape with the real skill in PyBullet, measures
stiffness, friction and pad cooling from each touch as the interpreter does, and for each
word pair (hard/soft, rough/smooth, cold/warm) chooses the threshold that best separates
the touches by the material table's answer (the midpoint of the widest gap among the
best splits). It also keeps each material's mean and spread of every reading, for
material beliefs, and the words each material's properties call for (the touch words
follow the material beliefs; the thresholds serve a calibration without them). The
folder gets `touch_calibration.json`, with its record; the default in
robollm/perception/models/ was made by this command with its defaults.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

from robollm.errors import UserError

FEEL = "robollm.sim.feel_data"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robollm train touch",
                                description="Measure simulated touches; choose the touch words' thresholds.")
    p.add_argument("--out", required=True, help="folder for touch_calibration.json (new or empty)")
    p.add_argument("--per-pair", type=int, default=4, help="touches per material and shape (default: 4)")
    p.add_argument("--seed", type=int, default=0)
    return p


def best_threshold(values: list[float], first: list[bool]) -> tuple[float, float]:
    """(threshold, accuracy) with the first word above the threshold: the best split, and
    among equally good splits the one in the widest gap."""
    pairs = sorted(zip(values, first, strict=True))
    best = (-1.0, -1.0, 0.0)  # accuracy, gap, threshold
    for i in range(1, len(pairs)):
        lo, hi = pairs[i - 1][0], pairs[i][0]
        if hi <= lo:
            continue
        correct = sum(not f for _, f in pairs[:i]) + sum(f for _, f in pairs[i:])
        key = (correct / len(pairs), hi - lo, (lo + hi) / 2)
        if key[:2] > best[:2]:
            best = key
    return best[2], best[0]


def train_touch(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.per_pair < 1:
        raise UserError(f"--per-pair must be at least 1, got {args.per_pair}")
    from robollm.commands.training_options import check_out

    out = Path(args.out)
    check_out(out)
    import numpy as np

    from robollm.perception.touch import (
        FEATURES,
        WORD_FEATURE,
        WORDS,
        material_beliefs,
        measure,
        word_from_beliefs,
    )
    from robollm.registry import load_entry_point
    from robollm.world.scene import MATERIALS

    record = load_entry_point(f"{FEEL}:record")
    plan = load_entry_point(f"{FEEL}:sense_plan")
    truth = load_entry_point(f"{FEEL}:true_words")
    shapes = load_entry_point(f"{FEEL}:FEEL_SHAPES")
    started = time.time()
    touches = record("touch", plan(shapes, args.per_pair, MATERIALS, args.seed), args.seed)
    rows = [(t, v) for t in touches if t.success and (v := measure(t.data)) is not None]
    calibration: dict = {"thresholds": {}, "spread": {}, "train_accuracy": {}, "materials": {},
                         "words": {m: truth(m) for m in MATERIALS}}
    for word, (feature, _) in WORD_FEATURE.items():
        kept = [(v[feature], truth(t.material)[word] == WORDS[word][0]) for t, v in rows
                if math.isfinite(v[feature])]
        threshold, accuracy = best_threshold([k[0] for k in kept], [k[1] for k in kept])
        spreads = [np.std([x for x, f in kept if f == side]) for side in (True, False)
                   if sum(f == side for _, f in kept) > 1]
        calibration["thresholds"][word] = threshold
        calibration["spread"][word] = float(np.mean(spreads)) if spreads else 1.0
        calibration["train_accuracy"][word] = round(accuracy, 4)
    for material in MATERIALS:
        calibration["materials"][material] = {}
        for feature in FEATURES:
            xs = [v[feature] for t, v in rows if t.material == material and math.isfinite(v[feature])]
            floor = {"log_stiffness": 0.05, "friction": 0.03, "cooling": 0.1}[feature]
            calibration["materials"][material][feature] = [
                float(np.mean(xs)) if xs else 0.0, max(float(np.std(xs)) if len(xs) > 1 else 1.0, floor)]
    beliefs = [(t, material_beliefs(v, calibration)) for t, v in rows]
    calibration["belief_word_accuracy"] = {
        word: round(sum(word_from_beliefs(word, b, calibration)[0] == truth(t.material)[word]
                        for t, b in beliefs) / max(1, len(beliefs)), 4) for word in WORDS}
    calibration["record"] = {
        "what": "touch-word thresholds and per-material touch readings",
        "truth": "hard iff table stiffness >= the solver's rigid stiffness; rough iff table friction >= "
                 "ROUGH_FRICTION; cold iff effusivity > the fingertip's (robollm.sim.feel_data.true_words)",
        "touches": len(touches), "touches_measured": len(rows),
        "failed": sorted({t.reason for t in touches if not t.success}),
        "seed": args.seed, "per_pair": args.per_pair, "shapes": list(shapes),
        "seconds": round(time.time() - started, 1), "machine": f"{platform.machine()}, {platform.python_version()}",
        "command": "robollm train touch " + " ".join(argv),
    }
    (out / "touch_calibration.json").write_text(json.dumps(calibration, indent=1) + "\n")
    for word, acc in calibration["train_accuracy"].items():
        print(f"{word}: threshold {calibration['thresholds'][word]:.3f}, accuracy on these touches {acc:.3f}; "
              f"from the material beliefs {calibration['belief_word_accuracy'][word]:.3f}")
    print(f"calibration written to {out / 'touch_calibration.json'} ({time.time() - started:.0f} s)")
    return 0
