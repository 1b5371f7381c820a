"""Knock, touch and weigh on the simulated rig (PyBullet DIRECT, seeded).

The physical tests use the built-in "which block is metal?" scene (`materials`):
block_a is wood, block_b foam and block_c metal, all grey 45 mm cubes. What they check
is what a perception model would rely on: metal rings higher and longer than foam,
metal weighs what steel of that size weighs, and foam gives under the fingertips.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from robollm.geometry import Pose
from robollm.plan import SkillCall, parse_plan
from robollm.robot.sensors import AudioClip, ContactReading, ForceTorque
from robollm.session import Session
from robollm.sim.materials import MATERIAL_TABLE
from robollm.sim.objects import build_model, mass_and_com
from robollm.skill import SkillContext
from robollm.skills.sensing import Knock, Touch, Weigh
from robollm.world.scene import scene_from_dict
from robollm.world.symbolic import SymbolicState

MATERIAL = {"block_a": "wood", "block_b": "foam", "block_c": "metal"}


@pytest.fixture
def session(session_factory) -> Session:
    return session_factory("materials", seed=0)


def run(session: Session, skill: str, obj: str):
    outcome = session.execute(SkillCall(skill, (obj,))).outcome
    assert outcome.success, f"{skill} {obj}: {outcome.reason}"
    return outcome


# -- audio measures ---------------------------------------------------------------------
def peak_frequency(clip: AudioClip) -> float:
    """The strongest frequency of the recording (Hann window against leakage)."""
    x = clip.samples.astype(float) * np.hanning(len(clip.samples))
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(x), 1.0 / clip.sample_rate)[np.argmax(spectrum)])


def decay_time(clip: AudioClip, drop_db: float = 20.0) -> float:
    """Seconds from the impact until the remaining energy (Schroeder integral) falls by `drop_db`."""
    x = clip.samples.astype(float)
    start = int(np.argmax(np.abs(x) > 0.1 * np.abs(x).max()))
    remaining = np.cumsum((x[start:] ** 2)[::-1])[::-1]
    level = 10.0 * np.log10(remaining / remaining[0] + 1e-30)
    return float(np.argmax(level < -drop_db) / clip.sample_rate)


def first_mode(material: str) -> float:
    return MATERIAL_TABLE[material].modes_for(0.045)[0]


# -- physics ------------------------------------------------------------------------------
def test_knock_metal_rings_higher_and_longer_than_foam(session: Session) -> None:
    sound = {}
    for obj, material in MATERIAL.items():
        out = run(session, "knock", obj)
        clip = out.data["audio"]
        assert isinstance(clip, AudioClip) and clip.duration >= 0.5
        sound[material] = (peak_frequency(clip), decay_time(clip))
        # The dominant tone is the struck material's first mode (heavy damping pulls foam's down).
        assert sound[material][0] == pytest.approx(first_mode(material), rel=0.15), material
    (metal_f, metal_t), (wood_f, wood_t), (foam_f, foam_t) = (sound[m] for m in ("metal", "wood", "foam"))
    assert metal_f > 2 * wood_f > 2 * foam_f
    assert metal_t > 3 * wood_t and metal_t > 3 * foam_t
    assert metal_t > 0.05 and foam_t < 0.02


def test_weigh_reads_metal_wood_and_a_few_grams_of_foam(session: Session) -> None:
    # The foam block weighs 3.2 g: a few grams are where the grip bends the reading most.
    masses = {obj: run(session, "weigh", obj).data["mass_kg"] for obj in ("block_c", "block_a", "block_b")}
    for obj, measured in masses.items():
        spec = next(o for o in session.scene_spec.objects if o.object_name == obj)
        true = mass_and_com(build_model(spec), MATERIAL_TABLE[MATERIAL[obj]])[0]
        assert measured == pytest.approx(true, rel=0.05), obj
    assert masses["block_c"] > 5 * masses["block_a"] > 5 * masses["block_b"]


def test_weighing_grip_holds_the_weight_felt_and_no_more() -> None:
    from robollm.skills.sensing import LIGHTEST_READ_GRIP, READ_GRIP_FRICTION

    assert Weigh.reading_grip(0.03, grip=10.0) == LIGHTEST_READ_GRIP  # a few grams: the gentlest grip
    assert Weigh.reading_grip(-0.01, grip=10.0) == LIGHTEST_READ_GRIP
    heavy = Weigh.reading_grip(7.0, grip=70.0)  # 700 g: friction at the lowest coefficient holds it twice
    assert 2 * READ_GRIP_FRICTION * heavy == pytest.approx(2 * 7.0)
    assert Weigh.reading_grip(30.0, grip=70.0) == 70.0  # never firmer than the grasp


def test_weigh_puts_the_object_back(session: Session) -> None:
    before = session.observe().objects["block_c"].pose.position
    out = run(session, "weigh", "block_c")
    after = session.observe().objects["block_c"].pose.position
    assert np.linalg.norm(np.subtract(after, before)) < 0.01
    assert session.observe().holder("block_c") is None
    assert all(isinstance(r, ForceTorque) for r in out.data["wrench"])
    assert out.data["weight_newtons"] == pytest.approx(out.data["mass_kg"] * 9.81)


def test_touch_feels_foam_give_more_than_metal(session: Session) -> None:
    felt = {}
    for obj in ("block_b", "block_c"):
        data = run(session, "touch", obj).data
        contact, wrench = data["contact"], data["wrench"]
        assert len(contact) == len(wrench) > 10
        assert all(isinstance(c, ContactReading) for c in contact)
        normal = [sum(f.normal_force for f in c.fingers.values()) for c in contact]
        shear = [sum(f.shear_force for f in c.fingers.values()) for c in contact]
        assert max(normal) > 1.0 and max(shear) > 0.1
        # Pressing on the object pushes the hand up: the wrist feels it too.
        assert max(w.force[2] for w in wrench) > 1.0
        felt[MATERIAL[obj]] = data
    # Foam yields step by step; the first touch on steel already pushes back hard.
    assert felt["foam"]["stiffness"] * 3 < felt["metal"]["stiffness"]
    assert felt["foam"]["press"][1][1] < felt["metal"]["press"][1][1]


def test_scripted_plan_runs_all_three(session: Session) -> None:
    for call in parse_plan("knock block_a; touch block_b; weigh block_c"):
        record = session.execute(call)
        assert record.outcome.success, f"{call}: {record.outcome.reason}"


@pytest.mark.parametrize("skill", [Knock, Touch])
def test_nothing_where_the_object_was_seen(skill, session_factory) -> None:
    """The scene says the block is 15 cm from where it really is: the fingers feel nothing."""
    scene = scene_from_dict({"objects": [{"type": "block", "colour": "red", "pose": [0.45, 0.3]}]},
                            "<test>")
    s = session_factory(scene)
    seen = s.observe()
    block = seen.objects["red_block"]
    ghost = replace(block, pose=Pose((0.45, 0.45, block.pose.position[2]), block.pose.orientation))
    ctx = SkillContext(s.motion, s.observe, replace(seen, objects={"red_block": ghost}))
    out = skill().run(ctx, obj="red_block")
    assert not out.success and out.reason == "no contact with the object"


# -- symbolic effects and preconditions ------------------------------------------------------
def state() -> SymbolicState:
    return SymbolicState(
        types={"block_a": "block", "block_b": "block", "cup": "cup", "bowl": "bowl", "far": "block"},
        parent={"block_a": "left", "block_b": "middle", "cup": "right", "bowl": "middle",
                "far": "shelf"},
        relation={"block_a": "at", "block_b": "at", "cup": "held", "bowl": "at", "far": "at"},
        region_names=("left", "middle", "right", "shelf"))


@pytest.mark.parametrize(("skill", "cue"), [(Knock, "sound"), (Touch, "touch"), (Weigh, "weight")])
def test_effect_is_only_the_cue(skill, cue) -> None:
    s = state()
    out = skill().apply(s, obj="block_b")
    assert out.success and out.arm == "left"  # both reach the middle; the right hand is full
    expected = state()
    expected.sensed = {"block_b": {cue}}
    assert s == expected


@pytest.mark.parametrize("skill", [Knock, Touch, Weigh])
def test_failures_say_why(skill) -> None:
    s = state()
    s.relation["cup"], s.parent["cup"] = "held", "left"  # now the left hand is the full one
    assert skill().apply(s, obj="nothing").reason == "object not found"
    assert skill().apply(s, obj="far").reason == "target out of reach"
    busy = skill().apply(s, obj="block_a")
    assert (busy.success, busy.reason, busy.arm) == (False, "already holding", "left")
    assert skill().apply(s, obj="cup").reason == "already holding"
    assert not s.sensed


def test_weigh_needs_something_one_hand_can_lift() -> None:
    assert Weigh().apply(state(), obj="bowl").reason == "a bowl cannot be lifted with one hand"
    assert Knock().apply(state(), obj="bowl").success


def test_skills_reach_sensors_only_through_motion() -> None:
    source = Path(__file__).resolve().parents[1] / "skills" / "sensing.py"
    tree = ast.parse(source.read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m and (m.startswith("robollm.sim") or m.startswith("pybullet")) for m in modules)


def test_the_planner_tells_which_of_the_weighed_is_heaviest(session: Session) -> None:
    from robollm.affordance.heuristic import HeuristicAffordance
    from robollm.llm import ScoringOptions
    from robollm.planner.prompt import load_prompt
    from robollm.planner.saycan import SayCanPlanner
    from tests.test_planner import ScriptedLM

    lm = ScriptedLM(["weigh the block c.", "weigh the block a.", "done."])
    SayCanPlanner(lm, ScoringOptions(length="sum"), HeuristicAffordance(), load_prompt("saycan_scene")).run(
        session, "put the heaviest block in the bowl")
    first, second = lm.prompts[-1].split("\n")[-3:-1]
    assert first.startswith("1. weigh the block c. It weighs ") and "Of the" not in first
    assert second.startswith("2. weigh the block a. It weighs ")
    assert second.endswith(" Of the 2 weighed, the heaviest is the block c and the lightest is the block a.")


@pytest.mark.parametrize("material", ["foam", "metal"])
def test_a_cup_between_look_alikes_is_picked_without_crushing_it(session_factory, material) -> None:
    # The full grasp force pierced a foam cup's thin wall ("the fingers closed on nothing").
    scene = scene_from_dict({"objects": [
        {"type": "cup", "colour": "grey", "material": "plastic", "size": 0.065, "name": "cup_a"},
        {"type": "cup", "colour": "grey", "material": material, "size": 0.065, "name": "cup_b"},
        {"type": "cup", "colour": "grey", "material": "ceramic", "size": 0.065, "name": "cup_c"},
        {"type": "plate", "colour": "white"}]}, "three cups")
    s = session_factory(scene)
    for call in parse_plan("pick cup_b; place cup_b white_plate"):
        outcome = s.execute(call).outcome
        assert outcome.success, f"{call}: {outcome.reason}"
    assert s.observe().holder("cup_b") is None


def test_a_block_that_a_touch_tipped_over_is_still_picked_and_placed(session_factory) -> None:
    # A 2.7 g foam block falls onto its side under the fingertips; its frame's origin is
    # then on a side face, and a grasp aimed by it closed above the block.
    from robollm.skills.manipulation import lying_middle

    scene = scene_from_dict({"objects": [
        {"type": "block", "colour": "grey", "material": "glass", "size": 0.045, "name": "block_a"},
        {"type": "block", "colour": "grey", "material": "wood", "size": 0.045, "name": "block_b"},
        {"type": "block", "colour": "grey", "material": "foam", "size": 0.045, "name": "block_c"},
        {"type": "bowl", "colour": "white", "size": 0.18}]}, "three blocks")
    s = session_factory(scene)
    run(s, "touch", "block_c")
    assert lying_middle(s.observe().objects["block_c"]) is not None, "the touch no longer tips the foam block over"
    for call in parse_plan("pick block_c; place block_c white_bowl"):
        outcome = s.execute(call).outcome
        assert outcome.success, f"{call}: {outcome.reason}"
    assert s.facts().holds("in", ("block_c", "white_bowl"))


def test_a_stroke_after_a_press_that_measured_no_stiffness_keeps_its_height() -> None:
    """The press's force fell back to the free reading (the object gave way beneath the
    fingers): no stiffness was measured, so the stroke holds its height instead of
    dividing by zero (a collection scene once stopped on that)."""
    from robollm.skills.sensing import SLIDE, stiffness
    from robollm.world.state import ObjectInfo

    press = [(0.100, 0.0), (0.099, 1.0), (0.098, 0.0)]
    assert stiffness(press) == 0.0
    block = ObjectInfo("red_block", "block", "red", 0.045, Pose((0.5, 0.1, 0.0)), 0.045, (0.045, 0.045))
    heights = []

    def feel(above: float, point=None) -> tuple[float, float]:
        heights.append(above)
        return above, 0.5

    assert Touch._stroke(feel, press, 0.099, block, (0.5, 0.1, 0.02)) == SLIDE
    assert set(heights) == {0.099}
