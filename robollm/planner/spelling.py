"""Misspelt words of the robot's own vocabulary, put right before the planner reads them.

"stak the red blok on the bleu block" reads as "stack the red block on the blue block".
Only a word that is neither English (pyspellchecker's frequency list, at least
`COMMON` uses in its count) nor one of the robot's words is changed, and only into the
one word of the robot's vocabulary (colours, object types, places, the verbs of its
skills) that is a single edit away (two for words of six letters or more; an edit is
an insertion, a deletion, a substitution or two neighbouring letters swapped; between
equally close words, the one that keeps the last letter, then the first, wins). So
"night" or "plane" never become "right" or "plate", and a word with two equally close
readings stays as it is. A sentence whose words are mostly neither is left as written: "mets
le bloc rouge dans le bol vert" is French, not a misspelt request for a block and a bowl.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from robollm.planner.grounding import ACTION_WORDS, KNOWN_WORDS, POSITION_WORDS

COMMON = 1000  # uses in pyspellchecker's English count from which a word counts as English
# Words of the robot's requests beyond the grounding check's lists, and British spellings the
# (American) frequency list lacks.
DOMAIN_WORDS = frozenset("""
    into onto inside top bottom under underneath beneath below above between each every other
    both gripper grippers please thanks colour coloured color colored centre middle tower towers
    """.split())


@cache
def _frequency() -> object:
    from spellchecker import SpellChecker

    return SpellChecker(distance=1).word_frequency


def vocabulary(extra: Iterable[str] = ()) -> frozenset[str]:
    """The words a misspelling may be put right into."""
    return frozenset(KNOWN_WORDS | ACTION_WORDS | POSITION_WORDS | DOMAIN_WORDS | set(extra))


def edit_distance(a: str, b: str, most: int = 2) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit), or `most` + 1
    as soon as it is known to exceed `most`."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > most:
            return most + 1
        prev2, prev = prev, row
    return prev[-1]


def is_english(word: str) -> bool:
    return _frequency()[word] >= COMMON  # type: ignore[index]


def correction(word: str, words: frozenset[str]) -> str | None:
    """The one word of `words` that `word` is a misspelling of, if any."""
    if len(word) < 3 or word in words or not word.isalpha() or is_english(word):
        return None
    most = 2 if len(word) >= 6 else 1
    best: dict[tuple[int, bool, bool], list[str]] = {}
    for w in words:
        if len(w) >= 4:
            d = edit_distance(word, w, most)
            if d <= most:  # ties go to the word with the same last, then first, letter
                best.setdefault((d, w[-1] != word[-1], w[0] != word[0]), []).append(w)
    if not best:
        return None
    closest = best[min(best)]
    return closest[0] if len(closest) == 1 else None


def correct_spelling(text: str, extra: Iterable[str] = ()) -> tuple[str, list[tuple[str, str]]]:
    """`text` with misspelt words of the vocabulary put right, and the (was, now) pairs."""
    words = vocabulary(extra)
    changes: list[tuple[str, str]] = []
    tokens = re.findall(r"[A-Za-z]+", text.lower())
    if sum(t in words or is_english(t) for t in tokens) * 2 <= len(tokens):
        return text, changes  # mostly not English ("mets le bloc rouge dans le bol vert"): left as written

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        right = correction(word.lower(), words)
        if right is None:
            return word
        changes.append((word, right))
        return right

    return re.sub(r"[A-Za-z]+", fix, text), changes
