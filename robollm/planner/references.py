"""Objects named by where they are, resolved to their names before the model reads them.

"Take the block from the right-hand side and put it in the bowl" reads as "take the
orange block and put it in the bowl" when the orange block is the only block on the
right. The prompt already tells the model where everything is, but a small model reads
those references less reliably than names, so the planner resolves what it can from
the perceived scene: a region ("on the left", "in the middle", "the leftmost", "the
right-hand one"), a neighbour ("next to", "near", "beside", "closest to" the green bowl)
or its opposite ("far from", "away from"), and "all the blocks on the left".

It prefers precision to recall: a phrase is replaced only when exactly one object (or,
for "all the ...", at least one) fits it and every object of that kind and colour on
the table was considered; a place right after an object is read as naming it only when
a relative word says so ("that is on the left", "from the left") or the sentence still
says where the object goes ("put the block on the left in the bowl"; in "put the block
on the left" the place is where it goes). Ordinals count along the table ("the second
block from the left") where positions are known; pronouns stay with the model. Count
words take the first objects of the kind that the scene lists ("put two of the blocks in
the bowl": any two would do).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from robollm.planner.grounding import PLURAL_TYPE_WORDS, SIZE_WORDS, TYPE_WORDS
from robollm.planner.left_alone import left_alone
from robollm.world.scene import COLOUR_SPELLINGS, COLOURS
from robollm.world.symbolic import SymbolicState

_SIDE = {"left": "left", "right": "right", "middle": "middle", "centre": "middle", "center": "middle"}
_RELATIVE = ("that is", "that's", "which is", "that are", "which are", "that sits", "which sits", "sitting",
             "that stands", "standing", "that lies", "lying", "located", "that is sitting", "that is standing")
_SOURCE = ("from", "off")  # "the block from the left": always where the object is
_EXTREME = ("furthest to", "farthest to", "furthest on", "farthest on", "most to")  # "the block furthest to the left"
_PLACE_PREPS = ("over on", "on", "at", "in", "to", "toward", "towards", "over to")
_OUT_OF = ("out of", "from inside", "from in", "from", "off")  # "the block out of the bowl": where it is now
_HELD_IN = ("inside of", "inside", "in", "on top of", "on")  # "the block that is in the bowl"
_LEFT_OF = ("to the left of", "on the left of", "left of")
_RIGHT_OF = ("to the right of", "on the right of", "right of")
_NEAR = ("right next to", "next to", "near to", "near", "beside", "close to", "alongside", "by")
_NEAREST = ("nearest to", "nearest", "closest to", "closest")
_FAR = ("far away from", "far from", "away from", "furthest from", "farthest from", "further from",
        "farther from", "not near", "not next to")
_DESTINATION = frozenset(("in", "into", "on", "onto", "inside", "to", "next", "beside", "under", "below",
                          "beneath", "underneath", "between", "atop"))
_CLAUSE_END = frozenset(".;!?")


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
        """The neighbour the prompt names for an object on the table (robollm.planner.
        scene_text): the closest of those near it, or the first listed without distances."""
        if self.state.relation.get(name) != "at":
            return None
        close = [o for o in self.objects if o != name and self.is_near(name, o) and self.state.relation.get(o) == "at"]
        if not close:
            return None
        return min(close, key=lambda o: self.distance(name, o)) if self.distance else close[0]


@dataclass
class _Phrase:
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


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0).lower(), m.start(), m.end())
            for m in re.finditer(r"[A-Za-z]+(?:'[a-z]+)?|[.,;:!?]", text.replace("’", "'"))]


def _at(words: list[str], i: int, phrases: tuple[str, ...]) -> int:
    """How many words the first of `phrases` found at `i` takes (0: none)."""
    for p in sorted(phrases, key=lambda p: -len(p.split())):
        parts = p.split()
        if words[i:i + len(parts)] == parts:
            return len(parts)
    return 0


def _noun_phrase(words: list[str], i: int) -> _Phrase | None:
    """'the red block', 'all the blocks', 'every cube', 'the leftmost bowl', 'the one' at `i`."""
    j, plural_lead = i, False
    lead = _at(words, j, ("all of the", "all the", "all", "both the", "both", "every", "each", "any", "the",
                          "whatever", "whichever"))
    bare = not lead and (i == 0 or words[i - 1] in _CLAUSE_END or words[i - 1] in (",", ":")) and \
        words[i] in PLURAL_TYPE_WORDS  # "blocks into the bowl please"
    if not lead and not bare:
        return None
    plural_lead = words[j] in ("all", "whatever", "whichever", "both")
    every = words[j] in ("every", "each")
    quantified = bare or words[j] in ("all", "every", "each", "both", "the")
    j += lead
    number = _NUMBERS.get(words[j]) if j < len(words) and words[i] in ("all", "the", "both") and \
        words[j] in ("two", "three", "four", "five") else None
    if number is not None:
        j += 1
    region = colour = size = None
    extreme = False
    ordinal = None
    while j < len(words):
        w = COLOUR_SPELLINGS.get(words[j], words[j])
        if w in _ORDINALS and ordinal is None and words[i] == "the":
            ordinal, j = _ORDINALS[w], j + 1
        elif w in SIZE_WORDS:
            size = _SIZES.get(w, size)
            j += 1
        elif w in COLOURS and colour is None:
            colour, j = w, j + 1
        elif w in ("left", "right", "leftmost", "rightmost") and region is None:
            region, extreme, j = w.removesuffix("most"), w.endswith("most"), j + 1
        elif w in ("middle", "centre", "center") and region is None and j + 1 < len(words) and \
                (words[j + 1] in TYPE_WORDS or words[j + 1] in PLURAL_TYPE_WORDS or words[j + 1] == "one"
                 or COLOUR_SPELLINGS.get(words[j + 1], words[j + 1]) in COLOURS):
            region, j = "middle", j + 1
        else:
            break
    if j >= len(words):
        return None
    w = words[j]
    if w in TYPE_WORDS:
        kind, plural = TYPE_WORDS[w][0], False
    elif w in PLURAL_TYPE_WORDS:
        kind, plural = TYPE_WORDS[PLURAL_TYPE_WORDS[w]][0], True
    elif w in ("one", "ones"):  # a member of the last group named ("of the blocks", "every cube")
        before = [TYPE_WORDS[PLURAL_TYPE_WORDS.get(x, x)][0] for k, x in enumerate(words[:i])
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
    return _Phrase(i, j + 1, colour, kind, plural, region, extreme, ordinal, quantified and plural, number, size)


def _place(words: list[str], i: int) -> tuple[str, int] | None:
    """A region phrase at `i` ('on the left-hand side of the table', 'in the middle', 'on
    the far right'): its region and how many words it takes."""
    j = i
    prep = _at(words, j, _PLACE_PREPS + _SOURCE + _EXTREME)
    if not prep or words[j + prep:j + prep + 1] != ["the"]:
        return None
    j += prep + 1
    if words[j:j + 1] == ["far"]:
        j += 1
    side = _SIDE.get(words[j]) if j < len(words) else None
    if side is None:
        return None
    j += 1
    if side != "middle" and words[j:j + 1] == ["hand"]:
        j += 1
    if words[j:j + 1] == ["side"]:
        j += 1
    if words[j:j + 3] == ["of", "the", "table"]:
        j += 3
    elif words[j:j + 1] == ["of"]:
        return None  # "to the left of the bowl": beside an object, not a region
    return side, j - i


def _candidates(table: Table, phrase: _Phrase) -> list[str]:
    return [n for n, (c, t) in table.objects.items() if t == phrase.kind
            and (phrase.colour is None or c == phrase.colour)]


def _destination_after(words: list[str], i: int) -> bool:
    """Whether the clause from `i` on still says where something goes."""
    for w in words[i:]:
        if w in _CLAUSE_END:
            return False
        if w in _DESTINATION:
            return True
    return False


def _name(name: str) -> str:
    return "the " + name.replace("_", " ")


def _and(names: list[str]) -> str:
    named = [_name(n) for n in names]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def _modifier(words: list[str], j: int, table: Table,
              before_dest: bool) -> tuple[Callable[[list[str]], list[str]], int, str | None] | None:
    """The restriction a phrase after a noun puts on its candidates, where it ends, and the
    neighbour it names (if any)."""
    k = j + (words[j:j + 1] == [","])
    rel = _at(words, k, _RELATIVE + (("are",) if "whatever" in words[max(0, j - 4):j] else ()))
    k += rel
    place = _place(words, k)
    if place is not None:
        side, n = place
        extreme = _at(words, k, _EXTREME) > 0 or words[k + 2:k + 3] == ["far"]
        source = words[k] in _SOURCE or extreme
        if not (rel or source or before_dest or _destination_after(words, k + n)):
            return None
        return (lambda c, s=side, e=extreme: _in_region(table, c, s, e)), k + n, None
    for group, mode in ((_OUT_OF, "out"), (_HELD_IN, "in"), (_LEFT_OF, "left"), (_RIGHT_OF, "right"),
                        (_NEAREST, "nearest"), (_NEAR, "near"), (_FAR, "far")):
        n = _at(words, k, group)
        if not n:
            continue
        other = _noun_phrase(words, k + n)
        if other is None or other.plural:
            return None
        refs = _candidates(table, other)
        if other.region is not None:
            refs = [o for o in refs if table.region(o) == other.region]
        if len(refs) != 1:
            return None
        if not (rel or mode == "out" or before_dest or _destination_after(words, other.end)):
            return None
        ref = refs[0]
        if mode in ("out", "in"):
            keep = _inside_filter(table, ref)
        elif mode in ("left", "right"):
            if table.leftness is None:
                return None
            keep = _side_filter(table, ref, mode)
        else:
            keep = _near_filter(table, ref, mode)
        return keep, other.end, ref
    return None


_SIZES = {**{w: "max" for w in ("big", "bigger", "biggest", "large", "larger", "largest", "tall", "taller",
                                 "tallest", "huge", "wide")},
          **{w: "min" for w in ("small", "smaller", "smallest", "little", "tiny", "short", "shorter", "narrow")}}
_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "a couple of": 2, "a pair of": 2,
            **{str(n): n for n in range(1, 6)}}
_COUNT_LEADS = ("any", "just", "only", "put", "move", "place", "take", "drop", "get", "bring", "pick up", "grab",
                "set", "stack", "carry", "shift")


def _count(words: list[str], i: int, table: Table) -> tuple[list[str], int] | None:
    """'two of the blocks', 'any three cubes', 'put two red blocks ...': as many objects of
    that kind (and colour) standing on the table, the first the scene lists, and where the
    phrase ends; None when the table has too few."""
    lead = _at(words, i, _COUNT_LEADS)
    k = i + lead
    n_words = _at(words, k, tuple(_NUMBERS))
    if not lead or not n_words:
        return None
    count = _NUMBERS[" ".join(words[k:k + n_words])]
    k += n_words
    of_the = _at(words, k, ("of the", "of these", "of those"))
    if of_the:
        k += of_the
    elif words[i] not in ("any", "just", "only") and not (count > 1 or words[k - 1] in ("of",)):
        return None
    colour = COLOUR_SPELLINGS.get(words[k], words[k]) if k < len(words) else None
    if colour in COLOURS:
        k += 1
    else:
        colour = None
    if k >= len(words):
        return None
    noun = words[k]
    kind_word = PLURAL_TYPE_WORDS.get(noun) if count > 1 or of_the else (noun if noun in TYPE_WORDS else None)
    if kind_word is None:
        return None
    kind = TYPE_WORDS[kind_word][0]
    cands = [o for o, (c, t) in table.objects.items() if t == kind and (colour is None or c == colour)
             and table.state.relation.get(o) == "at"]
    if len(cands) < count:
        return None
    return cands[:count], k + 1


_NAMING = frozenset(("except", "for", "from", "than", "not", "skip", "ignore", "leave", "excluding", "but", "touch",
                     "move"))
_EVERYTHING = ("everything", "all the objects", "all objects", "every object", "all the things", "all things")
_SMALL_TYPES = ("block", "cup")  # what "everything" takes: what one hand picks and puts somewhere
_EXCEPT = ("except for", "except", "apart from", "other than", "but not", "but", "excluding", "save for")


def _every(words: list[str], phrase: _Phrase, cands: list[str],
           left_out: set[str]) -> tuple[list[str], int] | None:
    """The members of 'all the blocks' (less what the instruction leaves out), and where the
    phrase ends, with an exception right after it ("except the red one") taken in."""
    members = [o for o in cands if o not in left_out]
    if not members or (phrase.number is not None and phrase.number != len(cands)):
        return None
    end = phrase.end
    k = end + (words[end:end + 1] == [","])
    n = _at(words, k, _EXCEPT)
    if n:
        j = k + n
        while j < len(words) and (words[j] in ("the", "a", "and", "one", "ones", "or") or
                                  COLOUR_SPELLINGS.get(words[j], words[j]) in COLOURS or words[j] in TYPE_WORDS
                                  or words[j] in PLURAL_TYPE_WORDS):
            j += 1
        if j > k + n and left_out:
            end = j
    return members, end


def _back_reference(words: list[str], i: int, mentioned: dict[str, str]) -> tuple[str, int] | None:
    """'that bowl', 'this cube', 'the same plate' at `i`: the object of that kind named last,
    and how many words the phrase takes."""
    n = _at(words, i, ("that same", "this same", "that", "this", "the same"))
    if not n or i + n >= len(words) or words[i + n] not in TYPE_WORDS:
        return None
    kind = TYPE_WORDS[words[i + n]][0]
    return (mentioned[kind], n + 1) if kind in mentioned else None


def _counted_from(table: Table, cands: list[str], ordinal: int, side: str) -> str | None:
    """The `ordinal`-th of the candidates on the table counted from one side, when positions
    are known and the count reaches."""
    on_table = [o for o in cands if table.state.relation.get(o) == "at"]
    if table.leftness is None or len(on_table) != len(cands) or not -len(cands) <= ordinal < len(cands):
        return None
    order = sorted(on_table, key=table.leftness, reverse=side == "left")
    return order[ordinal]


def _by_size(table: Table, cands: list[str], phrase: _Phrase) -> list[str] | None:
    """The biggest (or smallest) of two or more candidates, when its size stands out by a
    fifth; None when sizes are unknown, there is nothing to choose, or it does not stand out."""
    if phrase.size is None or phrase.plural or table.size is None or len(cands) < 2:
        return None
    ranked = sorted(cands, key=table.size, reverse=phrase.size == "max")
    first, second = table.size(ranked[0]), table.size(ranked[1])
    if abs(first - second) < 0.2 * max(first, second):
        return None
    return ranked[:1]


def _in_region(table: Table, cands: list[str], side: str, extreme: bool) -> list[str]:
    """The candidates in a region; for "furthest to the left", "the leftmost", "on the far
    left", the one furthest that way when positions are known."""
    inside = [o for o in cands if table.region(o) == side]
    if extreme and side != "middle" and table.leftness is not None and len(inside) > 1:
        sign = 1.0 if side == "left" else -1.0
        return [max(inside, key=lambda o: sign * table.leftness(o))]
    return inside


def _inside_filter(table: Table, ref: str) -> Callable[[list[str]], list[str]]:
    return lambda cands: [o for o in cands if table.state.parent.get(o) == ref
                          and table.state.relation.get(o) in ("in", "on")]


def _side_filter(table: Table, ref: str, side: str) -> Callable[[list[str]], list[str]]:
    """Those on that side of `ref` (along the table); of several, the closest."""
    assert table.leftness is not None
    sign = 1.0 if side == "left" else -1.0

    def keep(cands: list[str]) -> list[str]:
        there = [o for o in cands if o != ref and sign * (table.leftness(o) - table.leftness(ref)) > 0]
        if len(there) > 1 and table.distance is not None:
            return [min(there, key=lambda o: table.distance(o, ref))]
        return there
    return keep


def _near_filter(table: Table, ref: str, mode: str) -> Callable[[list[str]], list[str]]:
    def keep(cands: list[str]) -> list[str]:
        cands = [o for o in cands if o != ref]
        if mode == "near":
            close = [o for o in cands if table.is_near(o, ref)]
            named = [o for o in close if table.neighbour(o) == ref]  # as the prompt says it
            return named if len(close) > 1 and len(named) == 1 else close
        if table.distance is not None and cands:
            dist = {o: table.distance(o, ref) for o in cands}
            best = (min if mode == "nearest" else max)(dist.values())
            return [o for o in cands if math.isclose(dist[o], best)]
        if mode == "nearest":
            return [o for o in cands if table.is_near(o, ref)]
        return [o for o in cands if not table.is_near(o, ref)]
    return keep


def resolve_places(text: str, table: Table) -> tuple[str, list[tuple[str, str]]]:
    """`text` with objects named by place or neighbour replaced by their names, and the
    (phrase, replacement) pairs."""
    toks = _tokens(text)
    words = [t[0] for t in toks]
    spans: list[tuple[int, int, str]] = []
    mentioned: dict[str, str] = {}  # kind -> the object of that kind named last
    i = 0
    while i < len(words):
        counted = _count(words, i, table)
        if counted is not None:
            chosen, end = counted
            first = i + _at(words, i, _COUNT_LEADS) if words[i] not in ("any", "just", "only") else i
            spans.append((toks[first][1], toks[end - 1][2], _and(chosen)))
            i = end
            continue
        back = _back_reference(words, i, mentioned)
        if back is not None:  # "into that bowl": the bowl named last
            spans.append((toks[i][1], toks[i + back[1] - 1][2], _name(back[0])))
            i += back[1]
            continue
        phrase = _noun_phrase(words, i)
        if phrase is None:
            i += 1
            continue
        # after "in" (a destination) or "except", "skip" (what is left out), a place names the object
        before_dest = i > 0 and (words[i - 1] in _DESTINATION or words[i - 1] in _NAMING)
        cands = _candidates(table, phrase)
        end, filtered = phrase.end, cands
        if phrase.region is not None:
            filtered = _in_region(table, cands, phrase.region, phrase.extreme)
        by_size = _by_size(table, filtered, phrase)
        if by_size is not None:  # "the biggest block", "the small cup" among several
            filtered = by_size
        if phrase.ordinal is not None:  # "the second block from the left": counted along the table
            side = words[phrase.end + 2:phrase.end + 3] if words[phrase.end:phrase.end + 2] == ["from", "the"] else []
            picked = _counted_from(table, cands, phrase.ordinal, side[0]) if side and side[0] in ("left", "right") \
                else None
            if picked is not None:
                spans.append((toks[phrase.start][1], toks[phrase.end + 2][2], _name(picked)))
                mentioned[phrase.kind] = picked
                i = phrase.end + 3
                continue
            i += 1
            continue
        mod = _modifier(words, phrase.end, table, before_dest)
        if mod is not None:
            keep, end, ref = mod
            filtered = keep(filtered)
        changed = mod is not None or phrase.region is not None or by_size is not None
        if changed and filtered and (len(filtered) == 1 or phrase.plural):
            spans.append((toks[phrase.start][1], toks[end - 1][2], _and(sorted(filtered, key=list(table.objects).index))))
            if len(filtered) == 1:
                mentioned[phrase.kind] = filtered[0]
            if mod is not None and ref is not None:
                mentioned[table.objects[ref][1]] = ref
            i = end
            continue
        if len(cands) == 1 and not phrase.plural:
            mentioned[phrase.kind] = cands[0]
        i += 1
    return _replace(text, spans)


def _replace(text: str, spans: list[tuple[int, int, str]]) -> tuple[str, list[tuple[str, str]]]:
    out, last, changes = [], 0, []
    for start, stop, new in spans:
        out += [text[last:start], new]
        changes.append((text[start:stop], new))
        last = stop
    out.append(text[last:])
    return "".join(out), changes


# Requests that pair each object with its own destination ("every block in the bowl of its
# colour", "sort the blocks into the bowls") or put them in an order ("stack the blocks top
# to bottom: ...") are left to the model: a list in the scene's order would say otherwise.
_EACH_OWN = frozenset("same its their matching matches match corresponding respective own sort by order "
                      "stack tower pile top bottom build".split())


def expand_every(text: str, table: Table) -> tuple[str, list[tuple[str, str]]]:
    """`text` with 'all the blocks', 'every cube', 'both cups', 'the blocks' and 'everything'
    (a block or a cup) put as the list of those objects on the table, less what the
    instruction leaves out (robollm.planner.left_alone), with an exception right after the
    phrase taken in: "put every block except the red one in the bowl" -> "put the blue block
    and the green block in the bowl"."""
    toks = _tokens(text)
    words = [t[0] for t in toks]
    if _EACH_OWN & set(words) or len({PLURAL_TYPE_WORDS[w] for w in words if w in PLURAL_TYPE_WORDS}) > 1:
        return text, []
    gone = left_alone(text, table.objects)
    left_out = set(gone.kept) | set(gone.excluded)
    spans: list[tuple[int, int, str]] = []
    i = 0
    while i < len(words):
        everything = _at(words, i, _EVERYTHING)
        if everything:
            phrase: _Phrase | None = _Phrase(i, i + everything, None, "block", True, every=True)
            cands = [o for o, (_, t) in table.objects.items() if t in _SMALL_TYPES]
        else:
            phrase = _noun_phrase(words, i)
            cands = _candidates(table, phrase) if phrase is not None else []
        expanded = None
        partitive = i > 0 and words[i - 1] == "of"  # "of the three blocks, ... the middle one": not all of them
        if phrase is not None and phrase.every and phrase.region is None and phrase.ordinal is None and \
                not partitive and _modifier(words, phrase.end, table, False) is None:
            expanded = _every(words, phrase, cands, left_out)
        if expanded is None:
            i += 1
            continue
        members, end = expanded
        spans.append((toks[i][1], toks[end - 1][2], _and(members)))
        i = end
    return _replace(text, spans)
