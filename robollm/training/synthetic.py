"""Synthetic planning tasks for tuning the planner's language model.

Each task is a random table (2-6 objects of distinct colour and type), an instruction drawn
from a phrase grammar, and the expert plan that achieves it, written in the skills' own
phrases (``Skill.describe``), so the tuned model learns exactly the texts the planner
scores. This module holds the grammar's core (tables, object references, plans); the
families of tasks and the sampling are in `synthetic_families` (the suites' kinds) and
`synthetic_language` (the wider language). The families mirror the evaluation suites
(pick and place, stacking, several objects, regions, two-arm tasks, paraphrases), but no
instruction that appears in a shipped or held-out suite is ever produced:
`synthetic_families.generate` drops them, and the tests check it.

Some plans contain a failed step ("It failed: grasp slipped.") followed by a retry, as the
closed loop writes them, so the model learns to try again after a failure.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cache

from robollm.config import SkillsConfig
from robollm.registry import Registry, load_entry_point
from robollm.skill import Skill
from robollm.world.scene import COLOURS
from robollm.world.symbolic import SymbolicState

GRASPABLE = ("block", "cup")
NOUNS = {"block": ("block", "block", "cube"), "bowl": ("bowl", "bowl", "dish"),
         "cup": ("cup", "cup", "mug"), "plate": ("plate",), "tray": ("tray",)}
SIDES = {"left": ("the left side", "the left side of the table", "the left-hand side", "the left"),
         "right": ("the right side", "the right side of the table", "the right-hand side", "the right"),
         "middle": ("the middle", "the middle of the table", "the centre", "the centre of the table")}
HOLDERS = ("bowl", "plate", "tray")  # what several objects can be put in or on
# The first words of a command, which a polite frame ("could you ...") may go around.
COMMAND_VERBS = frozenset((
    "put", "move", "place", "set", "stack", "pick", "take", "grab", "lift", "carry", "bring", "get", "shift",
    "slide", "build", "make", "match", "sort", "pair", "use", "hold", "leave", "keep", "do", "don't", "stand",
    "drop", "give", "hand", "knock", "weigh", "touch", "find", "fill", "empty", "tidy", "clear", "raise",
    "start", "first", "ignore", "sit", "load", "transfer", "pop", "stick", "rest", "line", "arrange", "lay",
    "just", "with"))
PICK_FAILURES = ("grasp slipped", "grasp missed: the fingers closed on nothing", "no contact with the object")


@dataclass
class Task:
    family: str
    objects: list[str]  # names with underscores, in the order the prompt lists them
    instruction: str
    steps: list[str]  # expert plan in the skills' phrases, without "done"
    failures: dict[int, str] = field(default_factory=dict)  # step index -> reason it failed once
    evidence: dict[int, str] = field(default_factory=dict)  # step index -> what sensing found
    layout: dict[str, str] = field(default_factory=dict)  # object -> region, for prompts with {scene}
    near: set[frozenset[str]] = field(default_factory=set)  # pairs of objects standing close


def _base(name: str) -> str:
    """'red_block' of 'red_block_2' (a second look-alike), 'block' of 'block_a' (look-alikes
    told apart by a letter, as the sensing tasks and the property suite name them)."""
    head, _, tail = name.rpartition("_")
    return head if head and (tail.isdigit() or (len(tail) == 1 and tail.isalpha())) else name


def _type(name: str) -> str:
    return _base(name).rsplit("_", 1)[-1]


def _colour(name: str) -> str:
    """'red' of 'red_block'; '' for a name without a colour ('block_a')."""
    head, _, _ = _base(name).rpartition("_")
    return head


WITH_HANDS = "robollm.skills.catalog:register_with_hands"  # the library whose skills name the hand


@cache
def library_skills(library: str | None = None) -> dict[str, Skill]:
    """A skill library (default: the launch default's) by name, as a session holds it:
    the plans are written in its phrases."""
    registry: Registry[Skill] = Registry("skill", plugins=False)
    load_entry_point(library or SkillsConfig().library)(registry)
    return {name: registry.make(name) for name in registry.names()}


def names_hands(library: str | None) -> bool:
    """Whether a skill library lets the planner name the hand (skills/hands.py)."""
    return "pick_with" in library_skills(library)


def _skill(name: str) -> Skill:
    return library_skills(WITH_HANDS)[name]  # every built-in phrase, those naming a hand too


def layout_state(objects: list[str], layout: dict[str, str] | None = None) -> SymbolicState:
    """Every object standing on the table in its region (the middle where the layout is
    silent): where a task's plan starts."""
    return SymbolicState({o: _type(o) for o in objects}, {o: (layout or {}).get(o, "middle") for o in objects},
                         {o: "at" for o in objects})


def say(skill: str, **args: str) -> str:
    return _skill(skill).describe(**args)


def move(obj: str, target: str) -> list[str]:
    return [say("pick", obj=obj), say("place", obj=obj, target=target)]


class Phrases:
    """Random ways of naming objects and wrapping requests."""

    def __init__(self, rng: random.Random, objects: list[str], layout: dict[str, str] | None = None,
                 near: set[frozenset[str]] | None = None) -> None:
        self.rng, self.objects = rng, objects
        self.layout, self.near = layout if layout is not None else {}, near if near is not None else set()

    def ref(self, name: str, adjective: bool = True) -> str:
        """'the red block', 'the red cube', 'the small red block', or 'the bowl' if it is
        the only object of its type."""
        kind, colour = _type(name), _colour(name)
        noun = self.rng.choice(NOUNS[kind])
        alone = sum(_type(o) == kind for o in self.objects) == 1
        if alone and self.rng.random() < 0.25:
            return f"the {noun}"
        extra = ""
        if adjective and self.rng.random() < 0.1:
            extra = self.rng.choice({"block": ("small ", "big ", "wooden "), "bowl": ("large ", "glass "),
                                     "cup": ("small ",), "plate": ("big ",), "tray": ("metal ", "steel ")}[kind])
        return f"the {extra}{colour} {noun}"

    def prep(self, target: str) -> str:
        if _type(target) in ("bowl", "cup", "tray"):
            return self.rng.choice(("in", "in", "into", "inside"))
        if _type(target) == "block":
            return self.rng.choice(("on", "on top of", "onto"))
        return self.rng.choice(("on", "on", "onto"))

    def side(self, region: str) -> str:
        return self.rng.choice(SIDES[region])

    def wrap(self, core: str) -> str:
        """Sometimes a polite or casual frame; "could you ..." only around a command."""
        r = self.rng.random()
        if r < 0.55:
            return core
        if core.split(" ", 1)[0].lower() in COMMAND_VERBS:
            forms = ("please {}", "{} please", "{}, please", "could you {}", "can you {}", "would you {}",
                     "{} for me", "I'd like you to {}", "go ahead and {}", "now {}")
        else:  # "the blue block goes ...", "not the red bowl: ..."
            forms = ("please: {}", "{} please", "{}, please", "{}, thanks", "{}, if you can",
                     "{}, thank you", "here is the job: {}", "ok: {}", "right, {}", "now: {}")
        return self.rng.choice(forms).format(core)


def _targets_for(obj: str, objects: list[str]) -> list[str]:
    out = [t for t in objects if t != obj and _type(t) in ("bowl", "plate", "tray")]
    if _type(obj) == "block":
        out += [t for t in objects if t != obj and _type(t) == "block"]
    return out


def random_objects(rng: random.Random) -> list[str]:
    """2-6 objects of distinct names, with colour and type look-alikes as distractors."""
    colours = list(COLOURS)
    n = rng.choice((3, 4, 4, 5, 5, 6))
    names: list[str] = []
    if rng.random() < 0.25:
        names.append(f"{rng.choice(colours)}_tray")
    weights = {"block": 5, "bowl": 2.5, "plate": 1.5, "cup": 1.2}
    while len(names) < n:
        kind = rng.choices(list(weights), list(weights.values()))[0]
        # reuse a colour already on the table half the time: same-colour objects of other
        # types are what makes "the bowl of its colour" worth learning
        used = [_colour(o) for o in names]
        colour = rng.choice(used) if used and rng.random() < 0.5 else rng.choice(colours)
        name = f"{colour}_{kind}"
        if name not in names:
            names.append(name)
    rng.shuffle(names)
    return names


def add_retry(rng: random.Random, task: Task) -> Task:
    """Now and then a pick that fails once and is retried, as the closed loop writes it."""
    if rng.random() < 0.12:
        picks = [i for i, s in enumerate(task.steps) if s.startswith("pick up")]
        if picks:
            task.failures[rng.choice(picks)] = rng.choice(PICK_FAILURES)
    return task


def normalise(instruction: str) -> str:
    return " ".join(instruction.lower().strip().rstrip(".").split())
