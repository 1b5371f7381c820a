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


@pytest.fixture
def env():
    env = BimanualTabletopEnv(scene="default", success="holding(left, red_block) or holding(right, red_block)")
    yield env
    env.close()


@pytest.mark.parametrize("action", [[-1, 0, 0], [0, -1, 0], [99, 0, 0], [0, 0, 99], [0, 0], [0.5, 0, 0],
                                    [[0, 0, 0]], "pick"])
def test_an_action_outside_the_space_is_a_clear_error(env, action):
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"is not in the action space MultiDiscrete") as e:
        env.step(np.array(action) if not isinstance(action, str) else action)
    assert repr(np.array(action) if not isinstance(action, str) else action) in str(e.value)
    assert not env.session.history  # nothing ran (weigh is the last skill: -1 used to run it)


def test_stepping_an_ended_episode_raises_until_reset(env):
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.array([0, 0, 0]))  # before the first reset
    env.reset(seed=3)
    pick = np.array([env.skill_names.index("pick"), env.arg_names.index("red_block"), 0])
    _, reward, terminated, _, _ = env.step(pick)
    assert reward == 1.0 and terminated
    with pytest.raises(RuntimeError, match="the episode has ended"):
        env.step(pick)  # no second reward of 1 for the same success
    env.reset(seed=3)
    assert env.step(np.array([env.skill_names.index("knock"), env.arg_names.index("blue_block"), 0]))[1] == 0.0


def test_truncated_episode_also_needs_a_reset():
    env = BimanualTabletopEnv(scene="default", success="in(red_block, green_bowl)", max_steps=1)
    try:
        env.reset(seed=0)
        knock = np.array([env.skill_names.index("knock"), env.arg_names.index("blue_block"), 0])
        assert env.step(knock)[3]  # truncated
        with pytest.raises(RuntimeError, match="the episode has ended"):
            env.step(knock)
    finally:
        env.close()


@pytest.mark.parametrize("success, fragment", [("in(red_block, purple_bowl)", "unknown object 'purple_bowl'"),
                                               ("in(red_block", "in(red_block")])
def test_a_bad_success_predicate_fails_at_construction(success, fragment):
    with pytest.raises(ValueError, match="^bad success predicate: ") as e:
        BimanualTabletopEnv(scene="default", success=success)
    assert fragment in str(e.value)
