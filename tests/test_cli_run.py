"""End-to-end runs of the CLI in PyBullet DIRECT mode."""

import json
import subprocess
import sys

import pytest

from robollm.cli import main

PLAN = "pick red_block; place red_block in green_bowl"


def test_run_pick_place_succeeds_with_json(capsys):
    code = main(["run", "--plan", PLAN, "--success", "in(red_block, green_bowl)", "--seed", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["success"] is True and out["seed"] == 2
    assert [s["step"] for s in out["steps"]] == ["pick(red_block)", "place(red_block, green_bowl)"]
    assert all(s["success"] for s in out["steps"])


def test_run_that_misses_its_goal_exits_1(capsys):
    code = main(["run", "--plan", PLAN, "--success", "in(red_block, white_bowl)", "--seed", "2"])
    out = capsys.readouterr().out
    assert code == 1
    assert "does not hold" in out and "step 2" in out


@pytest.mark.parametrize("executor", ["symbolic", "physics"])
def test_moving_an_object_the_goal_does_not_name_is_not_success(executor, capsys):
    """The goal holds, but the blue block went into the bowl too: not what was asked."""
    plan = PLAN + "; pick blue_block; place blue_block in green_bowl"
    code = main(["run", "--plan", plan, "--success", "in(red_block, green_bowl)", "--seed", "2",
                 "--executor", executor, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["goal_holds"] and out["disturbed"] == ["blue_block"] and not out["success"]
    main(["run", "--plan", plan, "--success", "in(red_block, green_bowl)", "--seed", "2", "--executor", executor])
    assert "holds, but it also moved blue_block" in capsys.readouterr().out


def test_trace_is_readable(capsys):
    assert main(["run", "--plan", "pick blue_block", "--success", "lifted(blue_block)", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "pick up the blue block" in out and "ok" in out
    assert "perception: ground truth" in out


def test_record_writes_an_animation(tmp_path):
    from PIL import Image

    gif = tmp_path / "episode.gif"
    assert main(["run", "--plan", "pick red_block", "--seed", "1", "--record", str(gif)]) == 0
    with Image.open(gif) as im:
        assert im.n_frames > 5
        assert im.size == (320, 240)


def test_symbolic_executor_agrees_with_physics(capsys):
    args = ["run", "--plan", PLAN, "--success", "in(red_block, green_bowl)", "--seed", "0", "--json"]
    assert main(args + ["--executor", "symbolic"]) == 0
    sym = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    phys = json.loads(capsys.readouterr().out)
    assert [s["arm"] for s in sym["steps"]] == [s["arm"] for s in phys["steps"]]


def test_deterministic_under_seed(capsys):
    args = ["run", "--plan", PLAN, "--success", "in(red_block, green_bowl)", "--seed", "3", "--json"]
    main(args)
    a = json.loads(capsys.readouterr().out)
    main(args)
    b = json.loads(capsys.readouterr().out)
    a.pop("wall_time"), b.pop("wall_time")
    assert a == b


@pytest.mark.parametrize("argv, fragment", [
    (["--plan", "pick purple_block"], "unknown object or region 'purple_block'"),
    (["--plan", "fly red_block"], "unknown skill 'fly'"),
    (["--plan", "place red_block"], "place takes 2 argument(s)"),
    (["--plan", "pick Red-Block"], "is not a name"),
    (["--plan", " ; "], "plan is empty"),
    (["--plan", "pick red_block", "--success", "in(red_block green_bowl)"], "column 14"),
    (["--plan", "pick red_block", "--success", "at(red_block, kitchen)"], "unknown region 'kitchen'"),
    (["--plan", "pick red_block", "--config", "/no/such.yaml"], "no such file"),
    (["--plan", "pick red_block", "--scene", "nosuch"], "built-in scenes"),
    (["--plan", "pick red_block", "--record", "out.mp4"], "expected a file ending in .gif"),
])
def test_bad_input_is_one_line_and_exit_2(argv, fragment, capsys):
    assert main(["run", *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_argument_errors_exit_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "robollm.cli", "run", "--plan", "pick red_block",
                           "--seed", "abc"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "invalid int value" in proc.stderr and "Traceback" not in proc.stderr


def test_real_launch_file_without_perception_stops_before_connecting(capsys):
    from robollm.config import launch_dir

    real = launch_dir() / "real_panda_bimanual.yaml"
    assert main(["run", "--plan", "pick red_block", "--config", str(real)]) == 2
    err = capsys.readouterr().err
    assert "key 'perception'" in err and "Traceback" not in err
