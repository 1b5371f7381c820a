"""The Gymnasium environment and the coordination modes of the controllers."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from robollm.sim.gym_env import ENV_ID, BimanualTabletopEnv, register_envs


def test_env_is_registered_with_a_version():
    register_envs()
    assert ENV_ID.endswith("-v0") and ENV_ID in gym.registry


def test_check_env_passes():
    env = BimanualTabletopEnv(scene="default", success="in(red_block, green_bowl)", max_steps=2)
    try:
        check_env(env, skip_render_check=True)
    finally:
        env.close()


def test_a_skill_call_is_an_action():
    env = BimanualTabletopEnv(scene="default", success="holding(left, red_block) or holding(right, red_block)")
    try:
        obs, info = env.reset(seed=3)
        assert env.observation_space.contains(obs)
        action = np.array([env.skill_names.index("pick"), env.arg_names.index("red_block"), 0])
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["call"] == "pick(red_block)" and info["success"]
        assert reward == 1.0 and terminated and not truncated
        assert obs["holding"].max() == env.object_names.index("red_block") + 1
    finally:
        env.close()


@pytest.fixture
def motion(config):
    from robollm.robot.motion import RobotMotion
    from robollm.sim.robot import PyBulletRobot
    from robollm.world.scene import SceneSpec

    robot = PyBulletRobot(config)
    robot.load_scene(SceneSpec([]), 0)
    robot.connect()
    yield RobotMotion(robot, config)
    robot.disconnect()


def test_sync_and_async_coordination(motion):
    left, right = motion.ee_pose("left"), motion.ee_pose("right")
    targets = {"left": left.offset(dx=0.15, dz=-0.2), "right": right.offset(dz=-0.05)}
    plans = {a: motion.plan(a, t)[0] for a, t in targets.items()}
    durations = {a: sum(motion._durations(a, plans[a], "both_async")) for a in plans}
    assert durations["left"] > 1.5 * durations["right"]  # on their own clocks the arms differ
    start = motion._robot.observe().time
    assert motion.move(targets, mode="both_sync").ok
    for arm, target in targets.items():
        assert motion.ee_pose(arm).distance_to(target) < 0.005
    assert motion._robot.observe().time - start >= durations["left"]
    assert motion.move({"left": left, "right": right}, mode="both_async").ok


def test_per_mode_per_arm_controller_settings(config):
    assert config.controller("both_sync", "left").ee_speed == 0.15
    assert config.controller("both_async", "left").ee_speed == 0.25
    assert config.controller("right", "right").grasp_force == 40.0


def test_out_of_workspace_target_is_refused(motion):
    from robollm.geometry import Pose

    result = motion.move({"left": Pose((0.5, -0.5, 0.1), (1.0, 0.0, 0.0, 0.0))})
    assert not result.ok and "out of reach" in result.reason
