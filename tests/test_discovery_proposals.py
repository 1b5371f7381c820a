"""Proposals: where they come from, and the checks that reject them with a reason."""

from __future__ import annotations

import pytest

from robollm.config import load_config
from robollm.session import Session, skill_registry
from robollm.training.discovery.proposals import (
    FALLBACK_TEMPLATES,
    bind,
    library_reaches,
    propose_and_check,
)
from robollm.world.scene import load_scene
from robollm.world.symbolic import from_scene


@pytest.fixture(scope="module")
def world():
    config, scene = load_config(), load_scene("discovery")
    probes = []
    for seed in range(2):
        with Session(config, scene, seed) as session:
            probes.append(session.observe())
            arms = session.robot.arms
    return scene, probes, hand_written(), arms


def hand_written():
    """The library without the skills discovery added: what discovery proposes against first."""
    from robollm.registry import Registry
    from robollm.skills.catalog import BUILTIN

    registry = Registry("skill", plugins=False)
    for skill_id, entry_point in BUILTIN.items():
        registry.register(skill_id, entry_point)
    return registry


def stages(proposals):
    return {p.name: (p.stage, p.reason) for p in proposals}


def test_templates_are_used_when_no_model_can_generate_and_the_checks_sort_them(world):
    scene, probes, library, arms = world
    proposals, source, _ = propose_and_check(scene, probes, library, arms, None, log=lambda _: None)
    assert source.startswith("templates")
    found = stages(proposals)
    assert [n for n, (stage, _) in found.items() if stage == "proposed"] == \
        ["slide_to_edge", "tip_over", "nudge_against"]
    assert found["slide_into_region"][1].startswith("the library already does this: push(red_block, middle)")
    assert found["raise"][1].startswith("the library already does this: pick(red_block)")
    assert "already holds at the start" in found["stand_up"][1]


def test_model_lines_that_do_not_parse_or_name_unknown_relations_are_rejected_and_the_loop_goes_on(world):
    scene, probes, library, arms = world
    text = ("push_off | tip the {obj} over | not upright({obj}\n"
            "hover | make the {obj} hover | floating({obj})\n"
            "just words\n"
            "knock_over | knock the {obj} over | not upright({obj})\n")
    proposals, source, refused = propose_and_check(scene, probes, library, arms, lambda _: text,
                                                   log=lambda _: None)
    assert source == "model"
    found = stages(proposals)
    assert found["push_off"][0] == "rejected" and "expected" in found["push_off"][1]
    assert found["hover"][0] == "rejected" and "unknown relation 'floating'" in found["hover"][1]
    assert found["knock_over"][0] == "proposed"  # "cup" is not in its template: it binds to a block
    assert refused == [{"line": "just words", "reason": "not 'name | template | predicate'"}]


def test_templates_take_over_when_the_model_cannot_generate_or_nothing_survives(world):
    scene, probes, library, arms = world

    def cannot(_prompt: str) -> str:
        raise NotImplementedError("FakeLanguageModel cannot generate text")

    _, source, _ = propose_and_check(scene, probes, library, arms, cannot, log=lambda _: None)
    assert "cannot generate" in source
    proposals, source, refused = propose_and_check(
        scene, probes, library, arms, lambda _: "lift | lift the {obj} | lifted({obj})", log=lambda _: None)
    assert "none of the model's proposals passed" in source
    assert any(p.name == "slide_to_edge" and p.stage == "proposed" for p in proposals)
    assert refused[0]["reason"].startswith("the library already does this")


def test_novelty_search_finds_library_plans_two_calls_deep(world):
    _, probes, library, _ = world
    state = from_scene(probes[0])
    assert [str(c) for c in library_reaches("in(red_block, white_cup)", state, library)] == \
        ["pick(red_block)", "place(red_block, white_cup)"]
    assert library_reaches("at_edge(red_block, left)", state, library) is None


def test_a_template_needs_what_it_names():
    from robollm.errors import UserError
    from robollm.world.scene import ObjectSpec, SceneSpec

    only_cup = SceneSpec([ObjectSpec("cup", "white")], source="test")
    with pytest.raises(UserError, match="has no block"):
        bind(FALLBACK_TEMPLATES[0], only_cup, "templates")


def test_a_shipped_discovered_skill_makes_its_proposal_a_duplicate(world):
    scene, probes, _, arms = world
    library = skill_registry(load_config())
    if "slide_to_edge" not in library:
        pytest.skip("no discovered skills shipped")
    proposals, _, _ = propose_and_check(scene, probes, library, arms, None, log=lambda _: None)
    assert stages(proposals)["slide_to_edge"] == \
        ("rejected", "the library already does this: slide_to_edge(red_block, left)")


def test_shipped_skills_state_their_predicate_over_their_parameters():
    """The manifest's predicate, bound to the training arguments, is what was trained and
    verified, and it parses for every value a region parameter can take."""
    import json

    from robollm.skills.catalog import DISCOVERED_DIR
    from robollm.world.predicates import parse

    manifests = sorted(DISCOVERED_DIR.glob("*/manifest.json"))
    for path in manifests:
        data = json.loads(path.read_text())
        trained = json.loads((path.parent / "training.json").read_text())["proposal"]["success"]
        assert data["success_template"].format(**data["trained_with"]) == trained
        for region in ("left", "middle", "right"):
            args = {**data["trained_with"], **({"region": region} if "region" in data["params"] else {})}
            parse(data["success_template"].format(**args))


def test_a_start_near_the_arms_base_counts_when_the_arm_can_come_down_to_it():
    """Layout 100011 puts the red block 0.28 m from the left arm's base: the approach from
    10 cm above is out of reach, the one from lower down is not."""
    from robollm.skills.discovered import discovered_manifests
    from robollm.training.discovery.features import APPROACH_HEIGHTS, PolicyTask, plan_start
    from robollm.training.discovery.verify import make_skill

    nudge = make_skill(next(m for m in discovered_manifests() if m.parent.name == "nudge_against"))
    args = {"obj": "red_block", "target": "blue_block"}
    with Session(load_config(), load_scene("discovery"), 100011) as session:
        scene = session.observe()
        task = PolicyTask(nudge.success(**args), "red_block", push_height=nudge.push_height)
        assert plan_start(scene, task, session.motion.arms) is None  # geometry alone: too near the base
        start = nudge.start(scene, session.motion, **args)
        assert start is not None and start.arm == "left" and start.approach < APPROACH_HEIGHTS[0]
