"""Two-handed lifting of the steel tray: symbolic effects, skill outcomes, and the physics
that makes it a two-handed job.

The physical tests use the built-in `tray` scene: an 11.7 kg steel tray at x = 0.6 m
with the red block in it. The one-arm test grips a handle with plain `Motion` calls (no
skill involved) and lets the torque-limited joint motors decide.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from robollm.config import load_config
from robollm.geometry import Pose
from robollm.plan import SkillCall
from robollm.robot.rig import arm_specs
from robollm.session import Session
from robollm.sim.materials import MATERIAL_TABLE
from robollm.sim.objects import build_model, mass_and_com
from robollm.skills.bimanual import LiftWithBothArms, PutDown, handle_grasps
from robollm.world.regions import table_regions
from robollm.world.scene import load_scene
from robollm.world.state import ObjectInfo, SceneState
from robollm.world.symbolic import from_scene

TRAY, BLOCK = "metal_tray", "red_block"
LIFT = 0.15
G = 9.81


# -- symbolic --------------------------------------------------------------------------
def scene(held_by: tuple[str, ...] = (), tray_z: float = 0.0) -> SceneState:
    """The tray with a block in it (and one beside it), held by the given arms."""
    cfg = load_config()
    tray = ObjectInfo(TRAY, "tray", "grey", 0.34, Pose((0.6, 0.0, tray_z)), 0.045, (0.2108, 0.43))
    block = ObjectInfo(BLOCK, "block", "red", 0.045, Pose((0.6, 0.08, tray_z + 0.013)), 0.045,
                       (0.045, 0.045))
    # Beside the tray, inside its handle-to-handle length but off its floor.
    other = ObjectInfo("blue_block", "block", "blue", 0.045, Pose((0.45, 0.05, 0.0)), 0.045,
                       (0.045, 0.045))
    holding = {arm: (TRAY if arm in held_by else None) for arm in ("left", "right")}
    regions = table_regions(cfg.table, arm_specs(cfg.robot))
    return SceneState({o.name: o for o in (tray, block, other)}, holding, regions)


def test_a_tray_in_both_hands_is_held_by_both_and_lifts_what_is_in_it() -> None:
    state = from_scene(scene(held_by=("left", "right"), tray_z=0.15))
    assert state.holds("holding", ("left", TRAY)) and state.holds("holding", ("right", TRAY))
    assert state.holds("lifted", (TRAY,)) and state.holds("in", (BLOCK, TRAY))
    assert state.holds("lifted", (BLOCK,))
    assert state.region_of(BLOCK) is None
    assert not state.holds("in", ("blue_block", TRAY))  # beside the tray is not in it


def test_one_hand_holding_keeps_its_old_meaning() -> None:
    state = from_scene(scene(held_by=("left",), tray_z=0.15))
    assert state.holds("holding", ("left", TRAY)) and not state.holds("holding", ("right", TRAY))
    assert not state.held_by_both
    assert not state.holds("lifted", (BLOCK,))  # riding along is for two-handed holds


def test_lift_and_put_down_effects_and_preconditions() -> None:
    state = from_scene(scene())
    assert state.holds("in", (BLOCK, TRAY)) and state.holds("at", (TRAY, "middle"))
    assert PutDown().apply(state.copy(), obj=TRAY, target="middle").reason == \
        "not holding the metal tray with both hands"
    out = LiftWithBothArms().apply(state, obj=TRAY)
    assert out.success
    assert state.holding("left") == TRAY and state.holding("right") == TRAY
    assert state.holds("lifted", (BLOCK,))
    again = LiftWithBothArms().apply(state.copy(), obj=TRAY)
    assert not again.success and again.reason == "already holding"
    assert PutDown().apply(state, obj=TRAY, target="left").success
    assert state.holds("at", (TRAY, "left")) and state.holds("in", (BLOCK, TRAY))
    assert not state.holds("lifted", (TRAY,)) and not state.holds("lifted", (BLOCK,))
    assert state.holding("left") is None and state.holding("right") is None


def test_lift_needs_two_empty_hands_and_a_two_handed_object() -> None:
    state = from_scene(scene())
    state.put("blue_block", "held", "right")
    out = LiftWithBothArms().apply(state, obj=TRAY)
    assert not out.success and out.reason == "a hand is full" and out.arm == "right"
    assert LiftWithBothArms().apply(state, obj="green_cup").reason == "object not found"
    assert "no handles" in LiftWithBothArms().apply(state, obj=BLOCK).reason


def test_handle_grasps_sit_on_the_handles_and_follow_the_yaw() -> None:
    tray = scene().objects[TRAY]
    g = handle_grasps(tray)
    assert g["left"].position == pytest.approx((0.6, 0.1925, 0.033))
    assert g["right"].position == pytest.approx((0.6, -0.1925, 0.033))
    # Turned half round, the tray looks the same: each arm keeps the handle on its side.
    turned = ObjectInfo(TRAY, "tray", "grey", 0.34, Pose((0.6, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0)),
                        0.045, (0.2108, 0.43))
    assert handle_grasps(turned)["left"].position[1] > 0.19


def test_tray_mass_comes_from_steel_density() -> None:
    spec = load_scene("tray").objects[0]
    mass, _ = mass_and_com(build_model(spec), MATERIAL_TABLE["metal"])
    assert MATERIAL_TABLE["metal"].density == 7850.0
    assert 11.0 < mass < 12.5


# -- physics ---------------------------------------------------------------------------
@pytest.fixture
def tray_session() -> Iterator[Session]:
    with Session(load_config(), load_scene("tray"), seed=0) as s:
        yield s


def hold_torques(session: Session, arms: tuple[str, ...], seconds: float = 1.0) -> dict:
    """Peak |joint torque| per arm while holding still, as a fraction of each joint's limit."""
    robot, ratios = session.robot, {a: np.zeros(7) for a in arms}
    for _ in range(int(seconds / 0.05)):
        session.motion.wait(0.05)
        obs = robot.observe()
        for a in arms:
            ratio = np.abs(obs.arms[a].torques) / np.asarray(robot.arms[a].max_torque)
            ratios[a] = np.maximum(ratios[a], ratio)
    return ratios


@pytest.mark.slow
def test_two_arms_lift_the_tray_hold_it_and_put_it_back(tray_session: Session) -> None:
    s = tray_session
    assert all(s.config.controller("both_sync", a).grasp_force >= 70.0 for a in ("left", "right"))
    out = s.execute(SkillCall("lift_with_both_arms", (TRAY,))).outcome
    assert out.success, out.reason
    facts = s.facts()
    assert facts.holds("lifted", (TRAY,)) and facts.holds("lifted", (BLOCK,))
    assert facts.holds("holding", ("left", TRAY)) and facts.holds("holding", ("right", TRAY))
    assert facts.holds("in", (BLOCK, TRAY))
    assert s.robot.world.aabb(TRAY).low[2] > 0.6 * LIFT
    # Held still, each arm carries its half well inside its joint torque limits.
    ratios = hold_torques(s, ("left", "right"))
    assert max(r.max() for r in ratios.values()) < 0.9, ratios
    out = s.execute(SkillCall("put_down", (TRAY, "middle"))).outcome
    assert out.success, out.reason
    facts = s.facts()
    assert facts.holds("at", (TRAY, "middle")) and facts.holds("in", (BLOCK, TRAY))
    assert not facts.holds("lifted", (TRAY,)) and not facts.holds("holding", ("left", TRAY))
    assert s.observe().objects[TRAY].pose.position[:2] == pytest.approx((0.6, 0.0), abs=0.01)


@pytest.mark.slow
@pytest.mark.parametrize("arm", ["left", "right"])
def test_one_arm_cannot_lift_the_tray_its_joint_torques_give_out(tray_session: Session,
                                                                  arm: str) -> None:
    s, m = tray_session, tray_session.motion
    grasp = handle_grasps(s.observe().objects[TRAY])[arm]
    force = s.config.controller("both_sync", arm).grasp_force
    m.open_gripper(arm)
    assert m.move({arm: grasp.offset(dz=0.1)}).ok and m.move({arm: grasp}).ok
    assert m.close_gripper(arm, force) > 0.03  # the fingers closed on the handle bar
    assert s.robot.held_object(arm) == TRAY
    lift = m.move({arm: grasp.offset(dz=LIFT)})
    ratios = hold_torques(s, (arm,))[arm]
    # The physics stops it: a joint motor sits at its torque limit, the hand stays short
    # of its target and the tray does not leave the table ...
    assert ratios.max() > 0.97, ratios
    assert not lift.ok and "joint torque limits" in lift.reason
    assert not s.facts().holds("lifted", (TRAY,))
    # ... while the grasp holds: the arm gives out, not the fingers.
    assert s.robot.held_object(arm) == TRAY and s.robot.grasps.slipped[arm] is None
    # The load is the steel tray's weight: what a Panda carries is a few kilograms.
    mass = s.robot.world.pb.getDynamicsInfo(s.robot.world.objects[TRAY].body, -1)[0]
    assert mass * G > 100.0


@pytest.mark.slow
def test_even_a_grasp_that_cannot_slip_does_not_let_one_arm_lift_it(tray_session: Session) -> None:
    """The same attempt with the grasp constraint made unbreakable: the outcome does not
    change, so it is the arm's joint torques, not the grasp's friction cap, that decide."""
    s, m, arm = tray_session, tray_session.motion, "left"
    grasp = handle_grasps(s.observe().objects[TRAY])[arm]
    m.open_gripper(arm)
    m.move({arm: grasp.offset(dz=0.1)})
    m.move({arm: grasp})
    m.close_gripper(arm, s.config.controller("both_sync", arm).grasp_force)
    s.robot.world.pb.changeConstraint(s.robot.grasps.grasps[arm].constraint, maxForce=1e5)
    lift = m.move({arm: grasp.offset(dz=LIFT)})
    assert hold_torques(s, (arm,))[arm].max() > 0.97
    assert not lift.ok and not s.facts().holds("lifted", (TRAY,))
    assert s.robot.observe().arms[arm].ee_pose.position[2] < grasp.position[2] + 0.5 * LIFT


@pytest.mark.slow
def test_failures_come_back_as_outcomes_with_reasons(tray_session: Session) -> None:
    s = tray_session
    out = s.execute(SkillCall("put_down", (TRAY, "middle"))).outcome
    assert not out.success and out.reason == "not holding the metal tray with both hands"
    assert s.execute(SkillCall("pick", ("blue_block",))).outcome.success
    out = s.execute(SkillCall("lift_with_both_arms", (TRAY,))).outcome
    assert not out.success and out.reason == "a hand is full"
    out = s.execute(SkillCall("lift_with_both_arms", (BLOCK,))).outcome
    assert not out.success and out.reason
