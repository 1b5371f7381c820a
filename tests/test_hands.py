"""Skills that name the hand (skills/hands.py): the arm is the planner's choice, within reach."""

from __future__ import annotations

import dataclasses

import pytest

from robollm.config import load_config
from robollm.plan import SkillCall
from robollm.planner.candidates import describe, enumerate_calls
from robollm.session import Session, skill_registry
from robollm.world.scene import ObjectSpec, SceneSpec
from tests.test_skill_conformance import relation_atoms

# A red block each arm reaches (middle), a blue one only the right arm reaches, a green
# one only the left arm reaches.
SCENE = SceneSpec([ObjectSpec("block", "red", region="middle"), ObjectSpec("block", "blue", region="right"),
                   ObjectSpec("block", "green", region="left"), ObjectSpec("bowl", "white", region="middle")],
                  source="hands")


@pytest.fixture(scope="module")
def config():
    base = load_config()
    return dataclasses.replace(base, skills=dataclasses.replace(
        base.skills, library="robollm.skills.catalog:register_with_hands"))


def test_the_library_with_hands_adds_two_skills_and_is_the_default(config):
    builtin = dataclasses.replace(config, skills=dataclasses.replace(
        config.skills, library="robollm.skills.catalog:register_builtin"))
    assert set(skill_registry(config).names()) - set(skill_registry(builtin).names()) == {"pick_with", "pick_both"}
    assert load_config().skills.library == config.skills.library  # the default adapter is tuned with them


def test_candidates_name_the_hand_and_the_rules_keep_what_an_arm_can_do(config):
    with Session(config, SCENE, 0, executor="symbolic") as session:
        skills = {name: session.skill(name) for name in session.skills.names()}
        texts = {describe(skills, c): c for c in enumerate_calls(skills, session.state)}
        assert "pick up the red block with the left hand" in texts
        assert "pick up the green block with the left hand and the blue block with the right hand" in texts
        assert not any("white bowl with the" in t for t in texts)  # a bowl is not picked with one hand
        state = session.state
        out = session.skill("pick_with").apply(state.copy(), obj="blue_block", arm="left")
        assert not out.success and out.reason == "the blue block is out of the left arm's reach"
        out = session.skill("pick_both").apply(state.copy(), obj="blue_block", target="green_block")
        assert not out.success and "out of the left arm's reach" in out.reason
        bad = session.skill("pick_with").check_args({"obj": "red_block", "arm": "middle"}, state)
        assert bad == "middle is not a valid arm for pick_with"


@pytest.mark.parametrize("call", [SkillCall("pick_with", ("red_block", "left")),
                                  SkillCall("pick_with", ("red_block", "right")),
                                  SkillCall("pick_both", ("green_block", "blue_block"))])
def test_the_named_hand_picks_in_physics_as_the_effect_says(config, call):
    with Session(config, SCENE, 1) as session:
        predicted = session.state.copy()
        assert session.skill(call.skill).apply(predicted, **session.bind(call)).success
        out = session.execute(call).outcome
        assert out.success, out.reason
        physical = session.facts()
        mismatches = [(rel, a) for rel, a in relation_atoms(predicted, call.args)
                      if predicted.holds(rel, a) != physical.holds(rel, a)]
        assert not mismatches
        if call.skill == "pick_with":
            assert out.arm == call.args[1] and physical.holds("holding", (call.args[1], "red_block"))
        else:
            assert out.data["pattern"] == "both_async"


def test_the_trace_names_the_arm_or_the_pattern():
    from robollm.commands.run import arm_label as hands
    from robollm.skill import Outcome

    assert hands(Outcome(True, arm="left")) == "left"
    assert hands(Outcome(True, data={"arms": ["left", "right"]})) == "both_sync"  # lift with both hands
    assert hands(Outcome(True, data={"arms": ["left", "right"], "pattern": "both_async"})) == "both_async"
    assert hands(Outcome(False, "object not found")) == ""
