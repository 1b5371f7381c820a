"""Objects named by where they are, resolved to their names before the model reads them.

"Take the block from the right-hand side and put it in the bowl" reads as "take the
orange block and put it in the bowl" when the orange block is the only block on the
right. The prompt already tells the model where everything is, but a small model reads
those references less reliably than names, so the planner resolves what it can from
the perceived scene: a region ("on the left", "in the middle", "the leftmost", "the
right-hand one"), a neighbour ("next to", "near", "beside", "closest to" the green bowl)
or its opposite ("far from", "away from"), a side of another object ("to the left of the
red block"), what holds it ("the block out of the bowl"), its size ("the biggest block"),
and "all the blocks on the left".

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
from collections.abc import Callable

from robollm.planner.grounding import TYPE_WORDS
from robollm.planner.phrases import (
    CLAUSE_END,
    COUNT_LEADS,
    Phrase,
    Table,
    candidates,
    count_phrase,
    kind_of,
    listing,
    match_at,
    name_of,
    noun_phrase,
    replace_spans,
    tokens,
)

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
_NAMING = frozenset(("except", "for", "from", "than", "not", "skip", "ignore", "leave", "excluding", "but", "touch",
                     "move"))


def _place(words: list[str], i: int) -> tuple[str, int] | None:
    """A region phrase at `i` ('on the left-hand side of the table', 'in the middle', 'on
    the far right'): its region and how many words it takes."""
    j = i
    prep = match_at(words, j, _PLACE_PREPS + _SOURCE + _EXTREME)
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


def _destination_after(words: list[str], i: int) -> bool:
    """Whether the clause from `i` on still says where something goes."""
    for w in words[i:]:
        if w in CLAUSE_END:
            return False
        if w in _DESTINATION:
            return True
    return False


def modifier(words: list[str], j: int, table: Table,
             before_dest: bool) -> tuple[Callable[[list[str]], list[str]], int, str | None] | None:
    """The restriction a phrase after a noun puts on its candidates, where it ends, and the
    neighbour it names (if any)."""
    k = j + (words[j:j + 1] == [","])
    rel = match_at(words, k, _RELATIVE + (("are",) if "whatever" in words[max(0, j - 4):j] else ()))
    k += rel
    place = _place(words, k)
    if place is not None:
        side, n = place
        extreme = match_at(words, k, _EXTREME) > 0 or words[k + 2:k + 3] == ["far"]
        source = words[k] in _SOURCE or extreme
        if not (rel or source or before_dest or _destination_after(words, k + n)):
            return None
        return (lambda c, s=side, e=extreme: _in_region(table, c, s, e)), k + n, None
    for group, mode in ((_OUT_OF, "out"), (_HELD_IN, "in"), (_LEFT_OF, "left"), (_RIGHT_OF, "right"),
                        (_NEAREST, "nearest"), (_NEAR, "near"), (_FAR, "far")):
        n = match_at(words, k, group)
        if not n:
            continue
        other = noun_phrase(words, k + n)
        if other is None or other.plural:
            return None
        refs = candidates(table, other)
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


def _back_reference(words: list[str], i: int, mentioned: dict[str, str]) -> tuple[str, int] | None:
    """'that bowl', 'this cube', 'the same plate' at `i`: the object of that kind named last,
    and how many words the phrase takes."""
    n = match_at(words, i, ("that same", "this same", "that", "this", "the same"))
    if not n or i + n >= len(words) or words[i + n] not in TYPE_WORDS:
        return None
    kind = kind_of(words[i + n])
    return (mentioned[kind], n + 1) if kind in mentioned else None


def _counted_from(table: Table, cands: list[str], ordinal: int, side: str) -> str | None:
    """The `ordinal`-th of the candidates on the table counted from one side, when positions
    are known and the count reaches."""
    on_table = [o for o in cands if table.state.relation.get(o) == "at"]
    if table.leftness is None or len(on_table) != len(cands) or not -len(cands) <= ordinal < len(cands):
        return None
    order = sorted(on_table, key=table.leftness, reverse=side == "left")
    return order[ordinal]


def _by_size(table: Table, cands: list[str], phrase: Phrase) -> list[str] | None:
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
    toks = tokens(text)
    words = [t[0] for t in toks]
    spans: list[tuple[int, int, str]] = []
    mentioned: dict[str, str] = {}  # kind -> the object of that kind named last
    i = 0
    while i < len(words):
        counted = count_phrase(words, i, table)
        if counted is not None:
            chosen, end = counted
            first = i + match_at(words, i, COUNT_LEADS) if words[i] not in ("any", "just", "only") else i
            spans.append((toks[first][1], toks[end - 1][2], listing(chosen)))
            i = end
            continue
        back = _back_reference(words, i, mentioned)
        if back is not None:  # "into that bowl": the bowl named last
            spans.append((toks[i][1], toks[i + back[1] - 1][2], name_of(back[0])))
            i += back[1]
            continue
        phrase = noun_phrase(words, i)
        if phrase is None:
            i += 1
            continue
        # after "in" (a destination) or "except", "skip" (what is left out), a place names the object
        before_dest = i > 0 and (words[i - 1] in _DESTINATION or words[i - 1] in _NAMING)
        cands = candidates(table, phrase)
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
                spans.append((toks[phrase.start][1], toks[phrase.end + 2][2], name_of(picked)))
                mentioned[phrase.kind] = picked
                i = phrase.end + 3
                continue
            i += 1
            continue
        mod = modifier(words, phrase.end, table, before_dest)
        if mod is not None:
            keep, end, ref = mod
            filtered = keep(filtered)
        changed = mod is not None or phrase.region is not None or by_size is not None
        if changed and filtered and (len(filtered) == 1 or phrase.plural):
            spans.append((toks[phrase.start][1], toks[end - 1][2], listing(sorted(filtered, key=list(table.objects).index))))
            if len(filtered) == 1:
                mentioned[phrase.kind] = filtered[0]
            if mod is not None and ref is not None:
                mentioned[table.objects[ref][1]] = ref
            i = end
            continue
        if len(cands) == 1 and not phrase.plural:
            mentioned[phrase.kind] = cands[0]
        i += 1
    return replace_spans(text, spans)
