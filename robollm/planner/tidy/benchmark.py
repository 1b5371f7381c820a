"""The tidy benchmark: scenarios of example placements and tables of seen and unseen
objects, and the placement accuracy of each way of deciding (TidyBot's comparison).

Methods, run side by side on the same scenarios:
- `summary`: the rule chosen from the consistent summaries by the language model and the
  simplicity prior, applied exactly; the model's common sense where no rule covers.
- `summary (prior only)`: the same with the model's scores left out of the choice, which
  shows what the model adds.
- `summary (generated)`: the model writes the summary itself (greedy, its first sentence)
  and places each object with the examples and that sentence in its prompt (TidyBot's way).
- `examples only`: the model asked where each object goes with the examples in the prompt.
- `common sense`: the model asked with no examples.
- `ground-truth summary`: the person's own rule, applied like the summary.

Objects are scored with the materials sensing would report (the physics run knocks
objects whose material a rule needs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robollm.errors import ConfigError, UserError
from robollm.llm.base import LanguageModel
from robollm.planner.tidy.attributes import Thing, size_word
from robollm.planner.tidy.prefs import parse_example, rules_from_entries
from robollm.planner.tidy.rules import Example, Receptacle, RuleSet
from robollm.planner.tidy.summarise import (
    Summary,
    SummaryOptions,
    decide,
    generated_summary,
    place_by_lm,
    summarise,
)
from robollm.schema import check_keys, read_yaml
from robollm.world.scene import ObjectSpec, SceneSpec, validate_scene

METHODS = ("summary", "summary (prior only)", "summary (generated)", "examples only", "common sense",
           "ground-truth summary")
SPLITS = ("validation", "test")
SCENARIO_KEYS = {"id", "split", "receptacles", "examples", "summary", "objects"}


@dataclass
class TableObject:
    thing: Thing
    goes: Receptacle
    seen: bool


@dataclass
class Scenario:
    id: str
    split: str
    receptacles: list[Receptacle]
    examples: list[Example]
    truth: RuleSet
    objects: list[TableObject]
    scene: SceneSpec  # receptacles and loose objects, for the physics run


def receptacle_words(specs: Sequence[dict]) -> list[str]:
    """"box", or "green bowl" where two receptacles share a type."""
    types = [s["type"] for s in specs]
    return [s["type"] if types.count(s["type"]) == 1 else f"{s['colour']} {s['type']}" for s in specs]


def builtin_benchmark() -> Path:
    from importlib.resources import files

    return Path(str(files("robollm.sim"))) / "tidy" / "tidy.yaml"


def is_seen(thing: Thing, examples: Sequence[Example]) -> bool:
    """Like an example: every attribute the example stated is the same."""
    return any(e.thing.type == thing.type and e.thing.colour == thing.colour
               and e.thing.material in (None, thing.material) and e.thing.size in (None, thing.size)
               for e in examples)


def load_benchmark(path: str | Path | None = None) -> list[Scenario]:
    p = Path(path) if path is not None else builtin_benchmark()
    if not p.is_file():
        raise UserError(f"tidy benchmark {str(p)!r}: no such file")
    data = read_yaml(p) or {}
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
        raise ConfigError(f"{p}: expected a mapping with a list under 'scenarios'")
    return [scenario_from_dict(s, f"{p}: scenarios[{i}]") for i, s in enumerate(data["scenarios"])]


def scenario_from_dict(data: Any, where: str) -> Scenario:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping")
    check_keys(data, sorted(SCENARIO_KEYS), where)
    if data.get("split") not in SPLITS:
        raise ConfigError(f"{where}.split: expected one of {', '.join(SPLITS)}")
    specs = data["receptacles"]
    words = receptacle_words(specs)
    recs = [Receptacle(f"{s['colour']}_{s['type']}", s["type"], w) for s, w in zip(specs, words, strict=True)]
    examples = [parse_example(text, recs) for text in data["examples"]]
    truth = rules_from_entries(data["summary"], recs, where)
    by_words = {r.words: r for r in recs}
    objects, specs_out = [], [ObjectSpec(s["type"], s["colour"], size=s.get("size"), pose=s.get("pose"))
                              for s in specs]
    for i, o in enumerate(data["objects"]):
        thing = Thing(o["type"], o["colour"], o.get("material"), size_word(o["type"], o["size"]), o["name"])
        if o["goes"] not in by_words:
            raise ConfigError(f"{where}.objects[{i}].goes: {o['goes']!r} is not one of {', '.join(by_words)}")
        objects.append(TableObject(thing, by_words[o["goes"]], is_seen(thing, examples)))
        specs_out.append(ObjectSpec(o["type"], o["colour"], o.get("material"), o["size"], o["name"]))
    scene = validate_scene(SceneSpec(specs_out, f"{where} ({data['id']})"))
    return Scenario(str(data["id"]), data["split"], recs, examples, truth, objects, scene)


@dataclass
class MethodResult:
    placed: list[str] = field(default_factory=list)  # receptacle words, per object
    rule: str = ""  # the summary used, as a sentence
    rule_set: RuleSet | None = None


@dataclass
class ScenarioResult:
    scenario: str
    split: str
    seen: list[bool]
    goes: list[str]
    methods: dict[str, MethodResult] = field(default_factory=dict)
    seconds: float = 0.0


def run_methods(llm: LanguageModel, scenario: Scenario, options: SummaryOptions | None = None,
                methods: Sequence[str] = METHODS) -> ScenarioResult:
    started = time.perf_counter()
    things = [o.thing for o in scenario.objects]
    recs = scenario.receptacles
    out = ScenarioResult(scenario.id, scenario.split, [o.seen for o in scenario.objects],
                         [o.goes.words for o in scenario.objects])

    def by_rule(summary: Summary) -> MethodResult:
        return MethodResult([d.receptacle.words for d in decide(llm, summary, things, recs)],
                            summary.rule.sentence(), summary.rule)

    def generated() -> MethodResult:
        try:
            text = generated_summary(llm, scenario.examples)
        except NotImplementedError:  # a backend that only scores: no summary to add
            text = ""
        placed = [place_by_lm(llm, t, recs, scenario.examples, text).words for t in things]
        return MethodResult(placed, text or "(the model cannot generate text)")

    runs: dict[str, Callable[[], MethodResult]] = {
        "summary": lambda: by_rule(summarise(llm, scenario.examples, options)),
        "summary (prior only)": lambda: by_rule(summarise(None, scenario.examples, options)),
        "summary (generated)": lambda: generated(),
        "examples only": lambda: MethodResult([place_by_lm(llm, t, recs, scenario.examples).words for t in things]),
        "common sense": lambda: MethodResult([place_by_lm(llm, t, recs, None).words for t in things]),
        "ground-truth summary": lambda: by_rule(Summary(scenario.truth, examples=scenario.examples)),
    }
    for name in methods:
        out.methods[name] = runs[name]()
    out.seconds = time.perf_counter() - started
    return out


def accuracy(results: Sequence[ScenarioResult], method: str, seen: bool | None) -> tuple[int, int]:
    """(correct, total) over the objects that are seen (True), unseen (False) or all (None)."""
    right = total = 0
    for r in results:
        for i, goes in enumerate(r.goes):
            if seen is None or r.seen[i] == seen:
                total += 1
                right += r.methods[method].placed[i] == goes
    return right, total


def summary_table(results: Sequence[ScenarioResult], methods: Sequence[str]) -> dict:
    table: dict[str, dict] = {}
    for split in SPLITS:
        part = [r for r in results if r.split == split]
        if not part:
            continue
        table[split] = {"scenarios": len(part), "methods": {}}
        for m in methods:
            row = {}
            for label, which in (("seen", True), ("unseen", False), ("all", None)):
                right, total = accuracy(part, m, which)
                row[label] = {"correct": right, "total": total,
                              "accuracy": round(right / total, 4) if total else None}
            table[split]["methods"][m] = row
    return table
