"""'All the blocks', 'every cube', 'both cups', 'everything': the objects they stand for,
listed by name before the model reads the instruction (the last step of
`robollm.planner.reading`)."""

from __future__ import annotations

import re

from robollm.planner.grounding import PLURAL_TYPE_WORDS
from robollm.planner.left_alone import left_alone, phrase_end
from robollm.planner.phrases import (
    Phrase,
    Table,
    and_list,
    candidates,
    kind_of,
    listing,
    match_at,
    name_of,
    noun_phrase,
    replace_spans,
    tokens,
)
from robollm.planner.references import modifier

_EVERYTHING = ("everything", "all the objects", "all objects", "every object", "all the things", "all things")
_SMALL_TYPES = ("block", "cup")  # what "everything" takes: what one hand picks and puts somewhere
_EXCEPT = ("except for", "except", "apart from", "other than", "but not", "but", "excluding", "save for")


def _every(words: list[str], phrase: Phrase, cands: list[str],
           left_out: set[str]) -> tuple[list[str], int] | None:
    """The members of 'all the blocks' (less what the instruction leaves out), and where the
    phrase ends, with an exception right after it ("except the red one") taken in."""
    members = [o for o in cands if o not in left_out]
    if not members or (phrase.number is not None and phrase.number != len(cands)):
        return None
    end = phrase.end
    k = end + (words[end:end + 1] == [","])
    n = match_at(words, k, _EXCEPT)
    if n:
        j = phrase_end(words, k + n)  # "the red one", "the red and the blue ones"
        if j > k + n and left_out:
            end = j
    return members, end


# Requests that pair each object with its own destination ("every block in the bowl of its
# colour", "sort the blocks into the bowls") or put them in an order ("stack the blocks top
# to bottom: ...") are left to the model: a list in the scene's order would say otherwise.
_EACH_OWN = frozenset("same its their matching matches match corresponding respective own sort by order "
                      "stack tower pile top bottom build".split())


# "every block in the bowl of its colour", "match the cups with the plates of their colours"
_COLOUR_MATCH = re.compile(r"\b(?:(?:its|their) (?:own )?colou?rs?|(?:the )?same colou?r|matching colou?rs?|"
                           r"matches its colou?r|shares its colou?r|by colou?r|same-colou?red)\b")
_INTO = {"bowl": "in", "cup": "in", "tray": "in", "box": "in", "plate": "on", "block": "on"}


def pair_by_colour(text: str, words: list[str], table: Table, left_out: set[str]) -> str | None:
    """A one-sentence request that sends every object of a kind to the holder of its colour,
    put as the pairs it asks for: "put each block in the bowl of its colour" -> "put the red
    block in the red bowl and the blue block in the blue bowl". Objects already there, left
    out, or without exactly one holder of their colour on the table are not named; None
    when the request is not of this form or names no pair."""
    if re.search(r"[.;!?].", text.strip()) or not _COLOUR_MATCH.search(text.lower().replace("color", "colour")):
        return None
    kinds = [k for k in map(kind_of, words) if k is not None]
    quantified = any(w in ("every", "each", "all", "both") for w in words) or any(w in PLURAL_TYPE_WORDS for w in words)
    if len(set(kinds)) != 2 or not quantified:
        return None
    kind, holder_kind = kinds[0], next(k for k in kinds if k != kinds[0])
    holders = {n: c for n, (c, t) in table.objects.items() if t == holder_kind and n not in left_out}
    pairs = []
    for name, (colour, t) in table.objects.items():
        matching = [h for h, c in holders.items() if c == colour]
        if t == kind and name not in left_out and len(matching) == 1 and table.state.parent.get(name) != matching[0]:
            pairs.append(f"{name_of(name)} {_INTO.get(holder_kind, 'on')} {name_of(matching[0])}")
    if not pairs:
        return None
    return "put " + and_list(pairs)


def expand_every(text: str, table: Table) -> tuple[str, list[tuple[str, str]]]:
    """`text` with 'all the blocks', 'every cube', 'both cups', 'the blocks' and 'everything'
    (a block or a cup) put as the list of those objects on the table, less what the
    instruction leaves out (robollm.planner.left_alone), with an exception right after the
    phrase taken in: "put every block except the red one in the bowl" -> "put the blue block
    and the green block in the bowl"; a request to send each to the holder of its colour as
    the pairs (`pair_by_colour`)."""
    toks = tokens(text)
    words = [t[0] for t in toks]
    gone = left_alone(text, table.objects)
    left_out = set(gone.kept) | set(gone.excluded)
    paired = pair_by_colour(text, words, table, left_out)
    if paired is not None:
        return paired, [(text, paired)]
    if _EACH_OWN & set(words) or len({PLURAL_TYPE_WORDS[w] for w in words if w in PLURAL_TYPE_WORDS}) > 1:
        return text, []
    spans: list[tuple[int, int, str]] = []
    i = 0
    while i < len(words):
        everything = match_at(words, i, _EVERYTHING)
        if everything:
            phrase: Phrase | None = Phrase(i, i + everything, None, "block", True, every=True)
            cands = [o for o, (_, t) in table.objects.items() if t in _SMALL_TYPES]
        else:
            phrase = noun_phrase(words, i)
            cands = candidates(table, phrase) if phrase is not None else []
        expanded = None
        partitive = i > 0 and words[i - 1] == "of"  # "of the three blocks, ... the middle one": not all of them
        if phrase is not None and phrase.every and phrase.region is None and phrase.ordinal is None and \
                not partitive and modifier(words, phrase.end, table, False) is None:
            expanded = _every(words, phrase, cands, left_out)
        if expanded is None:
            i += 1
            continue
        members, end = expanded
        spans.append((toks[i][1], toks[end - 1][2], listing(members)))
        i = end
    return replace_spans(text, spans)
