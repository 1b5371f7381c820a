"""What an instruction leaves out, read before the robot acts.

"Every block except the red one" must not start with the red block, whatever the
language model prefers; "leave the pink block alone" must leave it where it is. The
planner asks :func:`left_alone` once a run's instruction is grounded and gives every
call that would act on, move, or (for an excluded object) put something in or on such an
object an affordance of 0. Like the grounding check, it prefers precision to recall: it
resolves only references by colour and type words ("the red one", "the green cup"),
leaving places ("the one on the left") and pronouns to the model, and across every
suite and the training generator it never names an object the goal or the expert plan
moves (tests/test_left_alone.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from robollm.planner.grounding import (
    MATERIAL_WORDS,
    PLURAL_TYPE_WORDS,
    SIZE_WORDS,
    TYPE_WORDS,
    _type_word,
    _words,
)
from robollm.world.scene import COLOURS

# Markers before the objects they leave out. `except`-like ones leave an object out of the
# request altogether (neither moved nor used as a destination: "any bowl except the blue
# one"); `leave`-like ones only keep it where it is (something may still go on it).
_EXCLUDE_BEFORE = ("except for", "except", "leave out", "apart from", "other than", "but not", "excluding", "that is not",
                   "which is not", "that isn't", "which isn't", "skip", "ignore", "never mind")
_KEEP_BEFORE = ("keep your hands off", "hands off", "do not touch", "don't touch", "dont touch",
                "do not move", "don't move", "dont move", "never touch", "never move", "do not disturb",
                "don't disturb", "without touching", "without moving", "without disturbing",
                "do not do anything with", "don't do anything with")
# "leave" and "keep" keep an object only when what follows says so ("leave the red block
# alone", "keep it where it is"), not in "leave the red block in the bowl".
_LEAVE = ("leave", "keep")
_LEAVE_ENDS = ("alone", "where", "as", "untouched", "be", "in place", "still", "out of it", "there")
# Markers after the object they keep: "the red block stays where it is".
_KEEP_AFTER = ("stays", "stay", "must not move", "must stay", "should stay", "should not move",
               "shouldn't move", "remains", "does not move", "doesn't move", "is to stay", "can stay",
               "can remain", "should remain", "must remain") + tuple(
    f"{be} {fine} {where}" for be in ("is", "are") for fine in ("fine", "ok", "okay", "good", "alright", "all right")
    for where in ("where it is", "where they are", "as it is", "as they are", "as is", "there"))
# "everything but the black block", "all the cups but the blue one": "but" after a quantifier
# and only object words leaves out what follows (a bare "but" is also the conjunction).
_QUANTIFIERS = ("everything", "anything", "all", "every", "each", "any")
_PHRASE_WORDS = frozenset(("the", "a", "an", "one", "ones", "both"))


@dataclass
class LeftAlone:
    """Objects the instruction leaves out: `kept` may not move; `excluded` may neither
    move nor take anything in or on it."""

    kept: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.kept or self.excluded)


def _in_phrase(word: str) -> bool:
    """Whether a word can stand in a noun phrase that names objects by colour and type."""
    return (word in COLOURS or _type_word(word) is not None or word in _PHRASE_WORDS or word in SIZE_WORDS
            or word in MATERIAL_WORDS)


def _phrase_forward(words: list[str], i: int) -> tuple[list[str], list[str], int]:
    """Colours and types of the noun phrase that starts at `i` ("the red and the green ones"),
    and the index where it ends."""
    colours: list[str] = []
    types: list[str] = []
    j = i
    while j < len(words):
        w = words[j]
        if w in COLOURS:
            colours.append(w)
        elif _type_word(w) is not None:
            types.append(_type_word(w))  # type: ignore[arg-type]
        elif w in ("and", "or", "nor") and colours and j + 1 < len(words) and \
                (words[j + 1] in COLOURS or words[j + 1] in _PHRASE_WORDS):
            pass
        elif not _in_phrase(w):
            break
        j += 1
    return colours, types, j


def phrase_end(words: list[str], i: int) -> int:
    """Where the noun phrase that starts at `i` ends ("the red and the green ones")."""
    return _phrase_forward(words, i)[2]


def _phrase_back(words: list[str], i: int) -> tuple[list[str], list[str]]:
    """Colours and types of the noun phrase that ends just before `i` ("the red block stays")."""
    j = i
    while j > 0 and _in_phrase(words[j - 1]):
        j -= 1
    return _phrase_forward(words[:i], j)[:2]


def _context_type(words: list[str], before: int) -> str | None:
    """The kind a bare 'the red one' stands for: the noun after 'every', 'all', 'each' or
    'any' (or any plural type word), else the nearest type word before the marker."""
    for k, w in enumerate(words):
        if w in PLURAL_TYPE_WORDS:
            return PLURAL_TYPE_WORDS[w]
        if w in ("every", "all", "each", "any") and k + 1 < len(words):
            after = [x for x in words[k + 1:k + 4] if _type_word(x) is not None]
            if after:
                return _type_word(after[0])
    for w in reversed(words[:before]):
        if _type_word(w) is not None:
            return _type_word(w)
    return None


def _resolve(colours: list[str], types: list[str], context: str | None,
             objects: Mapping[str, tuple[str, str]]) -> list[str]:
    if not colours and not types:
        return []  # "it", "that": the language model's to resolve
    kinds = {t for word in (types or ([context] if context else [])) for t in TYPE_WORDS[word]}
    return [n for n, (c, t) in objects.items() if (not colours or c in colours) and (not kinds or t in kinds)]


def _starts(words: list[str], k: int, phrase: str) -> bool:
    """Whether the words from `k` on begin with `phrase` (words separated by spaces)."""
    parts = phrase.split()
    return words[k:k + len(parts)] == parts


def _find(words: list[str], marker: str) -> list[int]:
    """Word indices at which `marker` starts."""
    return [k for k in range(len(words)) if _starts(words, k, marker)]


def _add(names: list[str], into: list[str]) -> None:
    into.extend(n for n in names if n not in into)


def left_alone(instruction: str, objects: Mapping[str, tuple[str, str]]) -> LeftAlone:
    """The objects the instruction says to leave out ("every block except the red one",
    "leave the pink block alone", "the green cup stays where it is"), among the perceived
    `objects` (name -> (colour, type)). Only what a colour or type word names is resolved;
    "the one on the left" or "it" is left to the language model."""
    out = LeftAlone()
    for sentence in re.split(r"[.!?;]+", instruction):
        words = _words(sentence)
        for markers, into in ((_EXCLUDE_BEFORE, out.excluded), (_KEEP_BEFORE, out.kept)):
            for marker in markers:
                for k in _find(words, marker):
                    colours, types, _ = _phrase_forward(words, k + len(marker.split()))
                    _add(_resolve(colours, types, _context_type(words, k), objects), into)
        for k, word in enumerate(words):
            if word == "but" and any(words[q] in _QUANTIFIERS and all(_in_phrase(w) for w in words[q + 1:k])
                                     for q in range(max(0, k - 5), k)):
                colours, types, _ = _phrase_forward(words, k + 1)
                _add(_resolve(colours, types, _context_type(words, k), objects), out.excluded)
            if word in _LEAVE:
                colours, types, end = _phrase_forward(words, k + 1)
                if any(_starts(words, end, e) for e in _LEAVE_ENDS):
                    _add(_resolve(colours, types, _context_type(words, k), objects), out.kept)
        for marker in _KEEP_AFTER:
            for k in _find(words, marker):
                colours, types = _phrase_back(words, k)
                _add(_resolve(colours, types, None, objects), out.kept)
    out.kept = [n for n in out.kept if n not in out.excluded]
    return out
