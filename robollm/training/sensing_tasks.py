"""Training tasks that need evidence: look-alikes told apart by a knock, a touch or a weighing.

Two or three grey blocks (or cups) of one size, named by a letter as the `property`
suite's scenes name them (block_a, block_b), stand with a holder in regions of the
table drawn as for the language tasks, so the prompt's table reads as it does at run
time; the instruction names a property eyes cannot see: a material (drawn twice as
often as each other kind: six materials to tell apart), the heaviest or lightest, the
soft or the hard one. The expert senses before it acts: it knocks (for a material) or
touches (for soft or hard) one object after another until the evidence points at the
one asked for (now and then, with probability `sense_past`, it senses the rest too before it
acts, so that the one to take is the one whose evidence fits, not the one sensed last; 0
by default: an adapter trained at 0.3 sensed more and still took the last one, README), and
it weighs every look-alike before choosing the heaviest or lightest
(each weighing after the first also says which of those weighed so far is heaviest and
lightest, as the planner's prompt does). When a knock gives no reading or leaves the
material in doubt, it touches the same object: another cue. Every evidence line was produced by the real interpreters on simulated objects of
that material and shape (`robollm.sim.evidence_bank`, cached in
`robollm/training/data/sensing_evidence.json`), never written by hand.
"""

from __future__ import annotations

import json
import random
import re
from functools import cache
from pathlib import Path

from robollm.errors import UserError
from robollm.perception.weight import with_comparison
from robollm.training.synthetic import Task, move, normalise, say
from robollm.training.synthetic_places import draw_layout

BANK = Path(__file__).resolve().parent / "data" / "sensing_evidence.json"
BANK_COPY = "sensing_evidence.json"  # an adapter trained on another bank keeps a copy under this name
MATERIALS = ("metal", "wood", "plastic", "glass", "ceramic", "foam")
DENSITY_ORDER = ("foam", "wood", "plastic", "ceramic", "glass", "metal")  # lightest first
HOLDER = {"block": ("bowl", "in the"), "cup": ("plate", "on the")}
HOLDER_COLOURS = ("white", "red", "green", "blue", "yellow", "black", "purple", "orange", "pink", "cyan")
MATERIAL_WORDS = {"wood": ("wood", "wooden"), "metal": ("metal", "metal", "steel")}
DOUBT = 0.6  # a belief below this leaves the material in doubt: feel it too
CUES = ("sound", "touch", "weight")
SHAPES = ("block", "cup")  # what the look-alikes are, and what the bank holds lines for
ENTRY_KEYS = frozenset(("beliefs", "adjectives", "ok", "top", "grams"))  # of one bank line
KINDS = ("material", "material", "heaviest", "lightest", "soft", "hard")  # a material: six to tell apart


@cache
def load_bank(path: str | None = None) -> dict:
    return json.loads(Path(path or BANK).read_text())


def _usable(lines: object) -> bool:
    """Lines of one cue: at least one complete entry for every material and shape."""
    return isinstance(lines, dict) and all(
        lines.get(f"{m}/{s}") and all(isinstance(e, dict) and ENTRY_KEYS <= set(e) for e in lines[f"{m}/{s}"])
        for m in MATERIALS for s in SHAPES)


def check_bank(path: str, flag: str) -> None:
    """A UserError naming `flag` and what a bank holds, unless `path` is a usable bank."""
    expected = "a JSON file from python -m robollm.sim.evidence_bank (lines per cue and material/shape)"
    try:
        bank = load_bank(path)
    except OSError as error:
        raise UserError(f"{flag} {path!r}: cannot read it ({error.strerror}); expected {expected}") from None
    except ValueError as error:
        raise UserError(f"{flag} {path!r}: not JSON ({error}); expected {expected}") from None
    for cue in CUES:
        if not _usable(bank.get(cue) if isinstance(bank, dict) else None):
            raise UserError(f"{flag} {path!r}: no usable '{cue}' lines for every material and shape "
                            f"({', '.join(SHAPES)}); expected {expected}")


def bank_record(path: str) -> dict:
    """What an adapter records of the bank its sensing tasks drew from."""
    from robollm.llm.adapters import text_digest

    return {"file": Path(path).name, "sha256": text_digest(Path(path).read_text()),
            "record": load_bank(path).get("record")}


def _top_belief(line: str) -> float:
    m = re.search(r"\(([0-9.]+)\)", line)
    return float(m.group(1)) if m else 0.0


def _draw(rng: random.Random, bank: dict, cue: str, material: str, shape: str) -> dict:
    return rng.choice(bank[cue][f"{material}/{shape}"])


def _materials(rng: random.Random, kind: str, n: int) -> tuple[list[str], int]:
    """Materials of the look-alikes and the index of the one asked for."""
    hard = [m for m in MATERIALS if m != "foam"]
    if kind == "soft":
        wanted, others = "foam", rng.sample(hard, n - 1)
    elif kind == "hard":
        wanted, others = rng.choice(hard), ["foam"] * (n - 1)
    else:
        picked = rng.sample(MATERIALS, n)
        wanted = {"heaviest": max, "lightest": min}.get(kind, lambda ms, key: ms[0])(picked, key=DENSITY_ORDER.index)
        others = [m for m in picked if m != wanted]
    index = rng.randrange(n)
    return [*others[:index], wanted, *others[index:]], index


def _fits(kind: str, wanted: str, top: str | None) -> bool:
    """Whether a reading's top material is what the instruction asks for."""
    return {"soft": top == "foam", "hard": top not in (None, "foam")}.get(kind, top == wanted)


def sensing_task(rng: random.Random, style: str = "beliefs", bank: dict | None = None,
                 sense_past: float = 0.0) -> Task | None:
    bank = bank or load_bank()
    shape = rng.choice(SHAPES)
    n = rng.choice((2, 3, 3))
    kind = rng.choice(KINDS)
    mats, target = _materials(rng, kind, n)
    names = [f"{shape}_{c}" for c in "abc"[:n]]
    holder_kind, prep = HOLDER[shape]
    holder = f"{rng.choice(HOLDER_COLOURS)}_{holder_kind}"
    word = rng.choice(MATERIAL_WORDS.get(mats[target], (mats[target],))) if kind == "material" else kind
    goal = rng.choice(("put", "place", "move"))
    instruction = f"{goal} the {word} {shape} {prep} {holder.replace('_', ' ')}"
    steps: list[str] = []
    evidence: dict[int, str] = {}

    weighed: list[tuple[str, float]] = []

    def sense(skill: str, cue: str, i: int) -> dict:
        entry = _draw(rng, bank, cue, mats[i], shape)
        steps.append(say(skill, obj=names[i]))
        line = entry[style] if entry["ok"] else "No reading."
        if cue == "weight" and entry["ok"]:  # as the planner tells it (robollm.perception.weight)
            line = with_comparison(line, weighed, names[i], entry["grams"])
        evidence[len(steps) - 1] = line
        return entry

    order = list(range(n))
    rng.shuffle(order)
    chosen = None
    if kind in ("heaviest", "lightest"):
        grams = {i: sense("weigh", "weight", i)["grams"] for i in order}
        if any(g is None for g in grams.values()):
            return None
        chosen = (max if kind == "heaviest" else min)(grams, key=grams.__getitem__)
    else:
        cue, skill = ("sound", "knock") if kind == "material" else ("touch", "touch")

        def reading(i: int) -> str | None:
            entry = sense(skill, cue, i)
            if cue == "sound" and (not entry["ok"] or _top_belief(entry["beliefs"]) < DOUBT):
                entry = sense("touch", "touch", i)  # the knock left it open: feel it as well
            return entry["top"] if entry["ok"] else None

        chosen = next((i for i in order if _fits(kind, mats[target], reading(i))), None)
        if chosen is not None and sense_past and rng.random() < sense_past:
            for i in order[order.index(chosen) + 1:]:  # the rest as well, before acting
                if _fits(kind, mats[target], reading(i)):
                    return None  # two fit: the evidence does not say which
    if chosen != target:  # the evidence misled: not a plan to learn from
        return None
    steps += move(names[target], holder)
    objects = [*names, holder]
    layout, near = draw_layout(rng, objects)  # as the language tasks' tables: regions, pairs close
    return Task("sensing", objects, instruction, steps, evidence=evidence, layout=layout, near=near)


def generate_sensing(count: int, seed: int, exclude: list[str] | tuple[str, ...] = (),
                     style: str = "beliefs", bank: str | None = None, sense_past: float = 0.0) -> list[Task]:
    """`count` sensing tasks; none whose instruction is in `exclude` (the suites'). Evidence
    lines in `style` (beliefs or adjectives), from the bank file `bank` (default: shipped);
    `sense_past`: how often the expert senses the rest after finding the one asked for."""
    rng = random.Random(seed)
    banned = {normalise(e) for e in exclude}
    readings = load_bank(bank)
    out: list[Task] = []
    while len(out) < count:
        task = sensing_task(rng, style, readings, sense_past)
        if task is not None and normalise(task.instruction) not in banned:
            out.append(task)
    return out
