"""Every registered skill, run in simulation from five seeds.

For each skill: the outcome succeeds; the skill's symbolic effect (`apply`) predicts
the physical result for every relation over its arguments; and a call whose
preconditions fail returns a failure that carries a reason.
"""

import pytest

from robollm.config import load_config
from robollm.plan import SkillCall
from robollm.session import Session, skill_registry
from robollm.world.scene import ObjectSpec, SceneSpec

BLOCKS = SceneSpec([ObjectSpec("block", "red", region="middle"), ObjectSpec("bowl", "green", region="left"),
                    ObjectSpec("block", "blue", region="right")], source="conformance")
TRAY = SceneSpec([ObjectSpec("tray", "grey", material="metal")], source="conformance tray")

# skill -> (scene, setup steps, the call, a call whose preconditions fail)
SCENARIOS = {
    "pick": (BLOCKS, [], SkillCall("pick", ("red_block",)), SkillCall("pick", ("green_bowl",))),
    "place": (BLOCKS, [SkillCall("pick", ("red_block",))], SkillCall("place", ("red_block", "green_bowl")),
              SkillCall("place", ("blue_block", "green_bowl"))),
    "hand_over": (BLOCKS, [SkillCall("pick", ("red_block",))], SkillCall("hand_over", ("red_block",)),
                  SkillCall("hand_over", ("blue_block",))),
    "push": (BLOCKS, [], SkillCall("push", ("red_block", "left")),
             SkillCall("push", ("red_block", "red_block"))),
    "lift_with_both_arms": (TRAY, [], SkillCall("lift_with_both_arms", ("grey_tray",)),
                            SkillCall("lift_with_both_arms", ("middle",))),
    "put_down": (TRAY, [SkillCall("lift_with_both_arms", ("grey_tray",))],
                 SkillCall("put_down", ("grey_tray", "middle")), SkillCall("put_down", ("grey_tray", "middle"))),
    "knock": (BLOCKS, [], SkillCall("knock", ("red_block",)), SkillCall("knock", ("left",))),
    "touch": (BLOCKS, [], SkillCall("touch", ("blue_block",)), SkillCall("touch", ("right",))),
    "weigh": (BLOCKS, [], SkillCall("weigh", ("red_block",)), SkillCall("weigh", ("green_bowl",))),
}
SEEDS = range(5)


def registered_skills():
    return skill_registry(load_config()).names()


def test_every_registered_skill_has_a_scenario():
    assert sorted(SCENARIOS) == registered_skills()


def relation_atoms(state, args):
    objs = [a for a in args if a in state.objects()]
    atoms = []
    for o in objs:
        atoms += [("holding", (arm, o)) for arm in ("left", "right")]
        atoms.append(("lifted", (o,)))
        atoms += [("at", (o, r)) for r in sorted(state.regions())]
        for t in state.objects():
            if t != o:
                atoms += [("in", (o, t)), ("on", (o, t))]
    return atoms


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("skill", sorted(SCENARIOS))
def test_skill_succeeds_and_its_effect_matches_physics(skill, seed):
    scene, setup, call, _ = SCENARIOS[skill]
    with Session(load_config(), scene, seed) as session:
        for step in setup:
            assert session.execute(step).outcome.success, f"setup {step} failed"
        predicted = session.state.copy()
        args = session.bind(call)
        assert session.skill(skill).apply(predicted, **args).success
        out = session.execute(call).outcome
        assert out.success, f"{call} failed on seed {seed}: {out.reason}"
        physical = session.facts()
        mismatches = [(rel, a) for rel, a in relation_atoms(predicted, call.args)
                      if predicted.holds(rel, a) != physical.holds(rel, a)]
        assert not mismatches, f"symbolic effect disagrees with physics on {mismatches}"


@pytest.mark.parametrize("skill", sorted(SCENARIOS))
def test_failures_carry_reasons(skill):
    scene, _, _, bad = SCENARIOS[skill]
    for executor in ("symbolic", "physics"):
        with Session(load_config(), scene, 0, executor=executor) as session:
            out = session.execute(bad).outcome
            assert not out.success and out.reason, (executor, bad, out)


def weak_grip_config(tmp_path, force=0.001):
    """The default launch with a grasp force far too weak to hold a block, for both arms."""
    import yaml

    from robollm.config import default_config_path

    data = yaml.safe_load(default_config_path().read_text())
    for arm in ("left", "right"):
        data["robot"]["controllers"][arm] = {arm: {"grasp_force": force}}
    path = tmp_path / "weak.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_config(path)


@pytest.mark.parametrize("obj", ["red_block", "blue_block"])
def test_a_pick_that_holds_nothing_fails_from_what_is_sensed(obj, tmp_path):
    """The fingers stop on the block, so the width looks like a grasp, but the block stays down."""
    with Session(weak_grip_config(tmp_path), BLOCKS, 0) as session:
        out = session.execute(SkillCall("pick", (obj,))).outcome
        facts = session.facts()
        assert not facts.holds("lifted", (obj,))
        assert not out.success, out
        assert out.reason.startswith(f"grasp failed: the {obj.replace('_', ' ')} did not rise with the hand")
        assert not any(facts.holds("holding", (arm, obj)) for arm in ("left", "right"))
