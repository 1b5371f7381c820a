"""The three executors (in-process, local processes, Ray) give the same episodes, and a
worker that cannot load its planner stops the evaluation once, with the in-process error."""

import copy
import json

import pytest
import yaml

from robollm.cli import main
from robollm.eval.evaluate import LOCAL_RAY, evaluate

SUITE = {
    "suite": "tiny",
    "episodes": [
        {"id": "tiny_1", "family": "pick_place", "instruction": "put the red block in the green bowl",
         "scene": {"objects": [{"type": "block", "colour": "red"}, {"type": "bowl", "colour": "green"}]},
         "success": "in(red_block, green_bowl)", "seeds": [0, 3]},
        {"id": "tiny_2", "family": "regions", "instruction": "move the red block to the left side",
         "scene": {"objects": [{"type": "block", "colour": "red", "region": "right"}]},
         "success": "at(red_block, left)", "seeds": [1]},
    ],
}
# Fixed scores that make the fake model plan the pick and place, so plans differ by episode.
SCORES = {"pick up the red block": -1.0, "place the red block in the green bowl": -1.5,
          "move the red block to the left side": -1.0, "done": -2.0}


@pytest.fixture
def suite(tmp_path):
    p = tmp_path / "tiny.yaml"
    p.write_text(yaml.safe_dump(SUITE))
    return str(p)


@pytest.fixture
def fake_config(write_launch):
    return write_launch({"backend": "fake", "scores": SCORES}, max_steps=3)


@pytest.fixture
def bad_adapter_config(write_launch):
    # load_config accepts any adapter name; the planner's load finds no such folder.
    return write_launch({"backend": "hf", "adapter": "no-such-adapter"}, name="hf.yaml", max_steps=3)


def _outcomes(evaluation):
    return sorted((r.outcome() for r in evaluation.results), key=lambda o: (o["id"], o["seed"], o["executor"]))


def test_in_process_processes_and_ray_give_the_same_episodes(suite, fake_config):
    pytest.importorskip("ray")
    runs = {name: evaluate(suite, config=fake_config, progress=False, **kw)
            for name, kw in {"in-process": {}, "processes": {"workers": 2},
                             "ray": {"workers": 2, "ray": LOCAL_RAY}}.items()}
    reference = _outcomes(runs["in-process"])
    assert len(reference) == 6 and not any(r["stop_reason"].startswith("error") for r in reference)
    assert any(r["plan"] for r in reference)
    for name, run in runs.items():
        assert _outcomes(run) == reference, name
        assert run.summary["overall"] == runs["in-process"].summary["overall"] | {
            "lm_seconds_per_step": run.summary["overall"]["lm_seconds_per_step"]}


@pytest.mark.parametrize("executor", [["--workers", "1"], ["--workers", "2"], ["--ray", "--workers", "2"]],
                         ids=["in-process", "processes", "ray"])
def test_a_planner_that_cannot_load_fails_once_with_the_in_process_error(
        executor, suite, bad_adapter_config, tmp_path, capsys):
    if "--ray" in executor:
        pytest.importorskip("ray")
    code = main(["eval", suite, "--config", bad_adapter_config, "--executor", "symbolic", *executor])
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if "error" in line]
    assert lines == ["robollm: error: language-model adapter 'no-such-adapter': no such folder; expected "
                     "a LoRA adapter folder (adapter_config.json, adapter_model.safetensors), e.g. from "
                     "`robollm train planner-lm`"]
    assert "Traceback" not in err


def test_ray_missing_is_a_one_line_error(suite, fake_config, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    assert main(["eval", suite, "--config", fake_config, "--ray"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "robollm: error: --ray needs Ray, which is not installed; install it with pip install -e \".[ray]\""]


def test_episode_results_round_trip_through_json():
    from robollm.eval.results import EpisodeResult

    r = EpisodeResult("e1", "f", 2, "symbolic", "do it", True, True, ["blue_block"], 2,
                      ["pick up the red block", "done"], "done", 0.5, [], 1.25)
    assert EpisodeResult.from_json(r.to_json()) == r
    assert set(json.loads(r.to_json())) == {
        "id", "family", "seed", "executor", "instruction", "success", "goal_reached", "disturbed",
        "steps", "plan", "stop_reason", "lm_seconds_per_step", "failed_steps", "wall_seconds", "sensing_steps"}
    assert "wall_seconds" not in r.outcome() and copy.copy(r).key == ("e1", 2, "symbolic")


def test_an_existing_two_node_ray_cluster_runs_the_episodes_like_one_process(suite, fake_config):
    """`--ray ADDRESS`: a cluster started apart (two raylets, one CPU each, as two machines
    would have), which the evaluation joins and leaves running."""
    pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        reference = _outcomes(evaluate(suite, config=fake_config, workers=1, progress=False))
        joined = evaluate(suite, config=fake_config, ray=cluster.address, progress=False)
        assert _outcomes(joined) == reference
        assert len(cluster.list_all_nodes()) == 2  # still up: the evaluation only joined it
    finally:
        cluster.shutdown()
