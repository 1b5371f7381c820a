"""Camera perception with the shipped model on scenes rendered by PyBullet."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robollm.cli import main
from robollm.config import load_config
from robollm.robot.sensors import CameraFrame
from robollm.world.scene import ObjectSpec, SceneSpec, load_scene


@pytest.fixture(scope="module")
def clip_config():
    return load_config(perception="clip")


def test_the_default_scene_is_named_and_placed_as_the_simulator_has_it(clip_config, session_factory):
    session = session_factory("default", seed=4, cfg=clip_config)
    seen = session.scene
    truth = session.robot.true_scene()
    assert set(seen.objects) == set(truth.objects)
    for name, obj in seen.objects.items():
        true = truth.objects[name]
        assert obj.type == true.type and obj.colour == true.colour
        assert math.dist(obj.pose.position[:2], true.pose.position[:2]) < 0.015
        assert abs(obj.size - true.size) < 0.02
    assert seen.holding == {"left": None, "right": None}
    # A second look gives the same names in the same places.
    again = session.observe()
    assert set(again.objects) == set(seen.objects)
    assert session.perception.report() == "saw 5 objects"


def test_look_alikes_get_suffixes_and_an_empty_table_says_so(clip_config, session_factory):
    scene = SceneSpec([ObjectSpec("block", "grey", name=n) for n in ("block_a", "block_b")], source="test")
    session = session_factory(scene, seed=1, cfg=clip_config)
    assert sorted(session.scene.objects) == ["grey_block", "grey_block_2"]
    empty = session_factory(SceneSpec([], source="empty"), cfg=clip_config)
    assert empty.scene.objects == {}
    assert empty.perception.report() == "saw no objects: the table looks empty"


def test_a_camera_without_depth_is_reported_not_crashed(clip_config, session_factory):
    session = session_factory("default", cfg=clip_config)
    perception = session.perception
    frame = perception.camera.read()
    blind = CameraFrame(frame.rgb, np.zeros_like(frame.depth), None, {}, frame.intrinsics, frame.pose, 0.0)
    seen, dets, unknown = perception.detect(blind)
    assert seen.status == "no depth" and dets == [] and unknown == []


def test_a_thing_of_no_known_type_is_reported_and_left_out(clip_config, session_factory):
    from robollm.sim.perception_data import SceneRenderer

    session = session_factory(load_scene("default"), seed=0, cfg=clip_config)
    renderer = SceneRenderer.__new__(SceneRenderer)  # reuse the session's world for one distractor
    renderer.world, renderer._others = session.robot.world, []
    renderer.table_low, renderer.table_high = tuple(clip_config.table.low), tuple(clip_config.table.high)
    renderer.add_distractor(np.random.default_rng(1))  # a teddy bear, of no type in the vocabulary
    seen = session.observe()
    assert len(seen.objects) == 5
    report = session.perception.report()
    assert report.startswith("saw 6 objects; one at (") and "matched no type above 0.3" in report


def test_a_scripted_pick_and_place_runs_on_what_the_camera_sees(tmp_path, capsys):
    code = main(["run", "--plan", "pick red_block; place red_block in green_bowl", "--perception", "clip",
                 "--success", "in(red_block, green_bowl)", "--seed", "3"])
    out = capsys.readouterr().out
    assert "perception: camera (table_camera) + CLIP" in out
    assert code == 0, out


def test_perceive_prints_objects_and_draws_them(tmp_path, capsys):
    image = tmp_path / "seen.png"
    assert main(["perceive", "--perception", "clip", "--seed", "4", "--save", str(image)]) == 0
    out = capsys.readouterr().out
    assert "red_block" in out and "green_bowl" in out and image.is_file()
    assert main(["perceive", "--save", str(image)]) == 2  # exists, no --force
    assert main(["perceive", "--save", str(tmp_path / "seen.txt")]) == 2
    assert main(["run", "--plan", "pick red_block", "--perception", "clipp"]) == 2
    assert "did you mean 'clip'" in capsys.readouterr().err
    assert main(["eval", "pick_place", "--perception", "nosuch"]) == 2
    assert "unknown perception 'nosuch'" in capsys.readouterr().err
    assert main(["bench", "perception", "--scenes", "0"]) == 2
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "clip.pt").write_text("x")
    assert main(["train", "perception", "--out", str(tmp_path / "used")]) == 2
    assert main(["train", "perception", "--out", str(tmp_path / "new"), "--epochs", "0"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_moved_objects_are_judged_on_the_simulator_like_success(clip_config, session_factory):
    """A camera's naming slip (a second track for one block) is not a moved object in
    simulation; an object really moved is, whatever perception calls it."""
    from robollm.plan import SkillCall
    from robollm.world.predicates import parse

    session = session_factory("default", seed=4, cfg=clip_config)
    goal = parse("in(red_block, green_bowl)")
    ghost = session.state.copy()
    ghost.types["blue_block_2"] = "block"  # what a stray second track would add
    ghost.parent["blue_block_2"], ghost.relation["blue_block_2"] = "left", "at"
    session.state = ghost
    assert session.disturbed(goal) == []
    session.execute(SkillCall("pick", ("blue_block",)))
    assert session.disturbed(goal) == ["blue_block"]


def test_a_goal_naming_what_the_camera_misnamed_is_judged_not_refused(clip_config, session_factory):
    """The goal's names are the simulator's: if the camera takes the green bowl for something
    else, the run goes on and fails on the world's geometry, instead of erroring at the goal."""
    session = session_factory("default", seed=4, cfg=clip_config)
    renamed = session.state.copy()
    for table in (renamed.types, renamed.parent, renamed.relation):
        if "green_bowl" in table:
            table["green_plate"] = table.pop("green_bowl")
    session.state = renamed
    goal = session.parse_goal("in(red_block, green_bowl)")
    assert not session.succeeded(goal)
