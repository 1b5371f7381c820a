"""A realistic SayCan step: the prompt and candidate set used by the scoring benchmark.

Shaped like the tabletop prompts of SayCan and Inner Monologue: a preamble, a few solved
examples, the scene's objects, the instruction and the steps taken so far, ending where the
next step's text begins. Candidates start with a space because that is how they continue
the prompt.
"""

from __future__ import annotations

BLOCKS = ("red block", "blue block", "yellow block", "green block")
BOWLS = ("red bowl", "blue bowl", "green bowl")
PLATES = ("yellow plate", "blue plate", "green plate")
REGIONS = ("top left corner", "top right corner", "bottom left corner", "bottom right corner")

_EXAMPLES = """\
Robot: I am a robot working at a table. I can pick up one object at a time and place it \
in a bowl, on a plate, on a block, or in a corner. When the task is finished I say done.

Objects: red block, blue block, green bowl, yellow plate.
Human: put the red block in the green bowl.
Robot: 1. pick up the red block and place it in the green bowl. 2. done.

Objects: yellow block, green block, blue block, red bowl, blue plate.
Human: stack all the blocks on the blue plate.
Robot: 1. pick up the yellow block and place it on the blue plate. 2. pick up the green \
block and place it on the yellow block. 3. pick up the blue block and place it on the green \
block. 4. done.

"""


def _target_phrases(block: str) -> list[str]:
    """Thirteen places a block can go: 3 bowls, 3 plates, the 3 other blocks, 4 corners."""
    return (
        [f"in the {bowl}" for bowl in BOWLS]
        + [f"on the {plate}" for plate in PLATES]
        + [f"on the {other}" for other in BLOCKS if other != block]
        + [f"in the {region}" for region in REGIONS]
    )


def saycan_candidates() -> list[str]:
    """The 53 candidates of one step: 4 blocks x 13 targets, plus ``done``."""
    candidates = [
        f" pick up the {block} and place it {target}."
        for block in BLOCKS
        for target in _target_phrases(block)
    ]
    return candidates + [" done."]


def saycan_prompt(instruction: str = "put the blocks in their matching bowls.") -> str:
    """A ~250-token prompt (SmolLM2 tokenizer), mid-plan: one step is done and the next one is being chosen."""
    objects = ", ".join(BLOCKS + BOWLS + PLATES)
    return (
        f"{_EXAMPLES.rstrip()}\n\nObjects: {objects}.\nHuman: {instruction}\n"
        "Robot: 1. pick up the red block and place it in the red bowl. 2."
    )
