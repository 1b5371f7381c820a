"""Find the objects an instruction names that are not on the table.

"Pick up the purple block" on a table without one must not end with the robot
holding some other block: the planner stops before acting and says what it could
not find.
"""

from __future__ import annotations

import re

from robollm.world.scene import COLOURS

TYPE_WORDS = {"block": "block", "blocks": "block", "cube": "block", "cubes": "block",
              "bowl": "bowl", "bowls": "bowl", "dish": "bowl", "plate": "plate", "plates": "plate",
              "cup": "cup", "cups": "cup", "mug": "cup", "tray": "tray", "box": "box"}


def missing_objects(instruction: str, objects: dict[str, tuple[str, str]]) -> list[str]:
    """Phrases like 'purple block' in the instruction with no object of that colour and type.

    `objects` maps names to (colour, type).
    """
    words = re.findall(r"[a-z]+", instruction.lower())
    present = set(objects.values())
    missing = []
    for i, word in enumerate(words):
        if word not in COLOURS:
            continue
        for follower in words[i + 1:i + 3]:  # "red block", "red wooden block"
            kind = TYPE_WORDS.get(follower)
            if kind is None:
                continue
            if (word, kind) not in present:
                phrase = f"{word} {follower}"
                if phrase not in missing:
                    missing.append(phrase)
            break
    return missing
