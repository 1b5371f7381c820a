"""Sound, touch and weight interpreters on readings from the simulated rig, the evidence
lines in both styles, the memory that keeps evidence per object, and sensing faults.

The physical readings come from the built-in `materials` scene (block_a wood, block_b
foam, block_c metal: grey 45 mm cubes), sensed once per module to keep the tests fast.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from robollm.errors import ConfigError
from robollm.geometry import Pose
from robollm.perception.evidence import Evidence, belief_sentence, combine, no_reading
from robollm.perception.interactive import InteractivePerception
from robollm.perception.sound import SAMPLE_RATE, SoundInterpreter, log_mel, onset_window
from robollm.perception.weight import WeightInterpreter, about
from robollm.plan import SkillCall
from robollm.planner.saycan import outcome_line
from robollm.robot.sensors import AudioClip, ForceTorque
from robollm.skill import Outcome, SkillContext
from robollm.world.memory import EvidenceMemory

MATERIAL = {"block_a": "wood", "block_b": "foam", "block_c": "metal"}
TRUE_GRAMS = {"block_a": 0.045 ** 3 * 550e3, "block_c": 0.045 ** 3 * 7850e3}


@pytest.fixture(scope="module")
def sensed(config):
    """One knock and one touch of each block, and a weighing of the metal block."""
    from robollm.session import Session
    from robollm.world.scene import load_scene

    with Session(config, load_scene("materials"), 0) as s:
        records = {(sk, o): s.execute(SkillCall(sk, (o,))) for o in MATERIAL for sk in ("knock", "touch")}
        records[("weigh", "block_c")] = s.execute(SkillCall("weigh", ("block_c",)))
        scene = s.observe()
        yield records, scene, s.memory.to_json()


def test_knock_tells_metal_from_wood_and_foam(sensed):
    records, _, _ = sensed
    for obj, material in MATERIAL.items():
        ev = records[("knock", obj)].evidence
        assert ev is not None and ev.ok and ev.cue == "sound"
        assert ev.material == material, (obj, ev.beliefs)
        assert abs(sum(ev.beliefs.values()) - 1) < 1e-4 and ev.confidence == max(ev.beliefs.values())
    metal = records[("knock", "block_c")].evidence
    foam = records[("knock", "block_b")].evidence
    assert metal.line("adjectives") == "It sounds metallic and rings."
    assert metal.values["ring_seconds"] > 5 * foam.values["ring_seconds"]
    assert metal.line("beliefs").startswith("It is probably metal (") or metal.line("beliefs").startswith("It is metal")


def test_touch_feels_metal_cold_and_foam_warm(sensed):
    records, _, _ = sensed
    metal, foam = (records[("touch", o)].evidence for o in ("block_c", "block_b"))
    assert metal.ok and foam.ok
    assert "cold" in metal.words and "warm" in foam.words
    assert metal.values["stiffness_n_per_m"] > 2 * foam.values["stiffness_n_per_m"]
    assert metal.values["cooling"] > 5 * foam.values["cooling"]
    assert metal.line("adjectives").startswith("It feels ") and metal.line("adjectives").endswith("cold.")
    assert metal.material == "metal"


def test_touch_words_follow_the_material_belief(sensed):
    """A 50 g wooden block gives under the fingertips almost as much as foam in Bullet;
    its words come from the belief over materials, which the three readings decide."""
    from robollm.perception.touch import load_calibration, word_for, word_from_beliefs

    records, _, _ = sensed
    wood, foam = (records[("touch", o)].evidence for o in ("block_a", "block_b"))
    assert (wood.words[0], foam.words[0]) == ("hard", "soft") and ("rough" in wood.words) and ("rough" in foam.words)
    calibration = load_calibration()
    assert word_from_beliefs("hardness", {"foam": 0.7, "wood": 0.3}, calibration) == ("soft", 0.7)
    assert word_from_beliefs("texture", {"foam": 0.7, "wood": 0.3}, calibration) == ("rough", 1.0)
    # a calibration without words per material falls back to each reading's threshold
    bare = {k: v for k, v in calibration.items() if k != "words"}
    assert word_from_beliefs("hardness", {"foam": 1.0}, bare) is None
    assert word_for("hardness", {"log_stiffness": 6.0}, bare)[0] == "hard"


def test_weight_in_grams_with_the_hand_removed(sensed):
    records, _, _ = sensed
    ev = records[("weigh", "block_c")].evidence
    assert ev.ok and ev.values["grams"] == pytest.approx(TRUE_GRAMS["block_c"], rel=0.03)
    assert ev.line("adjectives") == f"It weighs about {about(ev.values['grams'])}."


def test_the_scene_keeps_what_was_sensed(sensed):
    _, scene, memory = sensed
    assert scene.objects["block_c"].material == "metal"
    assert set(scene.objects["block_c"].properties) >= {"sound", "touch", "weight", "material_beliefs"}
    assert set(memory["block_b"]) == {"sound", "touch"}


def test_memory_keeps_evidence_when_the_object_moves_and_drops_it_when_gone(sensed):
    records, seen, _ = sensed
    scene = replace(seen, objects={k: replace(v, material=None, properties={}) for k, v in seen.objects.items()})
    memory = EvidenceMemory("adjectives")
    memory.add("block_c", records[("knock", "block_c")].evidence)
    info = scene.objects["block_c"]
    moved = replace(info, pose=Pose((0.6, -0.2, info.pose.position[2]), info.pose.orientation),
                    material=None, properties={})
    later = memory.annotate(replace(scene, objects={**scene.objects, "block_c": moved}))
    assert later.objects["block_c"].properties["sound"] == "It sounds metallic and rings."
    assert later.objects["block_c"].pose.position[:2] == (0.6, -0.2)
    gone = memory.annotate(replace(scene, objects={k: v for k, v in scene.objects.items() if k != "block_c"}))
    assert "block_c" not in gone.objects and memory.evidence == {}
    # An object that comes back under the same name starts with no evidence.
    assert memory.annotate(scene).objects["block_c"].properties == {}


def test_a_failed_reading_never_erases_a_good_one():
    memory = EvidenceMemory()
    good = Evidence("sound", True, 0.9, beliefs={"metal": 0.9, "glass": 0.1}, adjective_line="x", belief_line="y")
    memory.add("a", good)
    memory.add("a", no_reading("sound", "the knock made no sound"))
    assert memory.evidence["a"]["sound"] is good
    memory.add("a", no_reading("touch", "no contact with the object"))
    assert not memory.evidence["a"]["touch"].ok


def test_silence_is_no_reading():
    interp = SoundInterpreter()
    quiet = AudioClip(np.full(SAMPLE_RATE // 2, 1e-5, dtype=np.float32), SAMPLE_RATE, 0.0)
    ev = interp.interpret(quiet)
    assert not ev.ok and ev.line("beliefs").startswith("No reading") and ev.reason == "the knock made no sound"
    assert not interp.interpret(None).ok


def test_faults_become_no_reading_with_the_reason():
    ip = InteractivePerception()
    for skill, reason in (("knock", "the knock made no sound"), ("touch", "no contact with the object"),
                          ("weigh", "grasp slipped")):
        ev = ip.interpret(skill, False, reason, {})
        assert ev is not None and not ev.ok and ev.reason == reason
        line = outcome_line(f"{skill} the grey block.", Outcome.fail(reason), ev, "beliefs")
        assert line == f"{skill} the grey block. It failed: {reason}. No reading."
    assert ip.interpret("pick", True, "", {}) is None
    assert not ip.interpret("touch", True, "", {"press": [], "contact": []}).ok
    assert not WeightInterpreter().interpret({"wrench": []}).ok


def test_touch_that_finds_no_surface(session_factory):
    """The block is 15 cm from where perception says: the fingers feel nothing."""
    from robollm.world.scene import scene_from_dict

    s = session_factory(scene_from_dict({"objects": [{"type": "block", "colour": "red", "pose": [0.45, 0.3]}]},
                                        "<test>"))
    seen = s.observe()
    block = seen.objects["red_block"]
    ghost = replace(block, pose=Pose((0.45, 0.45, block.pose.position[2]), block.pose.orientation))
    out = s.skill("touch").run(SkillContext(s.motion, s.observe, replace(seen, objects={"red_block": ghost})),
                               obj="red_block")
    ev = s.interactive.interpret("touch", out.success, out.reason, out.data)
    assert not out.success and not ev.ok and ev.reason == "no contact with the object"


def test_weight_from_wrist_readings_removes_the_hand():
    def readings(z: float) -> list[ForceTorque]:
        return [ForceTorque((0.0, 0.0, z + 0.001 * (i % 3 - 1)), (0.0, 0.0, 0.0), i * 0.01) for i in range(30)]

    ev = WeightInterpreter().interpret({"empty_wrench": readings(-3.0), "wrench": readings(-3.0 - 0.7063)})
    assert ev.values["grams"] == pytest.approx(72.0, abs=0.1)
    assert ev.line("adjectives") == "It weighs about 72 g."
    assert about(715.2) == "720 g" and about(3.04) == "3.0 g" and about(1520) == "1.5 kg"


def test_styles_and_beliefs():
    beliefs = {"metal": 0.93, "glass": 0.05, "wood": 0.02}
    assert belief_sentence(beliefs) == "It is probably metal (0.93), or glass (0.05)."
    assert belief_sentence({"foam": 0.999, "wood": 0.001}) == "It is foam (1.00)."
    ev = Evidence("sound", True, 0.93, ("metallic", "rings"), beliefs, adjective_line="It sounds metallic and rings.",
                  belief_line=belief_sentence(beliefs))
    assert ev.line("adjectives") == "It sounds metallic and rings."
    assert ev.line("beliefs") == "It is probably metal (0.93), or glass (0.05)."
    assert outcome_line("knock on the grey block.", Outcome(True), ev, "beliefs") == \
        "knock on the grey block. It is probably metal (0.93), or glass (0.05)."
    both = combine([{"glass": 0.5, "ceramic": 0.5}, {"glass": 0.9, "ceramic": 0.1}])
    assert next(iter(both)) == "glass" and both["glass"] == pytest.approx(0.9)


def test_features_ignore_loudness_and_find_the_onset():
    rng = np.random.default_rng(0)
    t = np.arange(int(0.6 * SAMPLE_RATE)) / SAMPLE_RATE
    ring = np.where(t > 0.1, np.exp(-30 * (t - 0.1)) * np.sin(2 * np.pi * 3000 * (t - 0.1)), 0.0)
    clip = (ring + 1e-5 * rng.standard_normal(len(t))).astype(np.float32)
    window = onset_window(clip)
    assert np.argmax(np.abs(window) > 0.3 * np.abs(window).max()) == pytest.approx(0.005 * SAMPLE_RATE, abs=40)
    import torch

    a, b = (log_mel(torch.from_numpy(np.stack([w]))) for w in (window, 0.01 * window))
    assert torch.allclose(a, b, atol=2e-3)


def test_sensing_style_is_checked(tmp_path):
    import yaml

    from robollm.config import default_config_path, load_config

    data = yaml.safe_load(default_config_path().read_text())
    data["sensing"] = {"style": "poetry"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="sensing.style"):
        load_config(path)


def test_the_prompt_after_a_knock_carries_the_evidence(session_factory, config):
    from robollm.llm.fake import FakeLanguageModel
    from robollm.planner.saycan import SayCanPlanner

    llm = FakeLanguageModel({"knock on the block c.": -1.0, "done.": -3.0})
    planner = SayCanPlanner.from_config(config, llm=llm)
    planner.max_steps = 2
    s = session_factory("materials", seed=0)
    result = planner.run(s, "put the metal block in the white bowl")
    first = result.steps[0]
    assert first.chosen.text == "knock on the block c" and first.evidence.material == "metal"
    later = llm.calls[-1][0]
    assert f"1. knock on the block c. {first.evidence.line('beliefs')}\n" in later
    assert "It is probably metal" in later or "It is metal" in later


def test_bench_sensing_runs_on_a_tiny_set(monkeypatch, capsys):
    import json

    import robollm.sim.bench_sensing as bench

    monkeypatch.setattr(bench, "knock_plan", lambda per_pair, seed: [("metal", "block"), ("foam", "cup")])
    monkeypatch.setattr(bench, "sense_plan", lambda shapes, per_pair, materials, seed: [("glass", "block")])
    assert bench.bench_sensing(["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sound"]["knocks"] == 2 and sum(map(sum, out["sound"]["confusion"]["counts"])) == 2
    assert out["touch"]["touches"] == 1 and set(out["touch"]["word_accuracy"]) == {"hardness", "texture", "temperature"}
    assert out["weight"]["weighings"] == 1 and out["weight"]["median_error"] < 0.1
    assert set(out["met"]) == set(out["targets"])


def test_a_missing_sound_model_fails_the_launch_check(tmp_path):
    import yaml

    from robollm.config import default_config_path, load_config
    from robollm.launch_check import check_launch

    data = yaml.safe_load(default_config_path().read_text())
    data["sensing"] = {"sound_model": "nowhere/knock.safetensors"}
    path = tmp_path / "launch.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="sensing.sound_model"):
        check_launch(load_config(path), planner=False)


def test_bench_evidence_style_scores_both_styles_on_the_same_readings(write_launch, capsys):
    import json

    from robollm.sim.bench_style import bench_style

    assert bench_style(["--config", write_launch(), "--limit", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    row = out["rows"][0]
    assert out["episodes"] == 1 and row["sensed"] == 3 and row["cue"] == "sound"
    assert set(out["right_object_among_picks"]) == {"beliefs", "adjectives"}
    assert row["beliefs_pick"].startswith("pick up the block")


def test_a_foam_block_handed_over_by_the_table_is_picked_again_when_it_squirts_away(config):
    """Placing a 3 g foam block in a bowl on the other side sets it down in the middle for
    the other hand; its closing fingers can push it away ("closed on nothing"): the
    hand-over looks again and picks once more."""
    from robollm.session import Session
    from robollm.world.scene import scene_from_dict

    scene = scene_from_dict({"objects": [
        {"type": "block", "colour": "grey", "material": "glass", "size": 0.045, "name": "block_a"},
        {"type": "block", "colour": "grey", "material": "foam", "size": 0.045, "name": "block_b"},
        {"type": "block", "colour": "grey", "material": "ceramic", "size": 0.045, "name": "block_c"},
        {"type": "bowl", "colour": "white", "size": 0.18}]}, "test")
    with Session(config, scene, 0) as s:
        for call in (SkillCall("touch", ("block_b",)), SkillCall("pick", ("block_b",)),
                     SkillCall("place", ("block_b", "white_bowl"))):
            record = s.execute(call)
            assert record.outcome.success, (call, record.outcome.reason)
        assert s.succeeded(s.parse_goal("in(block_b, white_bowl)"))
