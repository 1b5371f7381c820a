"""Names stay stable from look to look; holds follow the hand; look-alikes get suffixes."""

from __future__ import annotations

import pytest

from robollm.perception.tracking import Detection, Gripper, Tracker


def det(colour: str, kind: str, x: float, y: float, z: float = 0.0, size: float = 0.045) -> Detection:
    return Detection(kind, colour, 0.9, 0.9, (x, y), z, size, (size, size), 0.0, size)


OPEN = Gripper((0.3, 0.3, 0.4), 0.08, 0.08)


def test_names_follow_the_scene_convention_with_suffixes_for_look_alikes():
    t = Tracker()
    t.update([det("grey", "block", 0.4, 0.0), det("grey", "block", 0.5, 0.1), det("red", "bowl", 0.6, -0.2, size=0.15)])
    assert sorted(t.tracks) == ["grey_block", "grey_block_2", "red_bowl"]


def test_a_moved_object_keeps_its_name_and_look_alikes_keep_theirs_by_position():
    t = Tracker()
    t.update([det("grey", "block", 0.4, 0.0), det("grey", "block", 0.5, 0.2), det("red", "block", 0.6, -0.2)])
    first = {n: tr.position[:2] for n, tr in t.tracks.items()}
    # The red block was pushed 20 cm; the two grey ones swapped order in the list.
    t.update([det("grey", "block", 0.51, 0.2), det("grey", "block", 0.4, 0.01), det("red", "block", 0.6, 0.0)])
    assert sorted(t.tracks) == ["grey_block", "grey_block_2", "red_block"]
    assert t.tracks["grey_block"].position[:2] == pytest.approx((0.4, 0.01))
    assert t.tracks["grey_block_2"].position[:2] == pytest.approx((0.51, 0.2))
    assert t.tracks["red_block"].position[:2] == pytest.approx((0.6, 0.0))
    assert first["grey_block"] != t.tracks["grey_block"].position[:2]


def test_an_object_read_differently_in_place_keeps_its_name_and_what_it_is():
    t = Tracker()
    t.update([det("red", "block", 0.4, 0.0)])
    t.update([det("orange", "block", 0.405, 0.0)])
    assert list(t.tracks) == ["red_block"]
    assert t.tracks["red_block"].det.colour == "red"


def test_an_unseen_object_keeps_its_last_pose():
    t = Tracker()
    t.update([det("red", "block", 0.4, 0.0), det("blue", "block", 0.5, 0.1)])
    t.update([det("red", "block", 0.4, 0.0)])  # the blue block is hidden
    assert t.tracks["blue_block"].position[:2] == (0.5, 0.1)


def test_a_hold_starts_on_the_object_under_the_closed_fingers_and_follows_the_hand():
    t = Tracker()
    t.update([det("red", "block", 0.4, 0.0), det("blue", "block", 0.5, 0.1)])
    grip = Gripper((0.401, 0.0, 0.045 - 0.018), 0.045, 0.08)  # closed on the red block's top
    t.update_holds({"left": grip, "right": OPEN})
    assert t.holding() == {"left": "red_block"}
    t.update_holds({"left": Gripper((0.45, 0.05, 0.25), 0.045, 0.08), "right": OPEN})
    x, y, z = t.tracks["red_block"].position
    assert (x, y) == pytest.approx((0.449, 0.05)) and z == pytest.approx(0.25 - 0.027)
    # Held objects are not matched against what the camera sees.
    t.update([det("red", "block", 0.4, 0.0)])
    assert sorted(t.tracks) == ["blue_block", "red_block", "red_block_2"]
    t.update_holds({"left": Gripper((0.45, 0.05, 0.05), 0.08, 0.08), "right": OPEN})  # let go
    assert t.holding() == {}


def test_fingers_closed_on_nothing_hold_nothing_and_a_tray_rides_on_two_hands():
    t = Tracker()
    tray = Detection("tray", "grey", 0.9, 0.9, (0.6, 0.0), 0.0, 0.045, (0.21, 0.43), 0.0, 0.34)
    t.update([tray])
    t.update_holds({"left": Gripper((0.6, 0.19, 0.03), 0.0, 0.08), "right": OPEN})
    assert t.holding() == {}
    t.update_holds({"left": Gripper((0.6, 0.19, 0.033), 0.04, 0.08),
                    "right": Gripper((0.6, -0.19, 0.033), 0.04, 0.08)})
    assert t.holding() == {"left": "grey_tray", "right": "grey_tray"}
    t.update_holds({"left": Gripper((0.6, 0.19, 0.2), 0.04, 0.08), "right": Gripper((0.6, -0.19, 0.2), 0.04, 0.08)})
    assert t.tracks["grey_tray"].position[2] > 0.15


def test_what_stands_in_a_lifted_tray_goes_up_with_it_and_comes_down_with_it():
    t = Tracker()
    tray = Detection("tray", "grey", 0.9, 0.9, (0.6, 0.0), 0.0, 0.045, (0.21, 0.43), 0.0, 0.34)
    t.update([tray, det("red", "block", 0.6, 0.08, z=0.013), det("blue", "block", 0.4, 0.3)])
    hands = {"left": Gripper((0.6, 0.19, 0.033), 0.04, 0.08), "right": Gripper((0.6, -0.19, 0.033), 0.04, 0.08)}
    t.update_holds(hands)
    up = {a: Gripper((g.position[0], g.position[1], 0.2), 0.04, 0.08) for a, g in hands.items()}
    t.update_holds(up)
    assert t.carried() == {"grey_tray", "red_block"}
    rise = t.tracks["grey_tray"].position[2]
    assert rise == pytest.approx(0.2 - 0.033, abs=0.008)  # the hands rose 16.7 cm
    assert t.tracks["red_block"].position[2] == pytest.approx(0.013 + rise)
    assert t.tracks["blue_block"].position[2] == 0.0
    t.update_holds({a: Gripper(g.position, 0.08, 0.08) for a, g in hands.items()})
    assert t.carried() == set() and t.holding() == {}


def test_fingers_closed_on_an_object_that_stayed_down_do_not_hold_it():
    t = Tracker()
    t.update([det("red", "block", 0.4, 0.0)])
    t.update_holds({"left": Gripper((0.4, 0.0, 0.22), 0.045, 0.08)})  # closed, then rose alone
    assert t.holding() == {"left": "red_block"}
    t.update([det("red", "block", 0.401, 0.0)])  # the camera still sees it on the table
    assert t.holding() == {} and list(t.tracks) == ["red_block"]
    assert t.tracks["red_block"].position == pytest.approx((0.401, 0.0, 0.0))


def test_a_bowl_half_hidden_and_read_as_a_cup_stays_the_bowl_but_a_block_in_it_is_new():
    t = Tracker()
    t.update([det("green", "bowl", 0.33, -0.54, size=0.15)])
    t.update([det("green", "cup", 0.33, -0.51, size=0.15)])  # an arm hides part of it
    assert list(t.tracks) == ["green_bowl"]
    t.update([det("green", "bowl", 0.33, -0.54, size=0.15), det("green", "block", 0.33, -0.53, 0.01)])
    assert sorted(t.tracks) == ["green_block", "green_bowl"]


def test_a_block_let_go_on_a_stack_keeps_its_name_though_read_as_another_type():
    """The look after a place comes when the hand has moved on; the block it let go on top
    of another is seen from the side and read as a cup: it is still the block."""
    t = Tracker()
    t.update([det("orange", "block", 0.54, 0.25), det("yellow", "block", 0.32, 0.34)])
    t.update_holds({"left": Gripper((0.54, 0.25, 0.04), 0.045, 0.08)})
    assert t.holding() == {"left": "orange_block"}
    t.update_holds({"left": Gripper((0.54, 0.25, 0.2), 0.045, 0.08)})
    t.update_holds({"left": Gripper((0.30, 0.30, 0.4), 0.08, 0.08)})  # let go, then moved away
    t.update([det("orange", "cup", 0.32, 0.345, z=0.045), det("yellow", "block", 0.32, 0.34)])
    assert sorted(t.tracks) == ["orange_block", "yellow_block"]
    assert t.tracks["orange_block"].position == pytest.approx((0.32, 0.345, 0.045))
    assert t.tracks["orange_block"].det.type == "block"


def test_a_block_set_on_top_of_another_is_not_taken_for_the_one_below():
    t = Tracker()
    t.update([det("orange", "block", 0.32, 0.34, z=0.045), det("pink", "block", 0.66, 0.35)])
    t.update_holds({"left": Gripper((0.66, 0.35, 0.04), 0.045, 0.08)})
    t.update_holds({"left": Gripper((0.30, 0.30, 0.4), 0.08, 0.08)})  # set on the orange one, let go
    t.update([det("pink", "block", 0.32, 0.345, z=0.09)])  # the orange block is hidden under it
    assert t.tracks["pink_block"].position == pytest.approx((0.32, 0.345, 0.09))
    assert t.tracks["orange_block"].position == pytest.approx((0.32, 0.34, 0.045))


def test_strips_of_a_block_under_another_are_that_block_not_new_things():
    """Under a white block, the camera sees only thin strips of the black block's sides,
    off its centre and read as anything: the black block keeps its pose and size, and no
    new object appears."""
    t = Tracker()
    t.update([det("black", "block", 0.55, -0.05), det("white", "block", 0.32, 0.48)])
    t.update([det("white", "block", 0.55, -0.05, z=0.045),
              Detection("block", "green", 0.9, 0.9, (0.572, -0.039), 0.0, 0.045, (0.016, 0.032), 0.0, 0.024),
              Detection("block", "black", 0.9, 0.9, (0.559, -0.068), 0.0, 0.045, (0.009, 0.016), 0.0, 0.012)])
    assert sorted(t.tracks) == ["black_block", "white_block"]
    black = t.tracks["black_block"]
    assert black.position == (0.55, -0.05, 0.0) and black.det.size == 0.045 and black.seen == t.looks
    assert t.tracks["white_block"].position == (0.55, -0.05, 0.045)


def test_a_small_block_beside_a_stack_is_not_taken_for_the_lower_blocks_side():
    t = Tracker()
    t.update([det("black", "block", 0.55, -0.05), det("white", "block", 0.55, -0.05, z=0.045)])
    t.update([det("black", "block", 0.55, -0.05), det("white", "block", 0.55, -0.05, z=0.045),
              det("red", "block", 0.62, -0.05, size=0.03)])
    assert "red_block" in t.tracks


def test_a_block_let_go_on_a_stack_and_seen_merged_with_the_one_below_keeps_its_name():
    """A grey block set on a white one can be seen as one grey region with it (their sides
    meet at one height, and their brightness differs little): the grey block, just let
    go, is that region, not the white one that happens to stand there."""
    t = Tracker()
    t.update([det("white", "block", 0.55, -0.05, z=0.045), det("grey", "block", 0.32, 0.48)])
    t.update_holds({"right": Gripper((0.32, 0.48, 0.04), 0.045, 0.08)})
    t.update_holds({"right": Gripper((0.30, 0.30, 0.4), 0.08, 0.08)})  # set on the white one, let go
    t.update([det("grey", "block", 0.55, -0.05, z=0.045)])
    assert t.tracks["grey_block"].position[:2] == pytest.approx((0.55, -0.05))
    assert not t.tracks["grey_block"].let_go
    assert t.tracks["white_block"].position == pytest.approx((0.55, -0.05, 0.045))
