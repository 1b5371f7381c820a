"""The words of a request that name objects, and the table they are resolved on.

`robollm.planner.references` (places, neighbours, ordinals, counts) and
`robollm.planner.every` ("all the blocks") read instructions with these: a noun phrase
("the small red block", "all the cubes", "every cup", "the leftmost bowl", "the one"),
the objects of the table it may stand for, and the text with phrases replaced by names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from robollm.planner.grounding import PLURAL_TYPE_WORDS, SIZE_WORDS, TYPE_WORDS
from robollm.planner.scene_text import listed_neighbour
from robollm.world.scene import COLOUR_SPELLINGS, COLOURS
from robollm.world.symbolic import SymbolicState

CLAUSE_END = frozenset(".;!?")
# "the biggest block" takes the largest of several, "the small cup" the smallest
SIZES = {**{w: "max" for w in ("big", "bigger", "biggest", "large", "larger", "largest", "tall", "taller",
                               "tallest", "huge", "wide")},
         **{w: "min" for w in ("small", "smaller", "smallest", "little", "tiny", "short", "shorter", "narrow")}}
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1}
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "a couple of": 2, "a pair of": 2,
           **{str(n): n for n in range(1, 6)}}
# words before a count that asks for that many ("put two blocks ...", "any three cubes")
COUNT_LEADS = ("any", "just", "only", "put", "move", "place", "take", "drop", "get", "bring", "pick up", "grab",
               "set", "stack", "carry", "shift")


@dataclass
class Table:
    """What the resolver needs of a scene: each object's colour and type, the symbolic
    state (regions, what is in or on what), which objects stand close, and, where known,
    the distance between two objects."""

    objects: Mapping[str, tuple[str, str]]  # name -> (colour, type)
    state: SymbolicState
    near: frozenset[frozenset[str]] = frozenset()
    distance: Callable[[str, str], float] | None = None
    leftness: Callable[[str], float] | None = None  # larger further left
    size: Callable[[str], float] | None = None  # metres, where perception measured it

    def region(self, name: str) -> str | None:
        return self.state.region_of(name) if name in self.state.parent else None

    def is_near(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self.near

    def neighbour(self, name: str) -> str | None:
        """The neighbour the prompt names for an object on the table."""
        return listed_neighbour(self.state, name, self.objects, self.near, self.distance)


@dataclass
class Phrase:
    start: int  # first token
    end: int  # one past the last token
    colour: str | None
    kind: str  # perceived type
    plural: bool
    region: str | None = None  # from a word before the noun ("the left block", "the leftmost cube")
    extreme: bool = False  # "the leftmost": the one furthest that way
    ordinal: int | None = None  # "the second block (from the left)": 1, counted from 0; "last": -1
    every: bool = False  # "all the blocks", "every cube", "both cups", "the blocks": each one of them
    number: int | None = None  # "all three cups"
    size: str | None = None  # "the biggest block": "max"; "the small one": "min"


def tokens(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) of each word and punctuation mark, in lower case and with colour
    words in the scene's spelling ("gray" -> "grey")."""
    out = []
    for m in re.finditer(r"[A-Za-z]+(?:'[a-z]+)?|[.,;:!?]", text.replace("’", "'")):
        word = m.group(0).lower()
        out.append((COLOUR_SPELLINGS.get(word, word), m.start(), m.end()))
    return out


def kind_of(word: str) -> str | None:
    """The perceived type a type word names, singular or plural ("cubes" -> "block")."""
    singular = word if word in TYPE_WORDS else PLURAL_TYPE_WORDS.get(word)
    return TYPE_WORDS[singular][0] if singular else None


def match_at(words: list[str], i: int, phrases: tuple[str, ...]) -> int:
    """How many words the first of `phrases` found at `i` takes (0: none)."""
    for p in sorted(phrases, key=lambda p: -len(p.split())):
        parts = p.split()
        if words[i:i + len(parts)] == parts:
            return len(parts)
    return 0


def noun_phrase(words: list[str], i: int) -> Phrase | None:
    """'the red block', 'all the blocks', 'every cube', 'the leftmost bowl', 'the one' at `i`."""
    j, plural_lead = i, False
    lead = match_at(words, j, ("all of the", "all the", "all", "both the", "both", "every", "each", "any", "the",
                          "whatever", "whichever"))
    bare = not lead and (i == 0 or words[i - 1] in CLAUSE_END or words[i - 1] in (",", ":")) and \
        words[i] in PLURAL_TYPE_WORDS  # "blocks into the bowl please"
    if not lead and not bare:
        return None
    plural_lead = words[j] in ("all", "whatever", "whichever", "both")
    every = words[j] in ("every", "each")
    quantified = bare or words[j] in ("all", "every", "each", "both", "the")
    j += lead
    number = NUMBERS.get(words[j]) if j < len(words) and words[i] in ("all", "the", "both") and \
        words[j] in ("two", "three", "four", "five") else None
    if number is not None:
        j += 1
    region = colour = size = None
    extreme = False
    ordinal = None
    while j < len(words):
        w = words[j]
        if w in ORDINALS and ordinal is None and words[i] == "the":
            ordinal, j = ORDINALS[w], j + 1
        elif w in SIZE_WORDS:
            size = SIZES.get(w, size)
            j += 1
        elif w in COLOURS and colour is None:
            colour, j = w, j + 1
        elif w in ("left", "right", "leftmost", "rightmost") and region is None:
            region, extreme, j = w.removesuffix("most"), w.endswith("most"), j + 1
        elif w in ("middle", "centre", "center") and region is None and j + 1 < len(words) and \
                (words[j + 1] in TYPE_WORDS or words[j + 1] in PLURAL_TYPE_WORDS or words[j + 1] == "one"
                 or words[j + 1] in COLOURS):
            region, j = "middle", j + 1
        else:
            break
    if j >= len(words):
        return None
    w = words[j]
    if kind_of(w) is not None:
        kind, plural = kind_of(w), w in PLURAL_TYPE_WORDS
    elif w in ("one", "ones"):  # a member of the last group named ("of the blocks", "every cube")
        before = [kind_of(x) for k, x in enumerate(words[:i])
                  if x in PLURAL_TYPE_WORDS or (x in TYPE_WORDS and k and words[k - 1] in ("every", "each", "any"))]
        if not before:
            return None
        kind, plural = before[-1], w == "ones"
    else:
        return None
    if every:
        plural = True
    if plural_lead and not plural:
        return None
    return Phrase(i, j + 1, colour, kind, plural, region, extreme, ordinal, quantified and plural, number, size)


def candidates(table: Table, phrase: Phrase) -> list[str]:
    return [n for n, (c, t) in table.objects.items() if t == phrase.kind
            and (phrase.colour is None or c == phrase.colour)]


def name_of(name: str) -> str:
    return "the " + name.replace("_", " ")


def and_list(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def listing(names: list[str]) -> str:
    return and_list([name_of(n) for n in names])


def count_phrase(words: list[str], i: int, table: Table) -> tuple[list[str], int] | None:
    """'two of the blocks', 'any three cubes', 'put two red blocks ...': as many objects of
    that kind (and colour) standing on the table, the first the scene lists, and where the
    phrase ends; None when the table has too few."""
    lead = match_at(words, i, COUNT_LEADS)
    k = i + lead
    n_words = match_at(words, k, tuple(NUMBERS))
    if not lead or not n_words:
        return None
    count = NUMBERS[" ".join(words[k:k + n_words])]
    k += n_words
    of_the = match_at(words, k, ("of the", "of these", "of those"))
    if of_the:
        k += of_the
    elif words[i] not in ("any", "just", "only") and not (count > 1 or words[k - 1] in ("of",)):
        return None
    colour = words[k] if k < len(words) else None
    if colour in COLOURS:
        k += 1
    else:
        colour = None
    if k >= len(words):
        return None
    noun = words[k]
    kind = kind_of(noun) if (noun in PLURAL_TYPE_WORDS) == bool(count > 1 or of_the) else None  # "two blocks", "one block"
    if kind is None:
        return None
    cands = [o for o, (c, t) in table.objects.items() if t == kind and (colour is None or c == colour)
             and table.state.relation.get(o) == "at"]
    if len(cands) < count:
        return None
    return cands[:count], k + 1


def replace_spans(text: str, spans: list[tuple[int, int, str]]) -> tuple[str, list[tuple[str, str]]]:
    out, last, changes = [], 0, []
    for start, stop, new in spans:
        out += [text[last:start], new]
        changes.append((text[start:stop], new))
        last = stop
    out.append(text[last:])
    return "".join(out), changes
