"""`robollm eval` and instruction runs end to end."""

import json

import pytest
import yaml

from robollm.cli import main
from robollm.config import default_config_path

SUITE = {
    "suite": "tiny",
    "episodes": [
        {"id": "tiny_1", "family": "pick_place", "instruction": "put the red block in the green bowl",
         "scene": {"objects": [{"type": "block", "colour": "red"}, {"type": "bowl", "colour": "green"}]},
         "success": "in(red_block, green_bowl)", "seeds": [0]},
        {"id": "tiny_2", "family": "regions", "instruction": "move the red block to the left side",
         "scene": {"objects": [{"type": "block", "colour": "red", "region": "right"}]},
         "success": "at(red_block, left)", "seeds": [0, 1]},
    ],
}


@pytest.fixture
def fake_config(write_launch):
    return write_launch(max_steps=3)


def test_eval_reports_per_family_and_writes_results(tmp_path, fake_config, capsys):
    suite = tmp_path / "tiny.yaml"
    suite.write_text(yaml.safe_dump(SUITE))
    out = tmp_path / "results"
    code = main(["eval", str(suite), "--executor", "symbolic", "--config", str(fake_config),
                 "--out", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["overall"]["episodes"] == 3
    assert set(summary["families"]) == {"pick_place", "regions"}
    assert 0.0 <= summary["overall"]["plan_success"] <= 1.0
    assert "execution_success" not in summary["overall"]
    rows = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(r["executor"] == "symbolic" for r in rows)
    # results are never overwritten
    assert main(["eval", str(suite), "--executor", "symbolic", "--config", str(fake_config),
                 "--out", str(out)]) == 2
    assert "already holds" in capsys.readouterr().err


def test_eval_bad_suite_is_a_user_error(capsys):
    assert main(["eval", "no_such_suite"]) == 2
    err = capsys.readouterr().err
    assert "built-in suites" in err and "Traceback" not in err


def test_builtin_suites_hold_at_least_80_episodes():
    from robollm.eval.suites import load_suites

    assert sum(len(s.episodes) for s in load_suites("all")) >= 80


def test_run_needs_an_instruction_or_a_plan(capsys):
    assert main(["run"]) == 2
    assert "either an instruction" in capsys.readouterr().err
    assert main(["run", "   "]) == 2
    assert "instruction is empty" in capsys.readouterr().err


def test_missing_object_run_does_not_act(fake_config, capsys):
    code = main(["run", "put the purple block in the green bowl", "--config", str(fake_config), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["steps"] == [] and out["missing"] == ["purple block"]


def test_unreachable_server_is_a_clear_error(tmp_path, capsys):
    data = yaml.safe_load(default_config_path().read_text())
    data["planner"]["llm"] = {"backend": "http", "url": "http://127.0.0.1:9", "timeout": 1.0, "retries": 0}
    p = tmp_path / "http.yaml"
    p.write_text(yaml.safe_dump(data))
    assert main(["run", "put the red block in the green bowl", "--config", str(p)]) == 2
    err = capsys.readouterr().err
    assert "127.0.0.1:9" in err and "Traceback" not in err


def test_model_path_that_does_not_exist(tmp_path, capsys):
    data = yaml.safe_load(default_config_path().read_text())
    data["planner"]["llm"] = {"backend": "hf", "model": str(tmp_path / "nope")}
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    assert main(["run", "put the red block in the green bowl", "--config", str(p)]) == 2
    assert "nope" in capsys.readouterr().err


@pytest.mark.slow
def test_embedded_model_plans_a_pick_and_place(capsys):
    """The real embedded model, on the symbolic executor: the planner's own decisions."""
    code = main(["run", "put the red block in the green bowl", "--success", "in(red_block, green_bowl)",
                 "--executor", "symbolic", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert [s["chosen"] for s in out["steps"]] == [
        "pick up the red block", "place the red block in the green bowl", "done"]
    top = out["steps"][0]["candidates"][0]
    assert set(top) == {"text", "lm", "lm_prob", "lm_prob_raw", "affordance", "combined"}


def test_summary_counts_goals_reached_by_moving_other_objects_apart():
    from robollm.eval.summary import summarise

    def row(success, reached, disturbed):
        return {"id": f"e{len(disturbed)}{success}", "seed": 0, "family": "f", "executor": "symbolic",
                "success": success, "goal_reached": reached, "disturbed": disturbed, "steps": 3,
                "lm_seconds_per_step": 1.0}

    s = summarise([row(True, True, []), row(False, True, ["blue_block"]), row(False, False, [])])
    assert s["overall"]["plan_success"] == pytest.approx(1 / 3)
    assert s["overall"]["goal_but_disturbed"] == pytest.approx(1 / 3)


def test_summary_reports_sensing_steps_per_run():
    from robollm.eval.summary import format_summary, summarise

    rows = [{"id": f"e{i}", "seed": 0, "family": "property", "executor": "physics", "success": True,
             "goal_reached": True, "disturbed": [], "steps": 5, "lm_seconds_per_step": 0.5,
             "sensing_steps": n} for i, n in enumerate((1, 2, 3))]
    s = summarise(rows)
    assert s["families"]["property"]["average_sensing_steps"] == pytest.approx(2.0)
    header, prop = format_summary(s).splitlines()[:2]
    assert "sensing" in header and prop.split()[-2] == "2.00"


def test_summary_counts_failed_calls_apart_from_success():
    from robollm.eval.summary import format_summary, summarise

    rows = [{"id": f"e{i}", "seed": 0, "family": "hard", "executor": "physics", "success": ok,
             "goal_reached": ok, "disturbed": [], "steps": 3, "lm_seconds_per_step": 0.5,
             "failed_steps": ["left arm stopped short"] * n} for i, (ok, n) in enumerate(((True, 0), (True, 2), (False, 1)))]
    s = summarise(rows)["families"]["hard"]
    assert s["execution_success"] == pytest.approx(2 / 3)
    assert s["average_failed_calls"] == pytest.approx(1.0)
    assert s["success_without_failed_call"] == pytest.approx(1 / 3)
    header, row = format_summary(summarise(rows)).splitlines()[:2]
    assert "failed" in header and row.split()[header.split().index("failed")] == "1.00"
