"""`robollm eval` keeps its results safe and fails early and in one line on bad input."""

import json
import os

import pytest
import yaml

from robollm.cli import main
from robollm.eval.runner import EpisodeRunner

EPISODE = {"id": "e1", "family": "pick_place", "instruction": "put the red block in the green bowl",
           "scene": {"objects": [{"type": "block", "colour": "red"}, {"type": "bowl", "colour": "green"}]},
           "success": "in(red_block, green_bowl)", "seeds": [0, 1, 2]}


def _write_suite(tmp_path, *episodes, name="s.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump({"suite": "s", "episodes": list(episodes)}))
    return str(p)


@pytest.fixture
def config(write_launch):
    return write_launch(max_steps=2)


@pytest.fixture
def suite(tmp_path):
    return _write_suite(tmp_path, EPISODE, {**EPISODE, "id": "e2", "seeds": [0]})


def _eval(suite, config, *more):
    return main(["eval", suite, "--config", config, "--executor", "symbolic", *more])


def _rows(out):
    return [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]


def test_ctrl_c_keeps_what_finished_and_resume_runs_only_the_rest(tmp_path, suite, config, monkeypatch, capsys):
    out = tmp_path / "out"
    real_run, calls = EpisodeRunner.run, []

    def interrupted_on_the_third(self, job):
        calls.append(job.key)
        if len(calls) == 3:
            # Written line by line: what finished is on disk before the interruption.
            assert len(_rows(out)) == 2
            raise KeyboardInterrupt
        return real_run(self, job)

    monkeypatch.setattr(EpisodeRunner, "run", interrupted_on_the_third)
    assert _eval(suite, config, "--out", str(out)) == 130
    err = capsys.readouterr().err
    assert f"interrupted after 2 of 4 runs; the summary of those is in {out / 'summary.json'}" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] and summary["runs"] == {"finished": 2, "total": 4, "errored": 0}
    monkeypatch.setattr(EpisodeRunner, "run", real_run)

    # another suite or launch file is refused; the same one continues
    other = _write_suite(tmp_path, EPISODE, name="other.yaml")
    assert _eval(other, config, "--out", str(out), "--resume") == 2
    assert "another suites" in capsys.readouterr().err
    assert _eval(suite, config, "--out", str(out), "--limit", "1", "--resume") == 2
    assert "another limit" in capsys.readouterr().err
    assert _eval(suite, config, "--out", str(out), "--resume", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert not summary["interrupted"] and summary["overall"]["episodes"] == 4
    keys = [(r["id"], r["seed"], r["executor"]) for r in _rows(out)]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 4
    assert json.loads((out / "summary.json").read_text()) == summary
    assert _eval(suite, config, "--out", str(out), "--resume") == 2
    assert "already complete" in capsys.readouterr().err


def test_out_refuses_a_file_an_unwritable_folder_and_never_overwrites(tmp_path, suite, config, monkeypatch, capsys):
    a_file = tmp_path / "results.txt"
    a_file.write_text("keep me")
    assert _eval(suite, config, "--out", str(a_file)) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert _eval(suite, config, "--out", str(a_file / "sub")) == 2
    assert "cannot create the folder" in capsys.readouterr().err
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert _eval(suite, config, "--out", str(locked)) == 2
        assert "not writable" in capsys.readouterr().err
    assert a_file.read_text() == "keep me"

    # a summary.json that appears during the run is left alone and reported
    out = tmp_path / "out"
    real_run = EpisodeRunner.run

    def someone_writes_there(self, job):
        (out / "summary.json").write_text("theirs")
        return real_run(self, job)

    monkeypatch.setattr(EpisodeRunner, "run", someone_writes_there)
    assert _eval(suite, config, "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert "summary.json appeared while the evaluation ran and was left as it is" in err
    assert (out / "summary.json").read_text() == "theirs" and len(_rows(out)) == 4


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_limit_must_be_at_least_one(limit, suite, config, capsys):
    assert _eval(suite, config, "--limit", limit) == 2
    assert f"--limit must be at least 1 (episodes per suite), got {limit}" in capsys.readouterr().err


@pytest.mark.parametrize(("change", "message"), [
    ({"success": "at(red_block, green_bowl)"}, "episode e1: success predicate 'at(red_block, green_bowl)': unknown region 'green_bowl'"),
    ({"success": "in(left, green_bowl)"}, "episode e1: success predicate 'in(left, green_bowl)': unknown object 'left'"),
    ({"seeds": [0, -1]}, "episode e1: seeds must be 0 or more, got [-1]"),
    ({"instruction": "?!?"}, "episode e1: instruction '?!?' has no words"),
])
def test_suite_mistakes_fail_at_load_naming_file_and_episode(change, message, tmp_path, config, monkeypatch, capsys):
    from robollm.planner.saycan import SayCanPlanner

    def never(*a, **k):
        raise AssertionError("no model may load for a broken suite")

    monkeypatch.setattr(SayCanPlanner, "from_config", never)
    path = _write_suite(tmp_path, {**EPISODE, **change})
    assert _eval(path, config) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"robollm: error: {path}: {message}") and len(err.strip().splitlines()) == 1


def test_an_empty_suite_is_an_error_naming_its_file(tmp_path, config, capsys):
    path = tmp_path / "empty.yaml"
    path.write_text("suite: empty\nepisodes: []\n")
    assert _eval(str(path), config) == 2
    assert capsys.readouterr().err.strip() == f"robollm: error: {path}: the suite has no episodes"


def test_run_time_errors_are_printed_once_per_kind_and_counted(suite, config, monkeypatch, capsys):
    from robollm.planner.saycan import SayCanPlanner

    def broken(self, session, instruction):
        raise ValueError("the planner broke")

    monkeypatch.setattr(SayCanPlanner, "run", broken)
    assert _eval(suite, config) == 1
    err = capsys.readouterr().err
    assert err.count("the planner broke") == 1
    assert "episode e1 (seed 0, symbolic): ValueError: the planner broke" in err
    assert "4 of 4 runs ended in an error" in err
