"""End-to-end runs of the CLI in PyBullet DIRECT mode."""

import json
import re
import subprocess
import sys

import pytest

from robollm.cli import main
from robollm.config import load_config
from robollm.session import Session

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
    for timing in ("wall_time", "total_time"):
        a.pop(timing), b.pop(timing)
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
    (["--plan", "pick red_block", "--seed", "-1"], "--seed must be 0 or more, got -1"),
    (["--plan", "pick red_block", "--success", ""], "--success is empty; give a predicate"),
    (["--plan", "pick red_block", "--success", "  "], "--success is empty; give a predicate"),
    (["--plan", "pick red_block", "--scene", ""], "--scene is empty"),
    (["--plan", "pick red_block", "--config", "/"], "/ is a folder, expected a file"),
    (["--plan", "pick red_block", "--scene", "/"], "is a folder, expected a file"),
    (["--plan", "pick red_block", "--record", "/no/such/folder/out.gif"], "folder '/no/such/folder' does not exist"),
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


def test_real_launch_file_with_ground_truth_stops_before_connecting(capsys, tmp_path):
    from conftest import real_launch_copy

    real = real_launch_copy(tmp_path, perception="ground_truth")
    assert main(["run", "--plan", "pick red_block", "--config", str(real)]) == 2
    err = capsys.readouterr().err
    assert "key 'perception' = ground_truth needs a driver" in err and "Traceback" not in err


def test_run_prints_its_own_time_and_the_time_with_start_up(capsys):
    assert main(["run", "--plan", "pick red_block", "--executor", "symbolic", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"finished  \(1 steps, \d+\.\d s, \d+\.\d s with start-up\)", out), out
    assert main(["run", "--plan", "pick red_block", "--executor", "symbolic", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 <= report["wall_time"] <= report["total_time"]


def test_a_full_hand_says_which_hand_holds_what(tmp_path, capsys):
    scene = tmp_path / "left.yaml"  # both blocks on the left: only the left arm reaches them
    scene.write_text("objects: [{type: block, colour: red, pose: [0.5, 0.35]},"
                     " {type: block, colour: blue, pose: [0.5, 0.45]}]\n")
    for plan, reason in (("pick red_block; pick blue_block", "the left hand already holds the red block"),
                         ("pick red_block; pick red_block", "the left hand already holds the red block")):
        for executor in ("symbolic", "physics"):
            assert main(["run", "--plan", plan, "--scene", str(scene), "--executor", executor, "--json"]) == 1
            step = json.loads(capsys.readouterr().out)["steps"][1]
            assert (step["reason"], step["arm"]) == (reason, "left"), (plan, executor, step)


def test_an_unknown_push_direction_lists_the_valid_ones():
    from robollm.skills.push import Push
    from robollm.world.scene import load_scene
    from robollm.world.symbolic import from_scene

    with Session(load_config(), load_scene("push"), 0, executor="symbolic") as session:
        state = session.state
    reason = Push().check_args({"obj": "red_block", "target": "sideways"}, state)
    assert reason == ("sideways is neither a region (left, middle, right) nor a direction "
                      "(forward, backward, leftward, rightward)")
    assert Push().apply(from_scene(session.scene), obj="red_block", target="sideways").reason == reason


def test_gui_without_a_display_says_so(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main(["run", "--plan", "pick red_block", "--gui"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "robollm: error: --gui needs a display (DISPLAY is not set)"


@pytest.mark.parametrize("scene, fragment", [
    ("objects:\n  red: {type: block}\n", "key 'objects' should be a list of mappings, got a mapping"),
    ("objects: [{type: block, colour: red, pose: [2.0, 0.0]}]\n",
     "objects[0].pose (red_block) [2, 0] is off the table"),
    ("objects: [{type: block, colour: red, pose: [0.5, 0.0]}, {type: block, colour: blue, pose: [0.5, 0.0]}]\n",
     "objects[1].pose (blue_block) overlaps objects[0] (red_block)"),
    ("objects: [{type: block, colour: red, name: 'Red Block!'}]\n", "cannot be written in plans"),
    ("objects: [{type: block, colour: red}, {type: block, colour: blue, pose: [.nan, 0.0]}]\n",
     "objects[1].pose (blue_block) should be finite numbers"),
])
def test_bad_scenes_stop_the_run_in_one_line(tmp_path, capsys, scene, fragment):
    p = tmp_path / "scene.yaml"
    p.write_text(scene)
    assert main(["run", "--plan", "pick red_block", "--scene", str(p)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and str(p) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_gray_spelling_runs(tmp_path, capsys):
    p = tmp_path / "scene.yaml"
    p.write_text("objects: [{type: block, colour: gray}, {type: bowl, colour: green}]\n")
    code = main(["run", "--plan", "pick grey_block; place grey_block in green_bowl", "--scene", str(p),
                 "--success", "in(grey_block, green_bowl)", "--executor", "symbolic", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["success"]


def test_record_refuses_a_folder_and_an_existing_file_unless_forced(tmp_path, capsys):
    folder = tmp_path / "episode.gif"
    folder.mkdir()
    args = ["run", "--plan", "pick red_block", "--executor", "symbolic", "--record"]
    assert main([*args, str(folder)]) == 2
    assert f"--record '{folder}' is a folder, expected a file" in capsys.readouterr().err
    existing = tmp_path / "old.gif"
    existing.write_bytes(b"keep me")
    assert main([*args, str(existing)]) == 2
    assert "already exists; pass --force to overwrite it" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep me"
    assert main([*args, str(existing), "--force"]) == 0
    assert existing.read_bytes()[:3] == b"GIF"
    not_a_folder = existing / "new.gif"
    assert main([*args, str(not_a_folder)]) == 2
    assert "is a file, expected a folder" in capsys.readouterr().err


def test_record_into_a_folder_that_is_not_writable_fails_before_the_run(tmp_path, capsys, monkeypatch):
    import os

    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path) else real(p, mode))
    assert main(["run", "--plan", "pick red_block", "--record", str(tmp_path / "a.gif")]) == 2
    captured = capsys.readouterr()
    assert f"folder '{tmp_path}' is not writable" in captured.err and "step 1" not in captured.out


def test_a_recording_that_cannot_be_written_keeps_the_result(tmp_path, capsys, monkeypatch):
    from robollm.eval.recording import Recorder

    def disk_full(self, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Recorder, "save", disk_full)
    gif = tmp_path / "episode.gif"
    code = main(["run", "--plan", "pick red_block", "--success", "lifted(red_block)", "--seed", "1",
                 "--executor", "symbolic", "--record", str(gif), "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 1 and report["success"] is True and report["recording"] is None
    assert report["recording_error"] == f"{gif}: No space left on device"
    err = captured.err.strip()
    assert err == f"robollm: error: the recording '{gif}' was not saved: No space left on device"
    assert not list(tmp_path.iterdir())
    main(["run", "--plan", "pick red_block", "--success", "lifted(red_block)", "--seed", "1",
          "--executor", "symbolic", "--record", str(gif)])
    captured = capsys.readouterr()
    assert "success: lifted(red_block) holds" in captured.out and "recording:" not in captured.out


@pytest.fixture
def fake_launch(write_launch):
    """The default launch file with the fake language model (no weights)."""
    return write_launch()


@pytest.mark.parametrize("instruction, kind, start", [
    ("put the banana in the green bowl", "missing", "could not ground: there is no banana on the table"),
    ("put the red ball in the green bowl", "missing", "could not ground: there is no red ball on the table"),
    ("mets le bloc rouge dans le bol vert", "not_understood", "could not ground: the instruction has no word"),
    ("put the block in the green bowl", "ambiguous", "ambiguous: which block: red_block, blue_block or yellow_block?"),
    ("please paint the red block blue", "cannot", "cannot do: no skill can paint"),
])
def test_run_refuses_what_it_cannot_ground_and_exits_1(instruction, kind, start, fake_launch, capsys):
    args = ["run", instruction, "--config", fake_launch, "--executor", "symbolic"]
    assert main(args + ["--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["stop_reason"].startswith(start) and out["grounding"]["kind"] == kind
    assert out["steps"] == [] and not out["success"] and out["stopped_early"]
    assert main(args + ["--success", "in(red_block, green_bowl)"]) == 1
    text = capsys.readouterr().out
    assert f"stopped: {start}" in text and "nothing was moved" in text and "step 1" not in text


def test_run_does_nothing_for_an_instruction_that_asks_for_nothing(fake_launch, capsys):
    assert main(["run", "do not touch anything", "--config", fake_launch, "--executor", "symbolic", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["chosen"] for s in out["steps"]] == ["done"] and out["finished"] and out["success"]
    assert out["grounding"]["kind"] == "nothing"


def test_run_reports_what_the_instruction_leaves_alone(fake_launch, capsys):
    args = ["run", "put every block in the green bowl except the red one", "--config", fake_launch,
            "--executor", "symbolic"]
    main(args + ["--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["left_alone"] == {"kept": [], "excluded": ["red_block"]}
    assert all("red_block" not in s["call"] for s in out["steps"])
    main(args)
    assert "left alone, as the instruction asks: red_block (not moved, nothing put in or on it)" in \
        capsys.readouterr().out


def test_run_shows_how_it_read_the_instruction(fake_launch, write_launch, capsys):
    args = ["run", "put the blok furthest to the right in the green bowl", "--config", fake_launch,
            "--executor", "symbolic"]
    main(args + ["--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["read_as"] == "put the yellow block in the green bowl"
    assert [c["kind"] for c in out["reading"]] == ["spelling", "place"]
    main(args)
    assert "read as: put the yellow block in the green bowl  ('blok' -> 'block'; " in capsys.readouterr().out
    plain = write_launch(read_instruction=False)
    main(["run", "put the blok furthest to the right in the green bowl", "--config", plain, "--executor", "symbolic",
          "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["read_as"] is None and out["reading"] == []


def test_run_reports_the_steps_and_hands_when_the_language_model_dies(fake_launch, monkeypatch, capsys):
    from robollm.errors import LanguageModelUnavailable
    from robollm.llm import CandidateScore, LanguageModel
    from robollm.planner.saycan import SayCanPlanner

    class Dies(LanguageModel):
        name = "dies"
        calls = 0

        def _score(self, prompt, candidates):
            Dies.calls += 1
            if Dies.calls > 1:
                raise LanguageModelUnavailable("the server at http://127.0.0.1:9 stopped answering")
            return [CandidateScore(c, -1.0 if c.strip() == "pick up the red block." else -9.0, 1)
                    for c in candidates]

    real = SayCanPlanner.from_config.__func__
    monkeypatch.setattr(SayCanPlanner, "from_config", classmethod(lambda cls, config: real(cls, config, llm=Dies())))
    args = ["run", "put the red block in the green bowl", "--config", fake_launch, "--executor", "symbolic"]
    assert main(args + ["--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["stop_reason"] == "language model unavailable: the server at http://127.0.0.1:9 stopped answering"
    assert out["lm_unavailable"] and [s["call"] for s in out["steps"]] == ["pick(red_block)"]
    assert sorted(out["hands"]) == ["left", "right"] and "red_block" in out["hands"].values()
    Dies.calls = 0
    assert main(args) == 1
    text = capsys.readouterr().out
    assert "step 1" in text and "chose: pick up the red block  ->  ok" in text
    assert "stopped: language model unavailable: the server" in text
    assert re.search(r"hands: (left holds red_block, right is empty|left is empty, right holds red_block)", text)


def test_a_pick_whose_object_stays_down_is_not_a_success(tmp_path, capsys):
    """A left-arm grip too weak to lift the block: the step fails, and says so."""
    import yaml

    from robollm.config import default_config_path

    data = yaml.safe_load(default_config_path().read_text())
    data["robot"]["controllers"]["left"] = {"left": {"grasp_force": 0.001}}
    path = tmp_path / "weak_left.yaml"
    path.write_text(yaml.safe_dump(data))
    code = main(["run", "--config", str(path), "--plan", "pick red_block",
                 "--success", "holding(left, red_block) and lifted(red_block)", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and not out["goal_holds"]
    assert out["steps"][0]["arm"] == "left" and out["steps"][0]["success"] is False
    assert "did not rise with the hand" in out["steps"][0]["reason"]


def test_a_real_server_that_dies_after_step_1_leaves_the_robot_safe_and_the_steps_reported(
        write_launch, monkeypatch, capsys):
    """`robollm serve` really stops after the first skill ran in physics; the run reports it."""
    import os
    from pathlib import Path

    from robollm.llm.server import start_subprocess

    repo = Path(__file__).resolve().parents[1]
    scores = {"pick up the red block.": -1.0}
    process, url = start_subprocess("--backend", "fake", "--fake-scores", json.dumps(scores),
                                    env={**os.environ, "PYTHONPATH": str(repo)})
    try:
        config = write_launch({"backend": "http", "url": url, "retries": 0, "timeout": 10.0})
        real_execute = Session.execute

        def execute_then_stop_the_server(self, call):
            record = real_execute(self, call)
            process.terminate()
            process.wait(timeout=10)
            return record

        monkeypatch.setattr(Session, "execute", execute_then_stop_the_server)
        code = main(["run", "put the red block in the green bowl", "--config", config, "--json"])
    finally:
        if process.poll() is None:
            process.kill()
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["lm_unavailable"] and not out["success"]
    assert out["stop_reason"].startswith("language model unavailable: ")
    assert [s["call"] for s in out["steps"]] == ["pick(red_block)"] and out["steps"][0]["success"]
    assert "red_block" in out["hands"].values()  # the block is still held, and said so
