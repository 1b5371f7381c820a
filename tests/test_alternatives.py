"""Swapping the two sides of a choice ("the red block or the blue block")."""

import pytest

from robollm.planner.alternatives import swap_alternatives


@pytest.mark.parametrize("text, swapped", [
    ("put the red block or the blue block in the green bowl", "put the blue block or the red block in the green bowl"),
    ("pick up the red or the blue block", "pick up the blue or the red block"),
    ("pick up the red or blue block", "pick up the blue or red block"),
    ("pick up the red block or the blue one", "pick up the blue block or the red one"),
    ("pick up either the red block or the blue block", "pick up either the blue block or the red block"),
    ("pick up the red block or the blue cube", "pick up the blue block or the red cube"),
    ("put the block in the bowl or the plate", "put the block in the plate or the bowl"),
    ("put the red block or the blue bowl on the plate", "put the blue bowl or the red block on the plate"),
    ("Pick up the gray cube or the blue cube.", "Pick up the blue cube or the gray cube."),
    ("put the red block or the blue block in the green bowl or the white bowl",
     "put the blue block or the red block in the white bowl or the green bowl"),
])
def test_the_two_alternatives_change_places(text, swapped):
    assert swap_alternatives(text) == swapped


@pytest.mark.parametrize("text", [
    "put the red block in the green bowl",
    "put the red block in the bowl or on the plate",  # not two objects
    "put the red block in the green bowl or else stop",
    "stack the red or the red block",  # no choice
    "put the blocks or the cups away",  # groups, not one of two
    "or the red block",
    "the red block or",
    "pick up the red block or the blue block or the green block",  # three: no two orders
    "pick up the red or the blue or the green block",
    "pick up the red block, the blue block or the green block",
])
def test_no_choice_no_swap(text):
    assert swap_alternatives(text) is None
