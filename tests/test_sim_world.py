"""The simulated world: own clients, materials, sensors and geometric predicates."""

import numpy as np
import pytest

from robollm.robot.base import ArmCommand
from robollm.robot.sensors import AudioClip, CameraFrame, ContactReading, ForceTorque
from robollm.sim.materials import MATERIAL_TABLE
from robollm.sim.objects import build_model, mass_and_com
from robollm.sim.robot import PyBulletRobot
from robollm.world.predicates import evaluate, parse
from robollm.world.scene import MATERIALS, ObjectSpec, SceneSpec


def test_material_table_is_complete_and_physical():
    assert set(MATERIAL_TABLE) == set(MATERIALS)
    for m in MATERIAL_TABLE.values():
        assert m.density > 0 and 0 < m.friction < 2 and 0 <= m.restitution <= 1 and m.stiffness > 0
        assert list(m.modal_frequencies) == sorted(m.modal_frequencies)
        assert 0 < m.damping_ratio < 1 and m.thermal_conductivity > 0
    assert MATERIAL_TABLE["metal"].modal_frequencies[0] > MATERIAL_TABLE["foam"].modal_frequencies[0]
    assert MATERIAL_TABLE["metal"].damping_ratio < MATERIAL_TABLE["wood"].damping_ratio
    # smaller objects ring higher
    assert MATERIAL_TABLE["glass"].modes_for(0.03)[0] > MATERIAL_TABLE["glass"].modes_for(0.06)[0]


def test_mass_follows_density():
    block = ObjectSpec("block", "red", material="metal", size=0.05)
    mass, _ = mass_and_com(build_model(block), MATERIAL_TABLE["metal"])
    assert mass == pytest.approx(7850 * 0.05**3, rel=1e-6)


@pytest.fixture
def robot(config):
    r = PyBulletRobot(config)
    r.load_scene(SceneSpec([ObjectSpec("block", "red", material="metal", pose=[0.5, 0.3]),
                            ObjectSpec("bowl", "green", pose=[0.5, -0.3])]), 0)
    r.connect()
    yield r
    r.disconnect()


def test_each_world_owns_its_client(config, robot):
    other = PyBulletRobot(config)
    other.load_scene(SceneSpec([ObjectSpec("block", "blue", pose=[0.45, 0.0])]), 0)
    other.connect()
    try:
        assert other.world.pb._client != robot.world.pb._client
        assert set(other.world.objects) == {"blue_block"}
        assert set(robot.world.objects) == {"red_block", "green_bowl"}
        other.wait(0.5)
        assert robot.world.steps < other.world.steps
    finally:
        other.disconnect()


def test_sensors_return_the_shared_types(robot):
    frame = robot.sensors["front_camera"].read()
    assert isinstance(frame, CameraFrame)
    assert frame.rgb.shape == (224, 224, 3) and frame.rgb.dtype == np.uint8
    assert frame.depth.shape == (224, 224) and 0.3 < float(np.median(frame.depth)) < 3.0
    body = robot.world.objects["red_block"].body
    assert (frame.segmentation == body).any() and frame.labels[body] == "red_block"
    assert isinstance(robot.sensors["top_camera"].read(), CameraFrame)
    assert isinstance(robot.sensors["left_wrist_ft"].read(), ForceTorque)
    assert isinstance(robot.sensors["right_fingers"].read(), ContactReading)
    mic = robot.sensors["microphone"]
    mic.start()
    robot.wait(0.25)
    clip = mic.read()
    mic.stop()
    assert isinstance(clip, AudioClip) and clip.duration == pytest.approx(0.25, abs=0.01)


def test_joint_targets_are_clipped_to_limits(robot):
    spec = robot.arms["left"]
    sent = robot.send_action({"left": ArmCommand(joints=(9.0,) * 7, gripper_width=0.5)})
    assert sent["left"].joints == spec.joint_upper
    assert sent["left"].gripper_width == spec.gripper_max_width


def test_geometric_predicates(robot):
    facts = robot.geometric_facts()
    assert evaluate(parse("at(red_block, left) and at(green_bowl, right)"), facts)
    assert not evaluate(parse("in(red_block, green_bowl) or lifted(red_block)"), facts)
    assert not evaluate(parse("holding(left, red_block)"), facts)
    assert not evaluate(parse("near(red_block, green_bowl)"), facts)
