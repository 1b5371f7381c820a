"""A person's tidying preferences: example placements in words, and the summary derived
from them, kept per person in a plain YAML file that can be edited by hand.

```yaml
person: alex
examples:
  - the red block went in the box
  - the small metal cup went on the plate
summary:                      # written by `robollm tidy`; edit the rules to correct it
  sentence: Warm-coloured things go in the box, and everything else goes on the plate.
  rules:
    - {when: {warmth: warm}, to: box}
    - {else: plate}
  examples_digest: 3f1c...    # the examples it was derived from; changed examples re-derive it
```

A summary whose digest matches the examples is used as it stands (so a hand edit of its
rules sticks); when the examples change it is derived again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from robollm.errors import ConfigError, UserError
from robollm.planner.tidy.attributes import (
    ATTRIBUTES,
    LOOSE_TYPES,
    MATERIAL_ADJECTIVES,
    RECEPTACLE_TYPES,
    SIZE_WORDS,
    Thing,
    known_values,
)
from robollm.planner.tidy.rules import Clause, Condition, Example, Receptacle, RuleSet
from robollm.schema import check_keys, read_yaml
from robollm.world.scene import COLOURS, canonical_colour

MATERIAL_WORDS = {**{adj: m for m, adj in MATERIAL_ADJECTIVES.items()}, **{m: m for m in MATERIAL_ADJECTIVES}}
_FILLER = {"the", "a", "an", "my", "and"}
_VERBS = r"(?:went|goes|go|was\s+put|were\s+put|is\s+put|belongs|belong|was\s+placed|is\s+placed|was|is)"
_SENTENCE = re.compile(rf"^(?P<obj>.+?)\s+(?:{_VERBS}\s+)?(?P<prep>in|into|on|onto|inside)\s+(?P<rec>.+)$")
PREFS_KEYS = ("person", "examples", "summary")
SUMMARY_KEYS = ("sentence", "rules", "examples_digest")


@dataclass
class Preferences:
    person: str = ""
    examples: list[str] = field(default_factory=list)
    summary_rules: list[dict] | None = None  # the stored summary, as written in the file
    summary_sentence: str = ""
    examples_digest: str = ""
    source: str = "<command line>"

    def digest(self) -> str:
        return examples_digest(self.examples)

    def summary_current(self) -> bool:
        """The stored summary was derived from these very examples (or edited after)."""
        return self.summary_rules is not None and self.examples_digest == self.digest()


def examples_digest(examples: Sequence[str]) -> str:
    text = "\n".join(" ".join(e.lower().split()) for e in examples)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def split_examples(text: str) -> list[str]:
    """"the red block went in the box, the blue block went on the plate" -> two examples."""
    parts = re.split(r"[,;\n]|\.\s|\.$", text)
    out = []
    for part in parts:
        words = part.strip().split()
        while words and words[0].lower() == "and":
            words = words[1:]
        if words:
            out.append(" ".join(words))
    return out


def load_preferences(path: str | Path) -> Preferences:
    p = Path(path)
    if p.is_dir():
        raise UserError(f"preferences {str(path)!r} is a folder, expected a YAML file")
    if not p.is_file():
        raise UserError(f"preferences {str(path)!r}: no such file")
    return preferences_from_dict(read_yaml(p) or {}, str(path))


def preferences_from_dict(data: Any, source: str) -> Preferences:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with keys {', '.join(PREFS_KEYS)}")
    check_keys(data, PREFS_KEYS, source)
    person = data.get("person") or ""
    if not isinstance(person, str):
        raise ConfigError(f"{source}: key 'person' should be text, got {person!r}")
    examples = data.get("examples") or []
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise ConfigError(f"{source}: key 'examples' should be a list of sentences like "
                          "'the red block went in the box'")
    prefs = Preferences(person, [" ".join(e.split()) for e in examples], source=source)
    summary = data.get("summary")
    if summary is not None:
        if not isinstance(summary, dict):
            raise ConfigError(f"{source}: key 'summary' should be a mapping with {', '.join(SUMMARY_KEYS)}")
        for key in summary:
            if key not in SUMMARY_KEYS:
                raise ConfigError(f"{source}: unknown key 'summary.{key}'; expected {', '.join(SUMMARY_KEYS)}")
        rules = summary.get("rules") or []
        if not isinstance(rules, list):
            raise ConfigError(f"{source}: key 'summary.rules' should be a list of {{when: ..., to: ...}} "
                              "and {else: ...} entries")
        for i, rule in enumerate(rules):
            check_rule_entry(rule, f"{source}: summary.rules[{i}]")
        prefs.summary_rules = rules
        prefs.summary_sentence = str(summary.get("sentence") or "")
        prefs.examples_digest = str(summary.get("examples_digest") or "")
    return prefs


def save_preferences(prefs: Preferences, rule: RuleSet, path: str | Path) -> None:
    """Write the examples with the summary derived from them."""
    data = {"person": prefs.person or Path(path).stem, "examples": list(prefs.examples),
            "summary": {"sentence": rule.sentence(), "rules": rules_to_entries(rule),
                        "examples_digest": prefs.digest()}}
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False, width=100))


# -- sentences -------------------------------------------------------------------------------

def parse_thing(words: str, where: str) -> Thing:
    """"small red metal block" -> Thing; every word must be one tidying knows."""
    kind = colour = material = size = None
    for raw in words.lower().replace("-", " ").split():
        w = raw.strip(".,!")
        if not w or w in _FILLER:
            continue
        single = w[:-1] if w.endswith("s") and w[:-1] in LOOSE_TYPES else w
        if single in LOOSE_TYPES:
            kind = single
        elif canonical_colour(w) in COLOURS:
            colour = canonical_colour(w)
        elif w in MATERIAL_WORDS:
            material = MATERIAL_WORDS[w]
        elif w in SIZE_WORDS:
            size = SIZE_WORDS[w]
        elif single in RECEPTACLE_TYPES:
            raise UserError(f"{where}: a {single} is a receptacle, not an object to put away; "
                            f"expected an object of type {' or '.join(LOOSE_TYPES)}")
        else:
            raise UserError(f"{where}: there is no object {words.strip()!r} ({w!r} is not a word for a "
                            f"type, colour, material or size); expected e.g. 'the small red metal block' "
                            f"with a type ({', '.join(LOOSE_TYPES)}) and a colour ({', '.join(COLOURS)})")
    if kind is None or colour is None:
        missing = "type" if kind is None else "colour"
        raise UserError(f"{where}: {words.strip()!r} has no {missing}; expected e.g. 'the red block' "
                        f"(types: {', '.join(LOOSE_TYPES)})")
    return Thing(kind, colour, material, size)


def find_receptacle(words: str, receptacles: Sequence[Receptacle], where: str) -> Receptacle:
    """The one receptacle on the table that `words` ("the green bowl", "box") names."""
    kind, colour = None, None
    for raw in words.lower().split():
        w = raw.strip(".,!")
        if not w or w in _FILLER:
            continue
        if w in RECEPTACLE_TYPES:
            kind = w
        elif canonical_colour(w) in COLOURS:
            colour = canonical_colour(w)
        else:
            kind = kind or w  # an unknown word: reported below as no such receptacle
    here = ", ".join(f"the {r.words}" for r in receptacles) or "none"
    matches = [r for r in receptacles if r.type == kind and (colour is None or r.name.startswith(colour + "_")
                                                             or colour in r.words.split())]
    if not matches:
        raise UserError(f"{where}: there is no {words.strip()!r} on the table; receptacles here: {here}")
    if len(matches) > 1:
        raise UserError(f"{where}: {words.strip()!r} could be {' or '.join('the ' + r.words for r in matches)}; "
                        "say which (by colour)")
    return matches[0]


def parse_example(text: str, receptacles: Sequence[Receptacle]) -> Example:
    where = f"example {text!r}"
    m = _SENTENCE.match(" ".join(text.split()).rstrip("."))
    if not m:
        raise UserError(f"{where}: expected a sentence like 'the red block went in the box'")
    thing = parse_thing(m.group("obj"), where)
    return Example(thing, find_receptacle(m.group("rec"), receptacles, where), text)


# -- rules in files --------------------------------------------------------------------------

def check_rule_entry(rule: Any, where: str) -> None:
    if not isinstance(rule, dict):
        raise ConfigError(f"{where}: expected {{when: {{attribute: value}}, to: receptacle}} or {{else: receptacle}}")
    keys = set(rule)
    if keys == {"else"}:
        return
    for key in keys - {"when", "to"}:
        raise ConfigError(f"{where}: unknown key {key!r}; expected 'when' and 'to', or 'else'")
    if keys != {"when", "to"}:
        raise ConfigError(f"{where}: expected both 'when' and 'to' (or only 'else')")
    when = rule["when"]
    if not isinstance(when, dict) or not when:
        raise ConfigError(f"{where}.when: expected a mapping of attributes ({', '.join(ATTRIBUTES)}) to values")
    for attr, value in when.items():
        if attr not in ATTRIBUTES:
            raise ConfigError(f"{where}.when: unknown attribute {attr!r}; expected one of {', '.join(ATTRIBUTES)}")
        values = value if isinstance(value, list) else [value]
        allowed = known_values(attr)
        for v in values:
            if v not in allowed:
                raise ConfigError(f"{where}.when.{attr}: {v!r} is not a value; expected one of {', '.join(allowed)}")


def rules_from_entries(entries: Sequence[dict], receptacles: Sequence[Receptacle], where: str) -> RuleSet:
    clauses, default = [], None
    for i, entry in enumerate(entries):
        at = f"{where}.rules[{i}]"
        check_rule_entry(entry, at)
        if "else" in entry:
            if i != len(entries) - 1:
                raise ConfigError(f"{at}: 'else' must be the last rule")
            default = find_receptacle(str(entry["else"]), receptacles, at)
            continue
        tests = tuple((attr, tuple(v if isinstance(v, list) else [v])) for attr, v in entry["when"].items())
        clauses.append(Clause(Condition(tests), find_receptacle(str(entry["to"]), receptacles, at)))
    return RuleSet(tuple(clauses), default)


def rules_to_entries(rule: RuleSet) -> list[dict]:
    out: list[dict] = []
    for c in rule.clauses:
        when = {attr: (list(values) if len(values) > 1 else values[0]) for attr, values in c.condition.tests}
        out.append({"when": when, "to": c.receptacle.words})
    if rule.default is not None:
        out.append({"else": rule.default.words})
    return out
