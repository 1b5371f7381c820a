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
