"""Learned affordances: features, collection, data checks, training, scoring, CLI errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from robollm.affordance.base import AffordanceInput
from robollm.affordance.features import FEATURE_NAMES, encode
from robollm.affordance.metrics import auroc, brier, ece
from robollm.affordance.records import HELDOUT_FILE, LIBRARY_VERSION, TRAIN_FILE, is_heldout
from robollm.cli import main
from robollm.config import load_config
from robollm.geometry import Pose
from robollm.plan import SkillCall
from robollm.world.state import ObjectInfo, SceneState
from robollm.world.symbolic import from_scene


@pytest.fixture(scope="module")
def reader():
    from robollm.affordance.dataset import RecordReader

    return RecordReader(load_config(None))


def _block(name: str, x: float, y: float, size: float = 0.045, kind: str = "block") -> ObjectInfo:
    return ObjectInfo(name, kind, name.split("_")[0], size, Pose((x, y, 0.0)), size, (size, size))


def _scene(reader, *objs: ObjectInfo) -> SceneState:
    return SceneState({o.name: o for o in objs}, {"left": None, "right": None}, reader.regions)


def _row(reader, scene: SceneState, call: SkillCall) -> dict[str, float]:
    from robollm.affordance.heuristic import HeuristicAffordance

    state = from_scene(scene)
    h, arms = HeuristicAffordance().score_with_arms(AffordanceInput(scene, state, reader.skills), [call])
    x = encode(scene, state, [call], h, arms, reader.geometry)
    assert x.shape == (1, len(FEATURE_NAMES)) and x.dtype == np.float32
    return dict(zip(FEATURE_NAMES, x[0].tolist(), strict=True))


def test_features_see_crowding_reach_and_size_against_the_target(reader):
    lone = _row(reader, _scene(reader, _block("red_block", 0.5, 0.4), _block("blue_block", 0.5, -0.4)),
                SkillCall("pick", ("red_block",)))
    crowded = _row(reader, _scene(reader, _block("red_block", 0.5, 0.4), _block("blue_block", 0.5, 0.46)),
                   SkillCall("pick", ("red_block",)))
    assert crowded["obj.clearance"] < 0.03 < lone["obj.clearance"]
    assert crowded["obj.neighbours"] == 1 and lone["obj.neighbours"] == 0
    assert lone["arm_left"] == 1.0 and lone["heuristic"] == 1.0
    assert lone["arm_dist"] == pytest.approx(math.hypot(0.5, 0.4 - 0.25), abs=1e-5)
    far = _row(reader, _scene(reader, _block("red_block", 0.7, 0.55)), SkillCall("pick", ("red_block",)))
    assert far["arm_dist"] > lone["arm_dist"] and far["obj.edge"] < lone["obj.edge"]
    cup = _row(reader, _scene(reader, _block("red_block", 0.5, 0.4, 0.06), _block("white_cup", 0.5, 0.0, 0.05, "cup")),
               SkillCall("pick", ("red_block",)))
    assert cup["tgt.size"] == 0.0  # pick has no target
    held = SceneState({"red_block": _block("red_block", 0.5, 0.4, 0.06),
                       "white_cup": _block("white_cup", 0.5, 0.0, 0.05, "cup")},
                      {"left": "red_block", "right": None}, reader.regions)
    place = _row(reader, held, SkillCall("place", ("red_block", "white_cup")))
    assert place["size_ratio"] == pytest.approx(0.06 / 0.05) and place["tgt.type_cup"] == 1.0


def test_push_features_see_what_is_in_the_way(reader):
    scene = _scene(reader, _block("red_block", 0.45, 0.3), _block("blue_block", 0.58, 0.3))
    ahead = _row(reader, scene, SkillCall("push", ("red_block", "forward")))
    behind = _row(reader, scene, SkillCall("push", ("red_block", "backward")))
    assert ahead["push_block"] < 0.1 < behind["push_block"]
    assert ahead["dir_forward"] == 1.0 and behind["push_edge"] == pytest.approx(0.45 - 0.28, abs=1e-5)


def test_rules_refuse_what_a_skill_refuses_from_the_perceived_scene(reader):
    from robollm.affordance.heuristic import HeuristicAffordance

    def rules(scene, call):
        state = from_scene(scene)
        reason = reader.skills[call.skill].scene_check(
            scene, state, **dict(zip([p.name for p in reader.skills[call.skill].params], call.args, strict=True)))
        return HeuristicAffordance().score(AffordanceInput(scene, state, reader.skills), [call])[0], reason

    scene = _scene(reader, _block("red_block", 0.45, 0.3), _block("blue_block", 0.58, 0.3))
    assert rules(scene, SkillCall("push", ("red_block", "forward"))) == (0.0, "the blue block is in the way")
    assert rules(scene, SkillCall("push", ("red_block", "backward"))) == (1.0, "")
    edge = _scene(reader, _block("red_block", 0.69, 0.3))  # the table ends 3 cm further on
    score, reason = rules(edge, SkillCall("push", ("red_block", "forward")))
    assert score == 0.0 and reason.startswith("no room to push the red block forward")
    fallen = _scene(reader, _block("red_block", 0.5, 0.3), _block("blue_block", 0.5, -0.3))
    fallen.objects["blue_block"] = ObjectInfo("blue_block", "block", "blue", 0.045, Pose((0.5, -0.3, -0.5)),
                                              0.045, (0.045, 0.045))
    assert rules(fallen, SkillCall("pick", ("blue_block",))) == (0.0, "the blue block has fallen off the table")
    assert rules(fallen, SkillCall("pick", ("red_block",))) == (1.0, "")


def test_metrics_treat_a_rule_fairly_and_reward_calibration():
    assert auroc([1, 1, 0, 0], [True, False, False, False]) == pytest.approx(5 / 6)
    assert auroc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert auroc([0.5, 0.5], [True, True]) is None
    assert ece([0.2] * 5 + [0.8] * 5, [1, 0, 0, 0, 0, 1, 1, 1, 1, 0]) == pytest.approx(0.0)
    assert ece([1.0] * 4, [1, 0, 0, 0]) == pytest.approx(0.75)
    assert brier([1.0, 0.0], [True, True]) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """A tiny real collection: two scenes of three calls in physics (seeds 4 and 5: one held out)."""
    from robollm.affordance.collect import collect

    out = tmp_path_factory.mktemp("afford") / "data"
    meta = collect(str(out), 2, seed=4, calls=3, progress=False)
    assert meta["records"] == 6 and not meta["errors"]
    return out


def test_collection_is_deterministic_and_split_by_scene(collected, tmp_path):
    from robollm.affordance.collect import collect

    again = tmp_path / "again"
    collect(str(again), 2, seed=4, calls=3, progress=False)
    for name in (TRAIN_FILE, HELDOUT_FILE):
        assert (collected / name).read_bytes() == (again / name).read_bytes()
    train = [json.loads(x) for x in (collected / TRAIN_FILE).read_text().splitlines()]
    held = [json.loads(x) for x in (collected / HELDOUT_FILE).read_text().splitlines()]
    assert {r["scene_seed"] for r in held} == {5} and {r["scene_seed"] for r in train} == {4}
    assert all(is_heldout(r["scene_seed"]) for r in held)
    r = train[0]
    assert r["version"] == LIBRARY_VERSION and r["step"] == 0 and isinstance(r["success"], bool)
    obj = r["scene"]["objects"][0]
    assert {"name", "type", "colour", "size", "height", "footprint", "position", "orientation",
            "material"} <= set(obj)
    assert set(r["scene"]["holding"]) == {"left", "right"} and r["heuristic"] in (0.0, 0.05, 1.0)


def test_every_case_is_in_training_calibration_and_test_scenes():
    from robollm.training.affordance import is_calibration
    from sim.affordance_rollouts import CASES, case_of

    for start in (0, 5000, 7100):  # each 100 seeds from a multiple of 100
        seeds = range(start, start + 100)
        train = [case_of(s) for s in seeds if not is_heldout(s)]
        calibration = [case_of(s) for s in seeds if is_heldout(s) and is_calibration(s)]
        test = [case_of(s) for s in seeds if is_heldout(s) and not is_calibration(s)]
        assert sorted(calibration) == sorted(test) == sorted(CASES)
        assert sorted(train) == sorted(CASES * 8)


def _write(folder, lines: list[str]) -> None:
    folder.mkdir()
    (folder / TRAIN_FILE).write_text("\n".join(lines) + "\n")
    (folder / HELDOUT_FILE).write_text("\n".join(lines) + "\n")


def test_bad_data_folders_are_one_line_and_exit_2(tmp_path, collected, capsys):
    good = (collected / TRAIN_FILE).read_text().splitlines()[0]
    other = json.loads(good)
    other["version"] = "someone-elses-skills"
    missing = json.loads(good)
    del missing["success"]
    cases = {"missing": None, "empty": [], "version": [json.dumps(other)], "broken": ["{not json"],
             "fields": [json.dumps(missing)]}
    expect = {"missing": "no such folder", "empty": "holds no", "version": "someone-elses-skills",
              "broken": "malformed", "fields": "missing success"}
    for name, lines in cases.items():
        folder = tmp_path / name
        if lines is not None:
            folder.mkdir() if not lines else _write(folder, lines)
        code = main(["train", "affordance", "--data", str(folder), "--out", str(tmp_path / f"out-{name}")])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and expect[name] in err, (name, err)
        assert not (tmp_path / f"out-{name}").exists()


def test_collections_train_together_unless_they_share_a_scene(collected, tmp_path, capsys):
    from robollm.affordance.collect import collect
    from robollm.affordance.records import load_datasets

    later = tmp_path / "later"
    collect(str(later), 1, seed=10, calls=2, progress=False)  # scene 10: held out
    both = load_datasets([collected, later])
    assert [r["scene_seed"] for r in both.heldout] == [5, 5, 5, 10, 10]
    assert [r["scene_seed"] for r in both.train] == [4, 4, 4] and len(both.meta["collections"]) == 2
    out = tmp_path / "model"
    assert main(["train", "affordance", "--data", str(collected), str(later), "--out", str(out), "--epochs", "3"]) == 0
    assert len(json.loads((out / "learned-v0.json").read_text())["data"]) == 2
    capsys.readouterr()
    code = main(["train", "affordance", "--data", str(collected), str(collected), "--out", str(tmp_path / "twice")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "both hold scene seed 4" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "twice").exists()


def test_train_score_and_refuse_to_overwrite(collected, tmp_path, capsys, reader):
    from robollm.affordance.learned import LearnedAffordance, LearnedOptions

    out = tmp_path / "model"
    assert main(["train", "affordance", "--data", str(collected), "--out", str(out), "--epochs", "5"]) == 0
    record = json.loads((out / "learned-v0.json").read_text())
    assert record["sizes"]["fit"]["records"] + record["sizes"]["early_stop"]["records"] == 3
    assert record["command"].startswith("robollm train affordance --data")
    import gzip

    with gzip.open(out / "heldout-test.jsonl.gz", "rt") as f:  # what bench reads when the weights ship
        shipped = [json.loads(line) for line in f]
    from robollm.training.affordance import is_calibration

    assert all(not is_calibration(r["scene_seed"]) for r in shipped)
    assert len(shipped) == record["sizes"]["test"]["records"]
    before = (out / "learned-v0.pt").read_bytes()
    capsys.readouterr()
    assert main(["train", "affordance", "--data", str(collected), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and (out / "learned-v0.pt").read_bytes() == before

    model = LearnedAffordance(LearnedOptions(weights=str(out / "learned-v0.pt")))
    scene = _scene(reader, _block("red_block", 0.5, 0.4), _block("blue_block", 0.5, -0.4))
    held = SkillCall("hand_over", ("red_block",))  # nothing is held: the rules refuse it
    calls = [SkillCall("pick", ("red_block",)), SkillCall("pick", ("blue_block",)), held, SkillCall("done", ())]
    model.trained.add("pick")  # the three training calls may hold no pick: score picks with the net
    p = model.score(AffordanceInput(scene, from_scene(scene), reader.skills), calls)
    assert len(p) == 4 and all(0.0 < v < 1.0 for v in p[:2]) and p[2] == 0.0 and p[3] == 1.0
    # A skill no training call used keeps the rules' answer (a retry still counts against it).
    assert set(record["trained_skills"]) == set(model.meta["trained_skills"])
    untrained = LearnedAffordance(LearnedOptions(weights=str(out / "learned-v0.pt")))
    untrained.trained = set()
    assert untrained.score(AffordanceInput(scene, from_scene(scene), reader.skills), calls) == [1.0, 1.0, 0.0, 1.0]
    assert untrained.score(AffordanceInput(scene, from_scene(scene), reader.skills, ((calls[0], scene),)),
                           calls) == pytest.approx([0.1, 1.0, 0.0, 1.0])

    # A call that failed from this very scene is less likely now; after the scene changed,
    # it is only re-scored from the new scene.
    again = model.score(AffordanceInput(scene, from_scene(scene), reader.skills, ((calls[0], scene),)), calls)
    assert again[0] == pytest.approx(p[0] * 0.1) and again[1] == pytest.approx(p[1])
    twice = model.score(AffordanceInput(scene, from_scene(scene), reader.skills,
                                        ((calls[0], scene), (calls[0], scene))), calls)
    assert twice[0] == pytest.approx(p[0] * 0.01)  # each failure from the same scene counts
    moved = _scene(reader, _block("red_block", 0.5, 0.42), _block("blue_block", 0.5, -0.4))
    fresh = model.score(AffordanceInput(moved, from_scene(moved), reader.skills), calls)
    after = model.score(AffordanceInput(moved, from_scene(moved), reader.skills, ((calls[0], scene),)), calls)
    assert after == pytest.approx(fresh)
    # A neighbour the failed grasp shoved does not make the same call new: its object stayed.
    shoved = _scene(reader, _block("red_block", 0.5, 0.4), _block("blue_block", 0.5, -0.37))
    base = model.score(AffordanceInput(shoved, from_scene(shoved), reader.skills), calls)
    penalised = model.score(AffordanceInput(shoved, from_scene(shoved), reader.skills, ((calls[0], scene),)), calls)
    assert penalised[0] == pytest.approx(base[0] * 0.1)


def test_registry_options_and_weights_errors(tmp_path):
    from robollm.affordance.learned import LearnedAffordance, LearnedOptions, default_weights
    from robollm.affordance.registry import affordance_registry
    from robollm.errors import ConfigError, UserError

    registry = affordance_registry()
    assert "learned-v0" in registry.ids() and "heuristic-v0" in registry.ids()
    assert registry.options("learned", {"weights": "x.pt"}, "f.yaml", "planner.affordance") == LearnedOptions("x.pt")
    with pytest.raises(ConfigError, match="wieghts"):
        registry.options("learned", {"wieghts": "x.pt"}, "f.yaml", "planner.affordance")
    with pytest.raises(UserError, match="no such file"):
        LearnedAffordance(LearnedOptions(weights=str(tmp_path / "none.pt")))
    (tmp_path / "junk.pt").write_bytes(b"not torch")
    with pytest.raises(UserError, match="not a weights file"):
        LearnedAffordance(LearnedOptions(weights=str(tmp_path / "junk.pt")))
    assert default_weights().is_file()
    assert isinstance(registry.make("learned"), LearnedAffordance)  # the shipped weights load


def test_affordance_named_on_the_command_line(tmp_path, capsys):
    """`--affordance NAME` replaces the launch file's model in `run` and in every worker of
    `eval`, is recorded in the evaluation's header, and a wrong name names the flag."""
    from robollm.eval.evaluate import make_executor, run_header
    from robollm.eval.runner import EpisodeRunner

    assert load_config(None).planner.affordance.name == "heuristic"
    assert load_config(None, affordance="learned").planner.affordance.name == "learned"
    runner = make_executor(None, 1, overrides={"affordance": "learned"}).runner  # not loaded yet
    assert isinstance(runner, EpisodeRunner) and runner.overrides == {"affordance": "learned"}
    assert run_header([], None, ["symbolic"], None, {"affordance": "learned"})["affordance"] == "learned"
    assert main(["run", "--plan", "pick red_block", "--affordance", "lerned"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("(expected one of: heuristic, learned)") and "--affordance 'lerned'" in err
    assert "did you mean 'learned'" in err and len(err.splitlines()) == 1
    assert main(["eval", "pick_place", "--affordance", "nosuch", "--out", str(tmp_path / "e")]) == 2
    assert "--affordance 'nosuch'" in capsys.readouterr().err and not (tmp_path / "e").exists()


def test_cli_usage_errors(tmp_path, capsys):
    assert main(["collect"]) == 2
    assert main(["collect", "grasps", "--episodes", "1", "--out", str(tmp_path / "a")]) == 2
    assert main(["collect", "affordance", "--episodes", "0", "--out", str(tmp_path / "b")]) == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep")
    assert main(["collect", "affordance", "--episodes", "1", "--out", str(tmp_path / "full")]) == 2
    assert (tmp_path / "full" / "x").read_text() == "keep"
    err = capsys.readouterr().err
    assert "affordance" in err and "--force" in err


@pytest.mark.slow
def test_collection_on_worker_processes_matches_in_process(collected, tmp_path):
    """The evaluation executors run collection jobs; where a scene runs changes nothing."""
    from robollm.affordance.collect import collect

    meta = collect(str(tmp_path / "two"), 2, seed=4, calls=3, workers=2, progress=False)
    assert meta["workers"] == 2 and not meta["errors"]
    for name in (TRAIN_FILE, HELDOUT_FILE):
        assert (tmp_path / "two" / name).read_bytes() == (collected / name).read_bytes()


def test_bench_runs_on_the_shipped_heldout_calls(capsys):
    """`robollm bench affordance` with no --data reads the held-out calls shipped beside
    the default weights, scores both models on them and times 80 candidates."""
    from robollm.commands.bench_affordance import shipped_heldout

    assert shipped_heldout().is_file()
    assert main(["bench", "affordance", "--json"]) in (0, 1)  # 1: a target missed, still a report
    result = json.loads(capsys.readouterr().out)
    assert result["records"] > 50 and result["scenes"] >= 5
    assert result["all"]["learned"]["n"] == result["all"]["heuristic"]["n"] == result["records"]
    assert result["timing"]["candidates"] == 80 and result["timing"]["learned_ms"] > 0


def test_bench_reads_held_out_calls_from_a_file_and_names_a_bad_one(tmp_path, capsys):
    """--data takes a `.jsonl.gz` of held-out calls (another model's test calls) as well
    as a collected folder; a missing or unreadable one is one line and exit 2."""
    import gzip

    from robollm.commands.bench_affordance import read_heldout, shipped_heldout

    calls = read_heldout(None)
    part = tmp_path / "some-test.jsonl.gz"
    with gzip.open(part, "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in calls[:40])
    assert read_heldout(str(part)) == calls[:40]
    assert read_heldout(str(shipped_heldout())) == calls
    (tmp_path / "junk.jsonl.gz").write_bytes(b"not gzip")
    (tmp_path / "empty.jsonl.gz").write_bytes(gzip.compress(b""))
    for name, words in (("none.jsonl.gz", "no such file"), ("junk.jsonl.gz", "cannot be read"),
                        ("empty.jsonl.gz", "no held-out calls")):
        assert main(["bench", "affordance", "--data", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err.strip()
        assert name in err and words in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_a_stopped_collection_keeps_what_it_finished(tmp_path):
    """SIGTERM (a scheduler's stop, `kill`) ends a collection as Ctrl-C does: the scenes
    finished are written to the split files."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "stopped"
    proc = subprocess.Popen([sys.executable, "-m", "robollm", "collect", "affordance", "--episodes", "40",
                             "--out", str(out), "--seed", "4", "--calls", "2", "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    partial = out / "scenes.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and \
            not (partial.is_file() and len(partial.read_text().splitlines()) >= 2):
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    meta = json.loads((out / "collection.json").read_text())
    assert meta["interrupted"] and 1 <= meta["scenes_done"] < 40
    lines = (out / TRAIN_FILE).read_text().splitlines() + (out / HELDOUT_FILE).read_text().splitlines()
    assert len(lines) == meta["records"] >= 2


def test_the_fresh_test_calls_are_from_scenes_the_shipped_model_never_saw_and_hold_every_case():
    """`fresh-test.jsonl.gz` (a collection made after the model) holds all ten cases and
    no scene of the collections the shipped weights were trained and calibrated on."""
    from robollm.commands.bench_affordance import read_heldout, shipped_heldout
    from sim.affordance_rollouts import CASES

    calls = read_heldout(str(shipped_heldout().parent / "fresh-test.jsonl.gz"))
    record = json.loads((shipped_heldout().parent / "learned-v0.json").read_text())
    used = {s for c in record["collection"]["collections"] for s in range(c["seed"], c["seed"] + c["episodes"])}
    seeds = {r["scene_seed"] for r in calls}
    assert len(calls) == 800 and len(seeds) == 100 and not seeds & used
    assert {r["case"] for r in calls} == set(CASES)
