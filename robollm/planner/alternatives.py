"""Instructions that offer a choice: "the red block or the blue block".

Either object satisfies such an instruction, so neither should be more useful than the
other; which one to take is the affordance's call (the one that is free, in reach, not
wedged). A language model does not see it that way: it favours whichever is named
first (the tuned planner model puts 0.98 on picking the first and 0.01 on the second,
and the same the other way round when the order is swapped), and a product with an
affordance cannot overturn odds of 80 to 1. The planner therefore scores such an
instruction twice, as written and with the two alternatives swapped, and averages the
two softmaxes: a model's order preference cancels, and what it says about anything
else (which step comes next, which bowl) is kept.

`swap_alternatives` finds each two-way "X or Y" between objects and swaps the two (a
choice of three, "X or Y or Z", is left as written):

- colours of one type: "the red block or the blue block", "the red or the blue block",
  "the red or blue block", "the red block or the blue one" (only the colour words move,
  so the sentence stays well formed);
- whole noun phrases otherwise: "the bowl or the plate" -> "the plate or the bowl".

Anything else around "or" ("in the bowl or on the plate", "or else") is left as it is.
"""

from __future__ import annotations

from robollm.planner.phrases import kind_of, noun_phrase, tokens
from robollm.world.scene import COLOURS

_LEADS = ("the", "a", "an", "either")


def swap_alternatives(text: str) -> str | None:
    """`text` with the two sides of each "X or Y" between objects swapped; None when it
    has no such choice."""
    toks = tokens(text)
    words = [w for w, _, _ in toks]
    spans: list[tuple[int, int, str]] = []  # (start, end, replacement) in characters
    for k, w in enumerate(words):
        if w != "or" or k == 0 or k + 1 >= len(words):
            continue
        pair = _colour_pair(words, k) or _phrase_pair(words, k)
        if pair is None:
            continue
        (a0, a1), (b0, b1) = pair  # token ranges of the two sides
        if _more_than_two(words, k, a0):
            return None
        left, right = text[toks[a0][1]:toks[a1 - 1][2]], text[toks[b0][1]:toks[b1 - 1][2]]
        spans += [(toks[a0][1], toks[a1 - 1][2], right), (toks[b0][1], toks[b1 - 1][2], left)]
    if not spans:
        return None
    out = text
    for start, end, new in sorted(spans, reverse=True):
        out = out[:start] + new + out[end:]
    return out


def _more_than_two(words: list[str], k: int, start: int) -> bool:
    """A choice of three or more ("X or Y or Z", "X, Y or Z"): swapping two is not both orders."""
    near = words[max(0, k - 5):k] + words[k + 1:k + 6]
    lead = start - 1
    while lead >= 0 and words[lead] in _LEADS:
        lead -= 1
    return "or" in near or (lead >= 0 and words[lead] == ",")


def _colour_pair(words: list[str], k: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The two colour words of "the red [block] or [the] blue block|one"."""
    i = k - 1
    left_kind = None
    if words[i] not in COLOURS:  # "the red block or ...": step back over the type word
        left_kind = kind_of(words[i])
        if left_kind is None or i < 1 or words[i - 1] not in COLOURS:
            return None
        i -= 1
    j = k + 1
    while j < len(words) and words[j] in _LEADS:
        j += 1
    if j + 1 >= len(words) or words[j] not in COLOURS or words[j] == words[i]:
        return None
    right_kind = kind_of(words[j + 1])
    if right_kind is None and not (words[j + 1] == "one" and left_kind is not None):
        return None
    if left_kind is not None and right_kind not in (None, left_kind):  # "the red block or the blue bowl"
        return None
    return (i, i + 1), (j, j + 1)


def _phrase_pair(words: list[str], k: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Two whole noun phrases, "the bowl or the plate"."""
    right = noun_phrase(words, k + 1)
    if right is None or right.plural:
        return None
    for start in range(k - 1, max(-1, k - 6), -1):
        left = noun_phrase(words, start)
        if left is not None and left.end == k and not left.plural:
            return (start, k), (k + 1, right.end)
    return None
