"""Scripted plans: `pick red_block; place red_block in green_bowl`.

A step is a skill name followed by its arguments, in the order the skill declares
them; the little words people put between them (in, on, to, into, onto, at) are
skipped. `place(red_block, green_bowl)` works too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from robollm.errors import UserError

FILLER = {"in", "on", "to", "into", "onto", "at", "the", "with", "from"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SkillCall:
    skill: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.skill}({', '.join(self.args)})"


def parse_step(text: str) -> SkillCall:
    step = text.strip()
    m = re.fullmatch(r"([a-z][a-z0-9_]*)\s*\((.*)\)", step)
    if m:
        words = [m.group(1)] + [a.strip() for a in m.group(2).split(",") if a.strip()]
    else:
        words = [w for w in re.split(r"[\s,]+", step) if w]
    if not words:
        raise UserError(f"plan step {text!r} is empty; expected a skill name and its arguments")
    for w in words:
        if not _NAME.match(w):
            raise UserError(f"plan step {text!r}: {w!r} is not a name; expected lower-case words "
                            "like 'place red_block in green_bowl'")
    return SkillCall(words[0], tuple(w for w in words[1:] if w not in FILLER))


def parse_plan(text: str) -> list[SkillCall]:
    steps = [s for s in text.split(";") if s.strip()]
    if not steps:
        raise UserError("plan is empty; expected steps separated by ';', e.g. "
                        "'pick red_block; place red_block in green_bowl'")
    return [parse_step(s) for s in steps]
