"""Rules that summarise example placements, which of them fit the examples, and how a
chosen rule places an object.

A rule set is a decision list: clauses tried in order, the first whose condition holds
names the receptacle, and an optional "everything else" receptacle. An exception is an
earlier, narrower clause ("red blocks go on the plate") before a broader one ("blocks go
in the box"). Enumerating every decision list that reproduces the examples gives the
language model a closed set of summaries to choose from, and the structure makes
applying the chosen one exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np

from robollm.planner.tidy.attributes import (
    ATTRIBUTES,
    LOOSE_TYPES,
    MATERIAL_ADJECTIVES,
    Thing,
    known_values,
    value_words,
)
from robollm.world.scene import COLOURS, MATERIALS

FAMILY_ADJECTIVE = {"warmth": "{}-coloured", "lightness": "{}-coloured"}


@dataclass(frozen=True)
class Receptacle:
    """A place things go: its scene name and the words that pick it out ("green bowl")."""

    name: str
    type: str
    words: str

    @property
    def prep(self) -> str:
        return "on" if self.type == "plate" else "in"

    def where(self) -> str:
        return f"{self.prep} the {self.words}"


@dataclass(frozen=True)
class Example:
    thing: Thing
    receptacle: Receptacle
    text: str = ""  # as the person gave it


@dataclass(frozen=True)
class Condition:
    """A conjunction of tests; each test allows one or more values of one attribute."""

    tests: tuple[tuple[str, tuple[str, ...]], ...]

    def matches(self, thing: Thing) -> bool:
        """Unknown attributes (a material not yet sensed) never match."""
        features = thing.features()
        return all(features[attr] in values for attr, values in self.tests)

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(attr for attr, _ in self.tests)

    def cost(self) -> float:
        """Simplicity: one attribute with one value is simplest; every extra value or test
        costs more, since a person summarising says the broad thing first."""
        return sum(0.75 * (len(values) - 1) for _, values in self.tests) + 0.75 * (len(self.tests) - 1)

    def words(self) -> str:
        """"cups", "warm-coloured things", "red and yellow things", "small metal blocks"."""
        if len(self.tests) == 1:
            attr, values = self.tests[0]
            if len(values) == 1:
                return value_words(attr, values[0])
            named = [_adjective(attr, v) for v in values]
            listed = ", ".join(named[:-1]) + " and " + named[-1]
            return listed + ("" if attr == "type" else " things")
        noun = "things"
        adjectives = []
        for attr, values in sorted(self.tests, key=lambda t: _ORDER.index(t[0])):
            if attr == "type":
                noun = values[0] + "s"
            else:
                adjectives.append(" or ".join(_adjective(attr, v) for v in values))
        return " ".join(adjectives + [noun])


_ORDER = ("size", "lightness", "warmth", "colour", "material", "type")


def _adjective(attr: str, value: str) -> str:
    if attr == "type":
        return value + "s"
    if attr in FAMILY_ADJECTIVE:
        return FAMILY_ADJECTIVE[attr].format(value)
    if attr == "material":
        return MATERIAL_ADJECTIVES[value]
    return value


@dataclass(frozen=True)
class Clause:
    condition: Condition
    receptacle: Receptacle


@dataclass(frozen=True)
class RuleSet:
    clauses: tuple[Clause, ...]
    default: Receptacle | None = None  # where everything else goes; None: no rule covers it

    def place(self, thing: Thing) -> Receptacle | None:
        for clause in self.clauses:
            if clause.condition.matches(thing):
                return clause.receptacle
        return self.default

    def attributes(self) -> set[str]:
        return {a for c in self.clauses for a in c.condition.attributes}

    def cost(self) -> float:
        return sum(1.0 + c.condition.cost() for c in self.clauses) + (0.5 if self.default else 0.0)

    def sentence(self) -> str:
        """The rule set as a person would say it, in the order it is applied."""
        parts = [f"{c.condition.words()} go {c.receptacle.where()}" for c in self.clauses]
        if self.default is not None:
            parts.append(("everything else" if parts else "everything") + f" goes {self.default.where()}")
        if len(parts) > 1:
            parts = [", ".join(parts[:-1]) + ", and " + parts[-1]]
        text = parts[0]
        return text[0].upper() + text[1:] + "."

    def consistent(self, examples: Sequence[Example]) -> bool:
        return all(self.place(e.thing) == e.receptacle for e in examples)


# -- contradictions ------------------------------------------------------------------------

@dataclass(frozen=True)
class Contradiction:
    thing: Thing
    counts: tuple[tuple[Receptacle, int], ...]  # most support first
    used: Receptacle

    def note(self) -> str:
        said = " and ".join(f"{r.where()} ({n} example{'s' if n != 1 else ''})" for r, n in self.counts)
        return (f"contradictory examples: {self.thing.phrase()} went {said}; using {self.used.where()}, "
                "which has the most support")


def resolve_contradictions(examples: Sequence[Example]) -> tuple[list[Example], list[Contradiction]]:
    """Examples of the same kind of object that went to different places: keep those with
    the most support (the first given on a tie) and report the rest."""
    by_key: dict[tuple, list[Example]] = {}
    for e in examples:
        by_key.setdefault(e.thing.key(), []).append(e)
    kept, found = [], []
    winners: dict[tuple, Receptacle] = {}
    for key, group in by_key.items():
        counts = Counter(e.receptacle for e in group)
        if len(counts) > 1:
            order = sorted(counts.items(), key=lambda kv: (-kv[1], [e.receptacle for e in group].index(kv[0])))
            winners[key] = order[0][0]
            found.append(Contradiction(group[0].thing, tuple(order), order[0][0]))
    for e in examples:
        if e.thing.key() not in winners or winners[e.thing.key()] == e.receptacle:
            kept.append(e)
    return kept, found


# -- enumeration -----------------------------------------------------------------------------

def condition_pool(examples: Sequence[Example]) -> list[Condition]:
    """Every condition worth trying: one value of one attribute seen in the examples, the
    set of colours (or materials) one receptacle got, and a type with one other value."""
    pool: list[Condition] = []
    seen: set[Condition] = set()

    def add(c: Condition) -> None:
        if c not in seen:
            seen.add(c)
            pool.append(c)

    for attr in ATTRIBUTES:
        for e in examples:
            value = e.thing.features()[attr]
            if value is not None:
                add(Condition(((attr, (value,)),)))
    for attr in ("colour", "material"):
        for rec in dict.fromkeys(e.receptacle for e in examples):
            values = {e.thing.features()[attr] for e in examples if e.receptacle == rec} - {None}
            if 2 <= len(values) <= 3:
                order = known_values(attr)
                add(Condition(((attr, tuple(sorted(values, key=order.index))),)))
    for e in examples:
        features = e.thing.features()
        for attr in ATTRIBUTES[1:]:
            if features[attr] is not None:
                add(Condition((("type", (e.thing.type,)), (attr, (features[attr],)))))
    return pool


def _lists(examples: list[Example], pool: list[Condition], depth: int, used: Counter,
           last: Receptacle | None = None) -> Iterator[tuple[tuple[Clause, ...], Receptacle | None]]:
    """Decision lists over `examples`. Two clauses in a row to one receptacle, or a last
    clause to the "everything else" receptacle, say one thing twice and are left out."""
    receptacles = list(dict.fromkeys(e.receptacle for e in examples))
    if not receptacles:
        yield (), None
    elif len(receptacles) == 1 and used[receptacles[0]] < 2 and receptacles[0] != last:
        yield (), receptacles[0]
    if depth == 0:
        return
    for condition in pool:
        matched = [e for e in examples if condition.matches(e.thing)]
        targets = {e.receptacle for e in matched}
        if len(targets) != 1:
            continue
        target = targets.pop()
        if used[target] >= 2 or target == last:
            continue
        rest = [e for e in examples if not condition.matches(e.thing)]
        used[target] += 1
        for clauses, default in _lists(rest, pool, depth - 1, used, target):
            yield (Clause(condition, target),) + clauses, default
        used[target] -= 1


def probe_things() -> list[Thing]:
    """Every kind of loose object: two rule sets that place all of them alike are one."""
    return [Thing(t, c, m, s) for t, c, m, s in
            product(LOOSE_TYPES, COLOURS, MATERIALS, ("small", "large"))]


def enumerate_rule_sets(examples: Sequence[Example], max_candidates: int = 400) -> list[RuleSet]:
    """Every decision list with as many clauses as there are receptacles (one more where
    nothing shorter fits) that reproduces the examples, one per behaviour (the simplest wording kept), simplest first."""
    examples = list(examples)
    pool = condition_pool(examples)
    receptacles = len({e.receptacle for e in examples})
    probes = probe_things()
    matches = {c: np.array([c.matches(t) for t in probes]) for c in pool}
    index: dict[Receptacle | None, int] = {}
    best: dict[bytes, RuleSet] = {}
    lists = list(_lists(examples, pool, receptacles, Counter()))
    if not lists:  # only an exception fits: one clause more
        lists = list(_lists(examples, pool, receptacles + 1, Counter()))
    for clauses, default in lists:
        rule = RuleSet(clauses, default)
        placed = np.full(len(probes), index.setdefault(default, len(index)), dtype=np.int8)
        free = np.ones(len(probes), dtype=bool)
        for clause in clauses:
            hit = matches[clause.condition] & free
            placed[hit] = index.setdefault(clause.receptacle, len(index))
            free &= ~hit
        behaviour = placed.tobytes()
        if behaviour not in best or rule.cost() < best[behaviour].cost():
            best[behaviour] = rule
    ranked = sorted(best.values(), key=lambda r: (r.cost(), r.sentence()))
    return ranked[:max_candidates]
