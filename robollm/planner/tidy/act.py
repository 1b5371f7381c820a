"""Tidying on a robot: what perception reports becomes objects and receptacles, unknown
materials are sensed when the rule needs them, and each object is picked and placed with
the session's skills.

The skills are run by name through the session (its registry), so the core never
imports a concrete skill; the success of each placement is judged from the driver's
geometry where it offers it (the simulator), else from what perception reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from robollm.plan import SkillCall
from robollm.planner.tidy.attributes import LOOSE_TYPES, RECEPTACLE_TYPES, Thing, size_word
from robollm.planner.tidy.rules import Receptacle, RuleSet
from robollm.session import Session
from robollm.world.predicates import evaluate, parse
from robollm.world.state import SceneState

SENSING_SKILL = "knock"  # the sensing skill that tells material from sound
# Cups go in first: a tall cup needs the open middle of a receptacle, and small blocks
# still find room beside it afterwards.
TALL_FIRST = {"cup": 0, "block": 1}


def receptacles_of(scene: SceneState) -> list[Receptacle]:
    """Every bowl, plate, tray and box, named by type, or colour and type where two share one."""
    found = [o for o in scene.objects.values() if o.type in RECEPTACLE_TYPES]
    types = [o.type for o in found]
    return [Receptacle(o.name, o.type, o.type if types.count(o.type) == 1 else f"{o.colour} {o.type}")
            for o in found]


def things_of(scene: SceneState, receptacles: Sequence[Receptacle]) -> list[Thing]:
    """The loose objects: blocks and cups not already in a hand."""
    return [Thing(o.type, o.colour, o.material, size_word(o.type, o.size), o.name)
            for o in scene.objects.values()
            if o.type in LOOSE_TYPES and scene.holder(o.name) is None]


def sense_materials(session: Session, things: Sequence[Thing], rule: RuleSet) -> list[Thing]:
    """Knock each object whose material the rule needs and perception does not know."""
    if "material" not in rule.attributes():
        return list(things)
    out = []
    for t in things:
        if t.material is None and t.name is not None:
            session.execute(SkillCall(SENSING_SKILL, (t.name,)))
            seen = session.observe().objects.get(t.name)
            t = Thing(t.type, t.colour, seen.material if seen else None, t.size, t.name)
        out.append(t)
    return out


@dataclass
class Placement:
    obj: str
    receptacle: str
    executed: bool  # both skills reported success
    holds: bool  # the object is in (on) the receptacle at the end
    reason: str = ""


def goal_text(obj: str, receptacle: Receptacle) -> str:
    return f"{'on' if receptacle.type == 'plate' else 'in'}({obj}, {receptacle.name})"


def set_down(session: Session, obj: str) -> None:
    """An object still in a hand goes down on that hand's side, else in the middle, else on
    the other side, so that the next pick finds the hand empty."""
    for region in (session.state.holder(obj), "middle", "left", "right"):
        if session.state.holder(obj) is None:
            return
        if region is not None:
            session.execute(SkillCall("place", (obj, region)))


def put_away(session: Session, plan: Sequence[tuple[str, Receptacle]], attempts: int = 2) -> list[Placement]:
    """Pick and place each object, cups first, trying again when a pick or place fails: an
    object still in a hand after a failed place is set down and picked afresh, or, where
    it cannot be set down, placed again from the hand, so the next object finds the hand
    free. Results come back in the order of `plan`."""
    kinds = session.observe().objects
    order = sorted(range(len(plan)), key=lambda i: TALL_FIRST.get(kinds[plan[i][0]].type, 1))
    placed: dict[int, Placement] = {}
    for index in order:
        obj, receptacle = plan[index]
        reason = ""
        for _ in range(attempts):
            reason = ""
            calls = [SkillCall("place", (obj, receptacle.name))]
            if session.state.holder(obj) is None:  # still in the hand after a failed place
                calls.insert(0, SkillCall("pick", (obj,)))
            for call in calls:
                record = session.execute(call)
                if not record.outcome.success:
                    reason = f"{call.skill} failed: {record.outcome.reason}"
                    break
            if not reason:
                break
            set_down(session, obj)  # a fresh grasp next time; and the hand is free to go on
        placed[index] = Placement(obj, receptacle.name, not reason, False, reason)
    out = [placed[i] for i in range(len(plan))]
    facts = session.facts()  # judged once at the end: a later placement may knock one out
    for p, (obj, receptacle) in zip(out, plan, strict=True):
        p.holds = evaluate(parse(goal_text(obj, receptacle)), facts)
    return out
