"""Evidence from interactive perception: one typed result per sensing step.

A knock, a touch or a weighing ends in an `Evidence`: the measured quantities, the
words they call for, material beliefs where the cue speaks to material, a confidence,
and one line for the planner's prompt. The line comes in two styles, chosen in the
launch file (`sensing.style`): `adjectives` says how the object sounds or feels, the
way a person would ("It sounds metallic and rings."); `beliefs` states the material
probabilities the cue supports ("It is probably metal (0.93), or glass (0.05).").
"""

from __future__ import annotations

from dataclasses import dataclass, field

STYLES = ("adjectives", "beliefs")
CUES = ("sound", "touch", "weight")
NO_READING = "no reading"
MIN_BELIEF = 0.03  # materials below this probability are left out of a belief line


@dataclass(frozen=True)
class Evidence:
    """What one sensing step says about one object."""

    cue: str  # sound | touch | weight
    ok: bool  # False: the sensor gave nothing usable ("no reading")
    confidence: float  # 0..1: the probability of the words or beliefs it states
    words: tuple[str, ...] = ()  # e.g. ("metallic", "rings") or ("hard", "cold")
    beliefs: dict[str, float] = field(default_factory=dict)  # material -> probability
    values: dict[str, float] = field(default_factory=dict)  # measured quantities, SI or grams
    reason: str = ""  # why there is no reading
    adjective_line: str = ""
    belief_line: str = ""

    def line(self, style: str) -> str:
        if not self.ok:
            return f"No reading ({self.reason})." if self.reason else "No reading."
        return self.belief_line if style == "beliefs" and self.belief_line else self.adjective_line

    @property
    def material(self) -> str | None:
        """The most probable material, if this cue speaks to material."""
        return max(self.beliefs, key=self.beliefs.__getitem__) if self.beliefs else None

    def to_json(self) -> dict:
        return {"cue": self.cue, "ok": self.ok, "confidence": round(self.confidence, 4),
                "words": list(self.words), "beliefs": {k: round(v, 4) for k, v in self.beliefs.items()},
                "values": {k: round(v, 6) for k, v in self.values.items()}, "reason": self.reason,
                "adjectives": self.line("adjectives"), "beliefs_line": self.line("beliefs")}


def no_reading(cue: str, reason: str) -> Evidence:
    return Evidence(cue, False, 0.0, reason=reason)


def belief_sentence(beliefs: dict[str, float]) -> str:
    """"It is probably metal (0.93), or glass (0.05)." with the likely materials, best first."""
    ranked = sorted(beliefs.items(), key=lambda kv: -kv[1])
    shown = [(m, p) for m, p in ranked if p >= MIN_BELIEF][:3] or ranked[:1]
    head = "It is probably" if shown[0][1] < 0.995 else "It is"
    parts = [f"{m} ({p:.2f})" for m, p in shown]
    return f"{head} {parts[0]}" + "".join(f", or {p}" for p in parts[1:]) + "."


def combine(beliefs: list[dict[str, float]]) -> dict[str, float]:
    """Independent cues about one material: the normalised product of their beliefs."""
    beliefs = [b for b in beliefs if b]
    if not beliefs:
        return {}
    keys = set(beliefs[0])
    out = {k: 1.0 for k in keys}
    for b in beliefs:
        for k in keys:
            out[k] *= max(b.get(k, 0.0), 1e-6)
    total = sum(out.values())
    return {k: v / total for k, v in sorted(out.items(), key=lambda kv: -kv[1])}
