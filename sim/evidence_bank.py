"""Evidence lines from the real interpreters on simulated objects, cached for training data.

The planner's training tasks with sensing steps (robollm.training.synthetic) write each
knock, touch and weighing with a line the interpreters really produced for an object of
that material and shape in PyBullet, so the tuned model learns from the evidence it will
see, mistakes and doubts included, never from fixed strings. Sensing is slow, so the
lines are made once and cached:

    python -m robollm.sim.evidence_bank robollm/training/data/sensing_evidence.json

Look-alikes share a size (the default block and cup), so weights compare as they would
on the table.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

from robollm.perception.interactive import InteractivePerception
from robollm.sim.feel_data import record, sense_plan
from robollm.sim.knocks import record_knocks
from robollm.training.sensing_tasks import SHAPES  # the look-alikes the training tasks draw
from robollm.world.scene import DEFAULT_SIZE, MATERIALS

SIZES = {s: (DEFAULT_SIZE[s], DEFAULT_SIZE[s]) for s in SHAPES}


def _entry(ev, material: str) -> dict:
    return {"beliefs": ev.line("beliefs"), "adjectives": ev.line("adjectives"), "ok": ev.ok,
            "top": ev.material, "grams": ev.values.get("grams"), "true_material": material}


def build(per_pair: int, seed: int) -> dict:
    ip = InteractivePerception()
    bank: dict[str, dict[str, list[dict]]] = {"sound": {}, "touch": {}, "weight": {}}
    knocks = record_knocks(sense_plan(SHAPES, per_pair, MATERIALS, seed), seed)
    for k in knocks:
        ev = ip.interpret("knock", k.ok, k.reason, {"audio": k.clip})
        bank["sound"].setdefault(f"{k.material}/{k.shape}", []).append(_entry(ev, k.material))
    for skill, cue in (("touch", "touch"), ("weigh", "weight")):
        for r in record(skill, sense_plan(SHAPES, per_pair, MATERIALS, seed + 1), seed + 1, sizes=SIZES):
            ev = ip.interpret(skill, r.success, r.reason, r.data)
            bank[cue].setdefault(f"{r.material}/{r.shape}", []).append(_entry(ev, r.material))
    return bank


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("sensing_evidence.json")
    per_pair = int(argv[1]) if len(argv) > 1 else 4
    started = time.time()
    bank = build(per_pair, seed=4242)
    bank["record"] = {"per_pair": per_pair, "seed": 4242, "shapes": list(SHAPES),
                      "seconds": round(time.time() - started, 1),
                      "machine": f"{platform.machine()}, {platform.python_version()}",
                      "command": "python -m robollm.sim.evidence_bank " + " ".join(argv)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(bank, indent=0) + "\n")
    print(f"{out}: {sum(len(v) for c in ('sound', 'touch', 'weight') for v in bank[c].values())} lines "
          f"in {bank['record']['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
