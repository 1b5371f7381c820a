"""Pushing along the table: arm choice, where the push aims, the skill's own checks, and
pushes in PyBullet (DIRECT, seeded) on the built-in `push` scene."""

from __future__ import annotations

import math

import pytest

from robollm.config import load_config
from robollm.geometry import Pose
from robollm.plan import SkillCall
from robollm.robot.rig import arm_specs
from robollm.session import Session
from robollm.skills.push import PUSH_DISTANCE, Push, destination
from robollm.world.regions import table_regions
from robollm.world.scene import load_scene, scene_from_dict
from robollm.world.state import ObjectInfo, SceneState
from robollm.world.symbolic import from_scene


def block(name: str, x: float, y: float, yaw: float = 0.0) -> ObjectInfo:
    orn = (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))
    return ObjectInfo(name, "block", name.split("_")[0], 0.045, Pose((x, y, 0.0), orn), 0.045,
                      (0.045, 0.045))


def scene(*objects: ObjectInfo) -> SceneState:
    cfg = load_config()
    return SceneState({o.name: o for o in objects}, {"left": None, "right": None},
                      table_regions(cfg.table, arm_specs(cfg.robot)))


# -- symbolic: preconditions and arm choice ----------------------------------------------
def test_arm_choice_follows_reach_like_pick() -> None:
    s = scene(block("red_block", 0.5, 0.0), block("blue_block", 0.5, -0.4))
    state = from_scene(s)
    assert Push().apply(state.copy(), obj="red_block", target="left").arm == "left"
    assert Push().apply(state.copy(), obj="red_block", target="right").arm == "right"
    assert Push().apply(state.copy(), obj="blue_block", target="forward").arm == "right"
    state.put("blue_block", "held", "left")  # the left hand is full: the right one pushes
    assert Push().apply(state.copy(), obj="red_block", target="forward").arm == "right"
    out = Push().apply(state.copy(), obj="red_block", target="left")
    assert not out.success and out.reason == "a hand is full" and out.arm == "left"


def test_push_effects_and_reasons() -> None:
    state = from_scene(scene(block("red_block", 0.5, 0.0), block("blue_block", 0.5, -0.4)))
    out = Push().apply(state, obj="red_block", target="left")
    assert out.success and state.holds("at", ("red_block", "left"))
    assert Push().apply(state, obj="red_block", target="left").reason == \
        "the red block is already in the left region"
    assert Push().apply(state, obj="blue_block", target="left").reason == "target out of reach"
    assert Push().apply(state, obj="green_block", target="left").reason == "object not found"
    state.put("red_block", "on", "blue_block")
    assert Push().apply(state, obj="blue_block", target="forward").reason == "something is on the blue block"
    assert Push().apply(state, obj="red_block", target="forward").reason == \
        "the red block is not standing on the table"


def test_destinations_cross_the_boundary_and_stop_short_of_the_table_edge() -> None:
    s = scene(block("red_block", 0.5, 0.0), block("far_block", 0.66, 0.3))
    red = s.objects["red_block"]
    x, y = destination(s, red, "left")
    assert x == pytest.approx(0.5) and s.regions["left"].low[1] + 0.0225 < y < 0.2
    assert destination(s, red, "leftward") == pytest.approx((0.5, PUSH_DISTANCE))
    assert destination(s, red, "backward") == pytest.approx((0.5 - PUSH_DISTANCE, 0.0))
    # 6 cm from the far edge, a forward push goes only as far as the table allows.
    fx, _ = destination(s, s.objects["far_block"], "forward")
    assert fx == pytest.approx(s.regions["left"].high[0] - 0.0225 - 0.02)


def test_the_skill_checks_where_the_object_went() -> None:
    before = scene(block("red_block", 0.5, 0.0))
    still = Push()._verify(before, before.objects["red_block"], "left", (0.5, 0.2), "left")
    assert not still.success and still.reason == "object did not move"
    short = scene(block("red_block", 0.5, 0.06))
    out = Push()._verify(short, before.objects["red_block"], "left", (0.5, 0.2), "left")
    assert out.reason == "the red block stopped short of the left region"
    out = Push()._verify(short, before.objects["red_block"], "leftward", (0.5, 0.2), "left")
    assert out.reason == "the red block moved only 6 cm"
    tipped = scene(ObjectInfo("red_block", "block", "red", 0.045,
                              Pose((0.5, 0.1, 0.0), (0.7071, 0.0, 0.0, 0.7071)), 0.045, (0.045, 0.045)))
    assert Push()._verify(tipped, before.objects["red_block"], "leftward", (0.5, 0.1),
                          "left").reason == "the red block tipped over"


# -- physics ---------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 3])
def test_push_from_the_middle_into_the_left_region(seed: int) -> None:
    with Session(load_config(), load_scene("push"), seed) as s:
        start = s.observe().objects["red_block"].pose.position
        out = s.execute(SkillCall("push", ("red_block", "left"))).outcome
        assert out.success, out.reason
        facts = s.facts()
        assert facts.holds("at", ("red_block", "left"))
        assert not facts.holds("lifted", ("red_block",))
        assert s.observe().holding == {"left": None, "right": None}
        end = s.observe().objects["red_block"].pose.position
        assert abs(end[0] - start[0]) < 0.03  # it went sideways, not forwards


@pytest.mark.slow
def test_pushes_in_each_direction_move_the_block_about_ten_centimetres() -> None:
    centre = {"objects": [{"type": "block", "colour": "red", "pose": [0.5, 0.0, 0.2]}]}
    with Session(load_config(), scene_from_dict(centre, "centre"), 0) as s:
        for direction, (dx, dy) in (("forward", (1, 0)), ("leftward", (0, 1)),
                                    ("backward", (-1, 0)), ("rightward", (0, -1))):
            x0, y0, _ = s.observe().objects["red_block"].pose.position
            out = s.execute(SkillCall("push", ("red_block", direction))).outcome
            assert out.success, (direction, out.reason)
            x1, y1, _ = s.observe().objects["red_block"].pose.position
            along, across = (x1 - x0) * dx + (y1 - y0) * dy, abs((x1 - x0) * dy - (y1 - y0) * dx)
            assert 0.07 < along < 0.13 and across < 0.03, (direction, along, across)


@pytest.mark.slow
def test_a_push_with_something_in_the_way_is_refused() -> None:
    crowded = {"objects": [{"type": "block", "colour": "red", "pose": [0.5, 0.0]},
                           {"type": "block", "colour": "blue", "pose": [0.5, 0.09]}]}
    with Session(load_config(), scene_from_dict(crowded, "crowded"), 0) as s:
        out = s.execute(SkillCall("push", ("red_block", "leftward"))).outcome
        assert not out.success and out.reason == "the blue block is in the way"
        out = s.execute(SkillCall("push", ("red_block", "red_block"))).outcome
        assert not out.success and out.reason
