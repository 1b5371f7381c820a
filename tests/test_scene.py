import math

import pytest

from robollm.errors import ConfigError
from robollm.sim.world import SimWorld
from robollm.world.scene import ObjectSpec, SceneSpec, load_scene, scene_from_dict


def test_names_default_to_colour_type():
    scene = scene_from_dict({"objects": [{"type": "block", "colour": "red"},
                                         {"type": "bowl", "colour": "green", "name": "target"}]}, "t")
    assert scene.names() == ["red_block", "target"]


@pytest.mark.parametrize("obj, match", [
    ({"type": "sphere"}, "object type"),
    ({"type": "block", "colour": "mauve"}, "colour"),
    ({"type": "block", "material": "cheese"}, "material"),
    ({"type": "block", "region": "kitchen"}, "region"),
    ({"type": "block", "size": 0.5}, "out of range"),
    ({"type": "block", "colorr": "red"}, "unknown key"),
])
def test_bad_objects_are_reported(obj, match):
    with pytest.raises(ConfigError, match=match):
        scene_from_dict({"objects": [obj]}, "scene.yaml")


def test_duplicate_names_rejected():
    with pytest.raises(ConfigError, match="distinct"):
        scene_from_dict({"objects": [{"type": "block", "colour": "red"}] * 2}, "s")


def test_placement_is_reproducible_and_non_overlapping(config):
    scene = load_scene("default")
    a, b, c = SimWorld(config), SimWorld(config), SimWorld(config)
    try:
        a.load_scene(scene, seed=3)
        b.load_scene(scene, seed=3)
        c.load_scene(scene, seed=4)
        pa = {n: a.object_pose(n).position for n in a.objects}
        pb = {n: b.object_pose(n).position for n in b.objects}
        pc = {n: c.object_pose(n).position for n in c.objects}
        assert pa == pb
        assert pa != pc
        names = list(a.objects)
        for i, n in enumerate(names):
            for m in names[i + 1:]:
                ra = 0.5 * math.hypot(*a.objects[n].model.footprint)
                rb = 0.5 * math.hypot(*a.objects[m].model.footprint)
                assert math.dist(pa[n][:2], pa[m][:2]) >= ra + rb
    finally:
        for w in (a, b, c):
            w.close()


def test_region_placement(config):
    scene = SceneSpec([ObjectSpec("block", "red", region="left"), ObjectSpec("block", "blue", region="right"),
                       ObjectSpec("block", "green", region="middle")])
    w = SimWorld(config)
    try:
        for seed in range(5):
            w.load_scene(scene, seed)
            for name, region in (("red_block", "left"), ("blue_block", "right"), ("green_block", "middle")):
                x, y, _ = w.object_pose(name).position
                assert w.regions[region].contains_xy(x, y)
    finally:
        w.close()


def test_overfull_region_fails_clearly(config):
    scene = SceneSpec([ObjectSpec("bowl", c, region="middle", size=0.2) for c in
                       ("red", "green", "blue", "yellow", "white", "black")], source="full.yaml")
    w = SimWorld(config)
    try:
        with pytest.raises(ConfigError, match="does not fit on region 'middle'"):
            w.load_scene(scene, 0)
    finally:
        w.close()


def test_gray_is_read_as_grey():
    scene = scene_from_dict({"objects": [{"type": "block", "colour": "gray"},
                                         {"type": "bowl", "colour": "grey"}]}, "s")
    assert [o.colour for o in scene.objects] == ["grey", "grey"]
    assert scene.names() == ["grey_block", "grey_bowl"]
    with pytest.raises(ConfigError, match=r"objects\[0\]\.colour 'mauve'.*grey \(or gray\)"):
        scene_from_dict({"objects": [{"type": "block", "colour": "mauve"}]}, "s")


@pytest.mark.parametrize("name, match", [
    ("Red Block!", r"objects\[0\]\.name 'Red Block!' cannot be written in plans and predicates"),
    ("red-block", "cannot be written in plans and predicates"),
    ("1st_block", "cannot be written in plans and predicates"),
    ("", "cannot be written in plans and predicates"),
    ("and", "'and': that word is part of success predicates"),
    ("or", "'or': that word is part of success predicates"),
    ("not", "'not': that word is part of success predicates"),
    ("middle", "names a region or arm"),
])
def test_names_that_plans_cannot_spell_are_refused(name, match):
    with pytest.raises(ConfigError, match=match):
        scene_from_dict({"objects": [{"type": "block", "colour": "red", "name": name}]}, "s")


def test_a_nan_pose_is_blamed_on_its_own_object():
    data = {"objects": [{"type": "block", "colour": "red"},
                        {"type": "block", "colour": "blue", "pose": [float("nan"), 0.0]}]}
    with pytest.raises(ConfigError, match=r"^s: objects\[1\]\.pose \(blue_block\) should be finite numbers"):
        scene_from_dict(data, "s")


def test_two_objects_at_the_same_pose_are_refused():
    data = {"objects": [{"type": "block", "colour": "red", "pose": [0.5, 0.0]},
                        {"type": "block", "colour": "blue", "pose": [0.5, 0.002]}]}
    with pytest.raises(ConfigError, match=r"objects\[1\]\.pose \(blue_block\) overlaps objects\[0\] "
                                          r"\(red_block\): their centres are 2 mm apart"):
        scene_from_dict(data, "s")
    data["objects"][1]["pose"] = [0.5, 0.05]  # beside it: fine
    scene_from_dict(data, "s")
    # a block standing in a holder is how a scene starts with something in a tray or bowl
    scene_from_dict({"objects": [{"type": "bowl", "colour": "green", "pose": [0.5, 0.0]},
                                 {"type": "block", "colour": "red", "pose": [0.5, 0.0]}]}, "s")
    with pytest.raises(ConfigError, match="overlaps"):
        scene_from_dict({"objects": [{"type": "bowl", "colour": "green", "pose": [0.5, 0.0]},
                                     {"type": "bowl", "colour": "red", "pose": [0.5, 0.0]}]}, "s")


def test_a_pose_off_the_table_is_refused():
    from robollm.config import load_config
    from robollm.launch_check import check_launch
    from robollm.world.scene import check_on_table

    scene = scene_from_dict({"objects": [{"type": "block", "colour": "red", "pose": [0.5, 0.1]},
                                         {"type": "block", "colour": "blue", "pose": [2.0, 0.0]}]}, "s.yaml")
    with pytest.raises(ConfigError, match=r"^s\.yaml: objects\[1\]\.pose \(blue_block\) \[2, 0\] is off the "
                                          r"table; expected x in 0\.28 to 0\.72 and y in -0\.58 to 0\.58"):
        check_on_table(scene, [0.28, -0.58], [0.72, 0.58])
    check_on_table(scene, [0.28, -0.58], [2.5, 0.58])
    for name in ("default", "materials", "push", "tray"):
        check_launch(load_config(), scene=name, planner=False)


def test_a_scene_whose_objects_is_a_mapping_is_one_clear_error(tmp_path):
    p = tmp_path / "scene.yaml"
    p.write_text("objects:\n  red: {type: block}\n")
    with pytest.raises(ConfigError, match=r"key 'objects' should be a list of mappings, got a mapping$"):
        load_scene(p)
    p.write_text("objects:\n  - {type: block}\n  - {type: bowl}\n  - {type: block, colour: red, size: big}\n")
    with pytest.raises(ConfigError, match=r"key 'objects\[2\]\.size' should be a number, or null, got 'big'$"):
        load_scene(p)
    p.write_text("objects:\n  - {type: block}\n  - {type: block, colour: red, pose: '0.5, 0.1'}\n")
    with pytest.raises(ConfigError, match=r"key 'objects\[1\]\.pose' should be a list of numbers, or null, "
                                          r"got '0\.5, 0\.1'$") as e:
        load_scene(p)
    assert "generator" not in str(e.value)
    with pytest.raises(ConfigError, match="is a folder, expected a file"):
        load_scene(tmp_path)


def test_every_shipped_suite_still_loads_and_a_suite_scene_file_is_read_beside_the_suite(tmp_path, monkeypatch):
    from robollm.eval.suites import heldout_suites, load_suite, load_suites

    load_suites("all")
    for name in heldout_suites():
        load_suite(name)
    (tmp_path / "scenes").mkdir()
    (tmp_path / "scenes" / "two.yaml").write_text("objects: [{type: block, colour: red}, {type: bowl, colour: green}]\n")
    episode = ("suite: mine\nepisodes:\n  - {id: e1, family: f, instruction: put it in, scene: %s, "
               "success: 'in(red_block, green_bowl)'}\n")
    suite = tmp_path / "mine.yaml"
    suite.write_text(episode % "scenes/two.yaml")
    monkeypatch.chdir("/")
    loaded = load_suite(suite)
    assert loaded.episodes[0].scene == str(tmp_path / "scenes" / "two.yaml")
    suite.write_text(episode % "scenes/three.yaml")
    with pytest.raises(ConfigError, match=rf"^{suite}: episode e1: key 'scene': scene '.*three\.yaml': no such file"):
        load_suite(suite)
