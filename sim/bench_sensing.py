"""`robollm bench sensing`: the interpreters scored on knocks, touches and weighings in PyBullet.

    robollm bench sensing [--per-pair 2] [--seed 7001] [--json]

Every reading comes from the real skill on objects laid out from seeds that neither the
sound model nor the touch calibration saw (so other sizes, strike points and layouts),
and is scored against the truth of the material table and the object's model:
- sound: material accuracy over the six materials, with the confusion matrix (target 95%);
- weight: relative error in grams, median and worst (targets 3% and 10%);
- touch: hard/soft, rough/smooth and cold/warm against the table's properties (target 95%);
- the time each interpretation takes (the skills' own time is not counted).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from robollm.perception.interactive import InteractivePerception
from robollm.sim.feel_data import FEEL_SHAPES, WEIGH_SHAPES, record, sense_plan, true_words
from robollm.sim.knocks import knock_plan, record_knocks
from robollm.world.scene import MATERIALS

TARGETS = {"sound_accuracy": 0.95, "weight_median_error": 0.03, "weight_worst_error": 0.10,
           "touch_word_accuracy": 0.95}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robollm bench sensing", description=__doc__.split("\n\n")[0])
    p.add_argument("--per-pair", type=int, default=2, help="readings per material and shape (default: 2)")
    p.add_argument("--seed", type=int, default=7001, help="layout seed, unseen in training (default: 7001)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    return p


def _timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def bench_sound(ip: InteractivePerception, per_pair: int, seed: int) -> dict:
    knocks = record_knocks(knock_plan(per_pair, seed), seed)
    confusion = np.zeros((len(MATERIALS), len(MATERIALS)), dtype=int)
    seconds, silent = [], 0
    ip.interpreter("sound")  # loading the model is not an interpretation
    for k in knocks:
        ev, dt = _timed(ip.interpret, "knock", k.ok, k.reason, {"audio": k.clip})
        seconds.append(dt)
        if not ev.ok:
            silent += 1
            continue
        confusion[MATERIALS.index(k.material), MATERIALS.index(ev.material)] += 1
    scored = int(confusion.sum())
    return {"knocks": len(knocks), "no_reading": silent,
            "accuracy": float(np.trace(confusion) / max(1, scored)),
            "accuracy_counting_no_reading_as_wrong": float(np.trace(confusion) / max(1, len(knocks))),
            "confusion": {"rows_true_cols_predicted": list(MATERIALS), "counts": confusion.tolist()},
            "ms_per_interpretation": 1000 * float(np.median(seconds))}


def bench_touch(ip: InteractivePerception, per_pair: int, seed: int) -> dict:
    touches = record("touch", sense_plan(FEEL_SHAPES, per_pair, MATERIALS, seed), seed)
    correct = {"hardness": 0, "texture": 0, "temperature": 0}
    material_correct, seconds, read = 0, [], 0
    wrong: list[str] = []
    for t in touches:
        ev, dt = _timed(ip.interpret, "touch", t.success, t.reason, t.data)
        seconds.append(dt)
        if not ev.ok:
            continue
        read += 1
        truth = true_words(t.material)
        for word, expected in truth.items():
            if expected in ev.words:
                correct[word] += 1
            else:
                wrong.append(f"{t.material} {t.shape} felt {' '.join(ev.words)}")
        material_correct += ev.material == t.material
    per_word = {w: c / max(1, read) for w, c in correct.items()}
    return {"touches": len(touches), "no_reading": len(touches) - read, "word_accuracy": per_word,
            "all_words_accuracy": sum(correct.values()) / max(1, 3 * read),
            "material_accuracy": material_correct / max(1, read), "examples_wrong": sorted(set(wrong))[:8],
            "ms_per_interpretation": 1000 * float(np.median(seconds))}


def bench_weight(ip: InteractivePerception, per_pair: int, seed: int) -> dict:
    weighings = record("weigh", sense_plan(WEIGH_SHAPES, per_pair, MATERIALS, seed), seed)
    errors, seconds, rows = [], [], []
    for w in weighings:
        ev, dt = _timed(ip.interpret, "weigh", w.success, w.reason, w.data)
        seconds.append(dt)
        if ev.ok:
            err = abs(ev.values["grams"] - w.true_grams) / w.true_grams
            errors.append(err)
            rows.append((w.material, w.shape, round(w.true_grams, 2), round(ev.values["grams"], 2)))
    worst = rows[int(np.argmax(errors))] if errors else None
    return {"weighings": len(weighings), "no_reading": len(weighings) - len(errors),
            "failed": sorted({w.reason for w in weighings if not w.success}),
            "median_error": float(np.median(errors)) if errors else float("nan"),
            "worst_error": float(np.max(errors)) if errors else float("nan"),
            "worst": worst, "ms_per_interpretation": 1000 * float(np.median(seconds))}


def bench_sensing(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    started = time.time()
    ip = InteractivePerception()
    out = {"sound": bench_sound(ip, args.per_pair, args.seed),
           "touch": bench_touch(ip, args.per_pair, args.seed + 1),
           "weight": bench_weight(ip, args.per_pair, args.seed + 2)}
    out["targets"] = TARGETS
    out["met"] = {
        "sound_accuracy": out["sound"]["accuracy"] >= TARGETS["sound_accuracy"],
        "weight_median_error": out["weight"]["median_error"] <= TARGETS["weight_median_error"],
        "weight_worst_error": out["weight"]["worst_error"] <= TARGETS["weight_worst_error"],
        "touch_word_accuracy": out["touch"]["all_words_accuracy"] >= TARGETS["touch_word_accuracy"]}
    out["seconds"] = round(time.time() - started, 1)
    out["settings"] = {"per_pair": args.per_pair, "seed": args.seed}
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    s, t, w = out["sound"], out["touch"], out["weight"]
    print(f"sound   {s['knocks']} real knocks: material accuracy {s['accuracy']:.3f} "
          f"(target {TARGETS['sound_accuracy']}); no reading {s['no_reading']}; "
          f"{s['ms_per_interpretation']:.1f} ms per knock")
    print("        confusion (rows true, columns predicted): " + " ".join(m[:4] for m in MATERIALS))
    for m, row in zip(MATERIALS, s["confusion"]["counts"], strict=True):
        print(f"        {m:<8} " + " ".join(f"{c:4d}" for c in row))
    words = ", ".join(f"{k} {v:.3f}" for k, v in t["word_accuracy"].items())
    print(f"touch   {t['touches']} touches: word accuracy {t['all_words_accuracy']:.3f} ({words}; target "
          f"{TARGETS['touch_word_accuracy']}); material {t['material_accuracy']:.3f}; "
          f"{t['ms_per_interpretation']:.1f} ms per touch")
    print(f"weight  {w['weighings']} weighings: error median {100 * w['median_error']:.1f}% worst "
          f"{100 * w['worst_error']:.1f}% (targets 3% / 10%; worst {w['worst']}); "
          f"{w['ms_per_interpretation']:.2f} ms per weighing")
    print(f"targets met: {', '.join(k for k, v in out['met'].items() if v) or 'none'}; "
          f"missed: {', '.join(k for k, v in out['met'].items() if not v) or 'none'} ({out['seconds']:.0f} s)")
    return 0
