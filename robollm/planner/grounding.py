"""Check an instruction against what perception reports, before the robot acts.

"Put the banana in the green bowl" on a table without a banana must not end with the
robot putting a block in the bowl; "the block" on a table with three blocks must not
move all three; an instruction in a language the robot does not read must not move
anything. The planner asks :func:`ground` first and stops, saying why, unless the
answer is ``ok``. An instruction that asks for nothing ("do not touch anything") is
``nothing``: the planner chooses `done` at once.

The check prefers precision to recall: it refuses only what it can name (an action no
skill performs, asked for where a verb stands; an object word with nothing on the table
to match it; a reference that fits several objects with no word to tell them apart; a
sentence without a single word it knows). A valid
instruction of any shipped suite or of the training generator is never refused
(tests/test_grounding.py checks that).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from robollm.world.scene import COLOUR_SPELLINGS, COLOURS, MATERIALS, REGIONS

# Words that name a kind of object the robot can perceive, and the perceived types they fit.
TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "block": ("block",), "cube": ("block",), "bowl": ("bowl",), "dish": ("bowl",),
    "plate": ("plate",), "cup": ("cup",), "mug": ("cup",), "tray": ("tray",), "box": ("box",),
}
PLURAL_TYPE_WORDS = {"blocks": "block", "cubes": "block", "bowls": "bowl", "dishes": "dish",
                     "plates": "plate", "cups": "cup", "mugs": "cup", "trays": "tray", "boxes": "box"}

# Common graspable household things that are not among the perceived types: naming one
# means naming something the robot cannot see. Words with another common sense in an
# instruction ("orange" the colour, "glass" the material, "can" the verb) are left out.
OBJECT_NOUNS = frozenset("""
    apple banana pear peach plum lemon lime grape grapes strawberry cherry melon mango kiwi
    tomato potato carrot onion pepper cucumber egg bread cookie cake sandwich donut
    ball bottle jar jug kettle teapot pot pan pitcher vase flask thermos tumbler
    spoon fork knife knives spatula ladle chopsticks straw napkin towel sponge cloth rag
    book notebook pen pencil marker crayon eraser ruler scissors stapler tape envelope
    phone smartphone remote controller mouse keyboard laptop tablet charger cable battery
    key keys wallet purse bag backpack shoe shoes sock socks hat glove gloves sunglasses
    toy doll teddy car truck dinosaur figurine puzzle dice coin card cards
    hammer screwdriver wrench pliers
    candle lamp bulb clock necklace bracelet toothbrush soap shampoo
    basket bucket bin lid cork pillow blanket flower flowers
""".split())
# What can be poured or scooped: never an object on the table ("fill the cup with water").
SUBSTANCE_NOUNS = frozenset("""
    water milk juice coffee tea soup sand rice sugar salt flour oil wine beer soda honey cereal soil
""".split())
_NOUN_PLURALS = {"knives": "knife", "dice": "dice", "keys": "key", "shoes": "shoe", "socks": "sock",
                 "gloves": "glove", "flowers": "flower", "grapes": "grape", "cards": "card"}

SIZE_WORDS = frozenset("small smaller smallest big bigger biggest large larger largest little tiny "
                       "huge tall taller short shorter wide narrow".split())
MATERIAL_WORDS = frozenset(MATERIALS) | frozenset("wooden metallic steel iron aluminium aluminum "
                                                  "plastics glassy ceramics porcelain heavy light "
                                                  "heavier lighter heaviest lightest soft hard".split())
POSITION_WORDS = frozenset("left right middle centre center front back near nearest closest far "
                           "farthest furthest next beside behind top bottom first second third last "
                           "other another same matching matches match colour color colours colors "
                           "its their respective corresponding which where that this close closer "
                           "under underneath beneath below above".split())
# Verbs the robot acts on (besides the words of every registered skill's name).
ACTION_WORDS = frozenset("""
    put place set move pick lift raise hoist stack push shove slide knock tap touch feel weigh
    hand give pass grab grasp take get bring carry drop deposit transfer relocate shift stick
    gather load unload pop stand rest lay build make sort arrange tidy clear clean organise
    organize fetch collect hold release open close turn rotate flip swap switch fill empty
    return leave keep stay insert remove nudge poke press squeeze hit match pair
""".split())
# Actions no built-in skill performs. Asked for where a verb stands (a clause's first word,
# or after "please", "you", "to", "and", "then" ...), and not named by a registered skill,
# the request cannot be done: the planner says so instead of doing something else and
# calling it done. Verbs that people also use for placing ("throw it in the bowl", "pop",
# "chuck") or tidying ("clean up") are left out.
UNDOABLE_VERBS = frozenset("""
    paint repaint colour color dye draw write sign print cut slice chop saw carve break smash crush
    shatter crack bend squash shred wash rinse scrub wipe polish dry fold unfold tear rip burn heat
    warm cool freeze chill melt cook bake boil fry grill microwave eat drink taste smell sniff lick
    pour spray open unlock lock unwrap wrap seal shut glue tape nail screw unscrew drill hammer sew
    knit tie untie inflate deflate charge plug unplug sing dance kick juggle catch feed hug kiss
    wave clap photograph film sharpen peel water iron sweep vacuum mop shake stir whisk blend
    measure read fix repair
""".split())
_VERB_LEADS = frozenset("please you to and then also just now first next finally kindly can".split())
OTHER_KNOWN = frozenset("table side both hands arms hand arm tower stack done nothing".split())
# Every word `understood` knows without the skills' own names.
KNOWN_WORDS = (ACTION_WORDS | OTHER_KNOWN | set(TYPE_WORDS) | set(PLURAL_TYPE_WORDS) | set(COLOURS)
               | SIZE_WORDS | MATERIAL_WORDS | set(REGIONS) | {"centre", "center"})

# Whole instructions (lower case, words only) that ask for no action. A prohibition or a
# "leave it" alone counts; with another clause ("..., but leave the blue block where it
# is") the sentence asks for something and the planner plans it.
_PLEASE = r"(?:please )?"
_THANKS = r"(?: please| thanks| thank you)?"
NOTHING_PATTERNS = [re.compile(_PLEASE + p + _THANKS) for p in (
    r"(?:do )?nothing(?: at all)?(?: for now)?",
    r"(?:do not|don't|dont|never) (?:touch|move|disturb|change|do|grab|pick up|pick|take|handle|"
    r"push|knock|lift|shift|put|place|stack|drop|carry|bring|get|knock over)(?: .*)?",
    r"(?:leave|keep) .*(?:as it is|as they are|as is|alone|where it is|where they are|untouched|"
    r"in place|in peace| be)",
    r"(?:stay|keep|remain|hold) (?:still|put)",
    r"no action|never mind|nevermind|stop|wait",
)]
_CLAUSES = re.compile(r"[,;:]|\b(?:and|but|then|instead|except|unless|until|after|before|so)\b")

Kind = Literal["ok", "cannot", "missing", "not_understood", "ambiguous", "nothing"]


@dataclass
class Grounding:
    """What the check found. ``kind`` is ``ok`` when the planner may act."""

    kind: Kind = "ok"
    cannot: list[str] = field(default_factory=list)  # actions asked for that no skill performs
    missing: list[str] = field(default_factory=list)  # phrases with nothing on the table to match
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # type word -> objects it fits
    reason: str = ""  # the stop reason: "cannot do: ...", "could not ground: ...", "ambiguous: ..." or ""

    @property
    def refused(self) -> bool:
        """True when the planner must not act on the instruction."""
        return self.kind in ("cannot", "missing", "not_understood", "ambiguous")


def _words(text: str) -> list[str]:
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower().replace("’", "'"))
    return [COLOUR_SPELLINGS.get(w, w) for w in words]


def _noun(word: str) -> str | None:
    """The lexicon noun a word is (singular), if any."""
    if word in SUBSTANCE_NOUNS:
        return word
    if word in OBJECT_NOUNS:
        return _NOUN_PLURALS.get(word, word)
    for cut, add in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(cut) and word[: len(word) - len(cut)] + add in OBJECT_NOUNS:
            return word[: len(word) - len(cut)] + add
    return None


def _type_word(word: str) -> str | None:
    """The singular type word a word is, if any ("cubes" -> "cube")."""
    return word if word in TYPE_WORDS else PLURAL_TYPE_WORDS.get(word)


def _head(words: list[str], i: int, most: int | None = None) -> int:
    """The index of the word that the colour at `i` describes, past size and material words
    ("red wooden block"); at most `most` of them when given."""
    j = i + 1
    while (j < len(words) and (most is None or j - i <= most)
           and (words[j] in SIZE_WORDS or words[j] in MATERIAL_WORDS)):
        j += 1
    return j


def _negated(words: list[str], i: int) -> bool:
    return any(w in ("not", "no", "without", "never", "don't", "dont", "except", "nor")
               for w in words[max(0, i - 3):i])


def _list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


_COURTESY = frozenset("hello hi hey there robot thanks thank you please ok okay cheers that's thats all listen "
                      "next job great good".split())


def asks_for_nothing(instruction: str) -> bool:
    """'do not touch anything', 'leave everything as it is', 'nothing': no action asked.
    Every sentence must ask for nothing, or be a greeting or a thank-you ("Leave the
    blocks alone. Thanks."); "Leave the red block. Just move the cup." asks for something."""
    asked = False
    for sentence in re.split(r"[.!?]+", instruction):
        words = _words(sentence)
        if not words or set(words) <= _COURTESY:
            continue
        if _CLAUSES.search(re.sub(r",?\s*\bplease\b,?", " ", sentence.lower())):
            return False
        if not any(p.fullmatch(" ".join(words)) for p in NOTHING_PATTERNS):
            return False
        asked = True
    return asked


def undoable_actions(instruction: str, skill_words: Iterable[str] = ()) -> list[str]:
    """The actions the instruction asks for that no skill performs ('paint' in "please paint
    the red block"): a word of UNDOABLE_VERBS where a verb stands, not negated ("don't
    paint it"), and not a word of a registered skill's name."""
    skills = set(skill_words)
    out: list[str] = []
    for clause in re.split(r"[,;:.!?]+", instruction):
        words = _words(clause)
        for i, word in enumerate(words):
            if (word in UNDOABLE_VERBS and word not in skills and word not in out
                    and (i == 0 or words[i - 1] in _VERB_LEADS) and not _negated(words, i)):
                out.append(word)
    return out


def missing_objects(instruction: str, objects: Mapping[str, tuple[str, str]]) -> list[str]:
    """Phrases of the instruction with no perceived object to match: 'purple block' with no
    purple block, 'red ball' or 'banana' (no such kind is ever perceived), 'cup' with no cup.

    `objects` maps names to (colour, type), as perceived.
    """
    words = _words(instruction)
    present = set(objects.values())
    types = {t for _, t in present}
    missing: list[str] = []

    def add(phrase: str) -> None:
        if phrase not in missing:
            missing.append(phrase)

    named = set()  # indices of nouns already judged with their colour
    for i, word in enumerate(words):  # "the colour of a banana", "lemon-coloured": a colour, not an object
        if word in ("colour", "color") and i + 1 < len(words) and words[i + 1] == "of":
            named.update(range(i + 2, min(len(words), i + 6)))
        if word in ("coloured", "colored") and i > 0:
            named.add(i - 1)
    for i, word in enumerate(words):
        if word not in COLOURS:
            continue
        j = _head(words, i, most=3)  # "red wooden block", "blue metal tray"
        if j >= len(words):
            continue
        follower = words[j]
        kind = _type_word(follower)
        if kind is not None:
            named.add(j)
            if not _negated(words, i) and not any((word, t) in present for t in TYPE_WORDS[kind]):
                add(f"{word} {follower}")
        elif _noun(follower) is not None:
            named.add(j)
            if not _negated(words, i):
                add(f"{word} {follower}")
    for i, word in enumerate(words):
        if i in named or _negated(words, i):
            continue
        noun = _noun(word)
        if noun is not None:
            add(noun)
            continue
        kind = _type_word(word)
        if kind is not None and not any(t in types for t in TYPE_WORDS[kind]):
            add(kind)
    return missing


def ambiguous_references(instruction: str, objects: Mapping[str, tuple[str, str]]) -> dict[str, list[str]]:
    """'the block' when several blocks are perceived and no other word of the sentence
    (a colour of one of them, a size, a material, a position) tells them apart.

    Plural and quantified references ('the blocks', 'every block', 'a block') are not
    ambiguous, nor is anything in a sentence that says 'each' or 'every' (the reference
    then goes with each object in turn: 'put each block in the bowl of its colour').
    """
    words = _words(instruction)
    if any(w in ("each", "every", "all", "both") for w in words):
        return {}
    if set(words) & (SIZE_WORDS | MATERIAL_WORDS | POSITION_WORDS | set(REGIONS)):
        return {}
    out: dict[str, list[str]] = {}
    for i, word in enumerate(words[1:], 1):
        if word not in TYPE_WORDS or words[i - 1] != "the":
            continue
        fits = [n for n, (_, t) in objects.items() if t in TYPE_WORDS[word]]
        colours = {objects[n][0] for n in fits}
        if len(fits) > 1 and word not in out and not _free_colours(words, word) & colours:
            out[word] = fits
    return out


def _free_colours(words: list[str], word: str) -> set[str]:
    """Colour words that may describe a `word` object: those not naming an object of
    another kind ('red' in 'the block that is red' or 'the red one', not in 'the red bowl')."""
    free = set()
    for i, w in enumerate(words):
        if w not in COLOURS:
            continue
        j = _head(words, i)
        kind = _type_word(words[j]) if j < len(words) else None
        if kind is None or set(TYPE_WORDS[kind]) & set(TYPE_WORDS[word]):
            free.add(w)
    return free


def understood(instruction: str, skill_words: Iterable[str] = ()) -> bool:
    """Whether the instruction has at least one word the robot knows: an action, an object
    type, a colour, a material, a size or a region."""
    known = KNOWN_WORDS | set(skill_words)
    return any(w in known or _noun(w) is not None for w in _words(instruction))


def ground(instruction: str, objects: Mapping[str, tuple[str, str]],
           skill_words: Iterable[str] = ()) -> Grounding:
    """Check `instruction` against the perceived `objects` (name -> (colour, type))."""
    if asks_for_nothing(instruction):
        return Grounding("nothing")
    seen = ", ".join(objects) or "nothing"
    cannot = undoable_actions(instruction, skill_words)
    if cannot:
        return Grounding("cannot", cannot=cannot, reason=(
            f"cannot do: no skill can {' or '.join(cannot)}"))
    if not understood(instruction, skill_words):
        return Grounding("not_understood", reason=(
            "could not ground: the instruction has no word the robot understands (no action, "
            "object, colour or place it knows); say it in English, e.g. \"put the red block in "
            "the green bowl\""))
    missing = missing_objects(instruction, objects)
    if missing:
        return Grounding("missing", missing=missing,
                         reason=f"could not ground: there is no {' and no '.join(missing)} on the table "
                                f"(it sees {seen})")
    ambiguous = ambiguous_references(instruction, objects)
    if ambiguous:
        asks = "; ".join(f"which {word}: {_list(names)}?" for word, names in ambiguous.items())
        return Grounding("ambiguous", ambiguous=ambiguous, reason=f"ambiguous: {asks}")
    return Grounding()
