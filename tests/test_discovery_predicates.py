"""The relations skill discovery adds (upright, at_edge, touching): parsing, geometry on
perceived scenes and in the simulator, shaping distances, and effects derived from them."""

from __future__ import annotations

import math

import pytest

from robollm.config import load_config
from robollm.errors import UserError
from robollm.geometry import Box, Pose, quat_from_rpy
from robollm.session import Session
from robollm.world.effects import derive_effect
from robollm.world.geometric import tilt
from robollm.world.perceived import PerceivedFacts
from robollm.world.predicates import evaluate, parse
from robollm.world.scene import ObjectSpec, SceneSpec
from robollm.world.shaping import predicate_distance
from robollm.world.state import ObjectInfo, SceneState
from robollm.world.symbolic import from_scene

REGIONS = {"left": Box((0.28, 0.14, 0.0), (0.72, 0.58, 0.5)),
           "middle": Box((0.28, -0.14, 0.0), (0.72, 0.14, 0.5)),
           "right": Box((0.28, -0.58, 0.0), (0.72, -0.14, 0.5))}


def block(name: str, x: float, y: float, orn=(0.0, 0.0, 0.0, 1.0), size: float = 0.04) -> ObjectInfo:
    return ObjectInfo(name, "block", name.split("_")[0], size, Pose((x, y, 0.0), orn), size, (size, size))


def scene(*objs: ObjectInfo) -> SceneState:
    return SceneState({o.name: o for o in objs}, {"left": None, "right": None}, REGIONS)


def test_new_relations_parse_and_check_their_arguments():
    assert str(parse("not upright(red_cup) and at_edge(red_block, left)")) == \
        "not upright(red_cup) and at_edge(red_block, left)"
    with pytest.raises(UserError, match="'touching' at column 1 takes 2 arguments"):
        parse("touching(a)")


def test_perceived_geometry_of_the_new_relations():
    tipped = quat_from_rpy(math.pi / 2, 0.0, 0.0)
    s = scene(block("red_block", 0.70, 0.3), block("blue_block", 0.5, 0.3),
              block("green_block", 0.5, 0.341), block("grey_cup", 0.4, -0.3, tipped))
    facts = PerceivedFacts(s)
    assert evaluate(parse("at_edge(red_block, left)"), facts)
    assert not evaluate(parse("at_edge(blue_block, left)"), facts)
    assert not evaluate(parse("at_edge(red_block, right)"), facts)
    assert evaluate(parse("touching(blue_block, green_block) and not touching(red_block, blue_block)"), facts)
    assert evaluate(parse("not upright(grey_cup) and upright(red_block)"), facts)
    assert tilt(tipped) == pytest.approx(math.pi / 2)


def test_shaping_distance_is_zero_exactly_where_the_predicate_holds_and_shrinks_towards_it():
    goal = parse("at_edge(red_block, left)")
    far, closer, there = (scene(block("red_block", x, 0.3)) for x in (0.5, 0.6, 0.695))
    d = [predicate_distance(goal, s) for s in (far, closer, there)]
    assert d[0] > d[1] > d[2] == 0.0
    assert predicate_distance(parse("not upright(red_block)"), far) > 0.0
    assert predicate_distance(parse("at_edge(red_block, left) or upright(red_block)"), far) == 0.0


def test_effect_from_a_success_predicate_updates_the_symbolic_state():
    s = scene(block("red_block", 0.4, 0.3), block("blue_block", 0.5, 0.3), block("grey_cup", 0.4, -0.3))
    state = from_scene(s)
    derive_effect(parse("at_edge(red_block, left)")).apply(state)
    derive_effect(parse("not upright(grey_cup) and at(grey_cup, right)")).apply(state)
    derive_effect(parse("touching(blue_block, red_block) and not on(blue_block, red_block)")).apply(state)
    assert evaluate(parse("at_edge(red_block, left) and not upright(grey_cup) and at(grey_cup, right) "
                          "and touching(red_block, blue_block)"), state)
    state.put("red_block", "at", "middle")  # moving it again undoes what was stated about it
    assert not evaluate(parse("at_edge(red_block, left) or touching(red_block, blue_block)"), state)
    with pytest.raises(UserError, match="conjunction"):
        derive_effect(parse("upright(red_block) or at(red_block, left)"))
    with pytest.raises(UserError, match="cannot state"):
        derive_effect(parse("holding(left, red_block)"))


def test_simulator_judges_the_new_relations_from_its_geometry():
    spec = SceneSpec([ObjectSpec("block", "red", pose=[0.695, 0.3]), ObjectSpec("block", "blue", pose=[0.5, 0.3]),
                      ObjectSpec("block", "yellow", pose=[0.5, 0.3451]), ObjectSpec("cup", "grey", pose=[0.4, -0.3])],
                     source="test")
    with Session(load_config(), spec, 0) as session:
        facts = session.facts()
        assert evaluate(parse("at_edge(red_block, left) and not at_edge(blue_block, left)"), facts)
        assert evaluate(parse("touching(blue_block, yellow_block) and not touching(red_block, blue_block)"), facts)
        assert evaluate(parse("upright(grey_cup)"), facts)
        world = session.robot.world
        body = world.objects["grey_cup"].body
        world.pb.resetBasePositionAndOrientation(body, (0.4, -0.3, 0.035), quat_from_rpy(math.pi / 2, 0, 0))
        world.settle(0.3)
        assert evaluate(parse("not upright(grey_cup) and at(grey_cup, right)"), facts)
