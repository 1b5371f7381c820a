"""The built-in skills, registered by versioned name with lazy entry points.

A launch file names the function that fills the registry (`skills.library`), so a
user's own library replaces or extends this one without touching robollm. Skills found
by skill discovery register from their manifests under `skills/discovered/`.
"""

from __future__ import annotations

import json
from pathlib import Path

from robollm.registry import Registry

BUILTIN = {
    "pick-v0": "robollm.skills.manipulation:Pick",
    "place-v0": "robollm.skills.manipulation:Place",
    "hand_over-v0": "robollm.skills.manipulation:HandOver",
    "push-v0": "robollm.skills.push:Push",
    "lift_with_both_arms-v0": "robollm.skills.bimanual:LiftWithBothArms",
    "put_down-v0": "robollm.skills.bimanual:PutDown",
    "knock-v0": "robollm.skills.sensing:Knock",
    "touch-v0": "robollm.skills.sensing:Touch",
    "weigh-v0": "robollm.skills.sensing:Weigh",
}


DISCOVERED_DIR = Path(__file__).resolve().parent / "discovered"


def register_builtin(registry: Registry) -> None:
    for skill_id, entry_point in BUILTIN.items():
        registry.register(skill_id, entry_point)
    register_discovered(registry)


# Skills that name the hand (skills/hands.py): opt-in, since a planner model must be
# tuned with them to use them (`skills.library: robollm.skills.catalog:register_with_hands`).
WITH_HANDS = {
    "pick_with-v0": "robollm.skills.hands:PickWith",
    "pick_both-v0": "robollm.skills.hands:PickBoth",
}


def register_with_hands(registry: Registry) -> None:
    """The built-in library plus the skills that let the planner choose the arm."""
    register_builtin(registry)
    for skill_id, entry_point in WITH_HANDS.items():
        registry.register(skill_id, entry_point)


def register_hand_written(registry: Registry) -> None:
    """The library without discovered skills: what discovery first proposes against."""
    for skill_id, entry_point in BUILTIN.items():
        registry.register(skill_id, entry_point)


def register_discovered(registry: Registry, folder: Path = DISCOVERED_DIR) -> None:
    """Every skill that discovery verified and shipped (`skills/discovered/*/manifest.json`).

    Only the manifests' names are read here; the policy loads when the skill is made."""
    for manifest in sorted(folder.glob("*/manifest.json")):
        data = json.loads(manifest.read_text())
        registry.register(f"{data['name']}-v{data['version']}", "robollm.skills.discovered:PolicySkill",
                          manifest=str(manifest))
