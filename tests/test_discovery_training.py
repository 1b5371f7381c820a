"""The low-level environment and the PPO trainer: spaces, determinism, early stops, resume."""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import threading
import time

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from robollm.errors import UserError
from robollm.training.discovery.features import OBS_SIZE, PolicyTask
from robollm.training.discovery.ppo import (
    Policy,
    PPOOptions,
    load_policy,
    mirror_weights,
    save_policy,
    sb3_model,
    train,
)


class Reach(gym.Env):
    """A point that the action moves; reward for getting close to the origin. Cheap and learnable."""

    def __init__(self, nan_after: int | None = None, flat: bool = False) -> None:
        self.observation_space = spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.nan_after, self.flat, self.calls = nan_after, flat, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.t = self.np_random.uniform(-1, 1, 2), 0
        return self.x.astype(np.float32), {}

    def step(self, action):
        self.calls += 1
        self.x = np.clip(self.x + 0.2 * np.clip(action, -1, 1), -2, 2)
        self.t += 1
        d = float(np.linalg.norm(self.x))
        reward = 0.0 if self.flat else -d
        if self.nan_after is not None and self.calls > self.nan_after:
            reward = float("nan")
        success = d < 0.1 and not self.flat
        return self.x.astype(np.float32), reward, success, self.t >= 20, {"success": success}


def small(**kw) -> PPOOptions:
    return PPOOptions(**{"total_steps": 512, "n_envs": 1, "n_steps": 64, "epochs": 2, "minibatch": 64, **kw})


def test_training_is_deterministic_under_a_seed(tmp_path):
    a, _ = train(Reach, small(), tmp_path / "a", log=lambda _: None)
    b, _ = train(Reach, small(), tmp_path / "b", log=lambda _: None)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_environment_processes_train_the_same_policy_as_one_process(tmp_path):
    """Each environment's action noise is seeded by the run, the update and its index."""
    a, _ = train(Reach, small(n_envs=2, processes=False), tmp_path / "a", log=lambda _: None)
    b, _ = train(Reach, small(n_envs=2, processes=True), tmp_path / "b", log=lambda _: None)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("n_envs", [1, 2])
def test_a_diverging_run_stops_early_and_says_so(tmp_path, n_envs):
    _, result = train(functools.partial(Reach, nan_after=100), small(n_envs=n_envs), tmp_path, log=lambda _: None)
    assert result.stop_reason.startswith("diverged")
    assert result.steps < 512


def test_a_diverged_update_is_not_checkpointed(tmp_path, monkeypatch):
    """An update that leaves a weight not finite stops the run; the checkpoint keeps the
    last good update, so the same command resumes from finite weights."""
    from robollm.training.discovery import ppo

    build = ppo.sb3_model

    def breaking_model(*args):
        model = build(*args)
        update, calls = model.train, []

        def train_then_break() -> None:
            update()
            calls.append(1)
            if len(calls) == 2:
                with torch.no_grad():
                    model.policy.action_net.weight.fill_(float("nan"))
        model.train = train_then_break
        return model

    monkeypatch.setattr(ppo, "sb3_model", breaking_model)
    _, result = train(Reach, small(), tmp_path, log=lambda _: None)
    assert result.stop_reason.startswith("diverged: a weight is not finite") and result.updates == 2
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert saved["state"]["updates"] == 1
    assert all(torch.isfinite(v).all() for v in saved["policy"].values())


def test_a_run_without_progress_stops_early(tmp_path):
    _, result = train(lambda: Reach(flat=True), small(total_steps=10_000, patience=3), tmp_path, log=lambda _: None)
    assert result.stop_reason.startswith("no progress")
    assert result.steps <= 64 * 5


def test_an_interrupted_run_resumes_from_its_checkpoint(tmp_path):
    train(Reach, small(total_steps=128), tmp_path, log=lambda _: None)
    lines: list[str] = []
    _, result = train(Reach, small(total_steps=256), tmp_path, log=lines.append)
    assert lines[0].startswith("resumed from") and "at 128 steps" in lines[0]
    assert result.steps == 256 and result.updates == 4


def test_ctrl_c_stops_the_environment_processes_and_keeps_the_checkpoint(tmp_path):
    def interrupt_after_first_update() -> None:
        while not (tmp_path / "checkpoint.pt").exists():
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    # Ctrl-C raises KeyboardInterrupt here even where the runner started us with SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=interrupt_after_first_update, daemon=True).start()
    lines: list[str] = []
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            train(Reach, small(total_steps=10_000_000, n_envs=2), tmp_path, log=lines.append)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 60
    assert lines[-1] == f"interrupted; the same command resumes from {tmp_path / 'checkpoint.pt'}"
    assert not multiprocessing.active_children()  # the environment processes are gone
    lines.clear()
    train(Reach, small(total_steps=128), tmp_path, log=lines.append)
    assert lines[0].startswith(f"resumed from {tmp_path / 'checkpoint.pt'}")


def test_the_rollouts_copy_of_the_policy_is_stable_baselines3s_network():
    """Same action distribution and value as stable-baselines3's policy, after an update too."""
    model = sb3_model(15, 3, PPOOptions(seed=4))
    torch.nn.init.normal_(model.policy.action_net.weight)  # away from the near-zero initial layer
    copy = Policy(15, 3)
    copy.load_state_dict(mirror_weights(model.policy))
    obs = torch.randn(32, 15)
    actions = torch.randn(32, 3)
    theirs = model.policy.get_distribution(obs)
    values, logp, _ = model.policy.evaluate_actions(obs, actions)
    ours = copy.dist(obs)
    assert torch.allclose(ours.mean, theirs.distribution.mean, atol=1e-6)
    assert torch.allclose(ours.stddev, theirs.distribution.stddev)
    assert torch.allclose(ours.log_prob(actions).sum(-1), logp, atol=1e-5)
    assert torch.allclose(copy.value(obs), values.flatten(), atol=1e-6)


def test_a_checkpoint_from_another_trainer_is_refused_with_what_to_do(tmp_path):
    torch.save({"policy": {}, "state": {}}, tmp_path / "checkpoint.pt")
    with pytest.raises(UserError, match="checkpoint.pt: a checkpoint from an earlier trainer"):
        train(Reach, small(), tmp_path, log=lambda _: None)
    assert (tmp_path / "checkpoint.pt").exists()  # left where it was


def test_exported_policy_reloads_with_the_same_actions(tmp_path):
    policy, _ = train(Reach, small(total_steps=64), tmp_path, log=lambda _: None)
    save_policy(policy, tmp_path / "p.safetensors")
    again = load_policy(tmp_path / "p.safetensors", 2, 2)
    obs = np.array([0.3, -0.4], np.float32)
    assert np.allclose(policy.act(obs), again.act(obs))


@pytest.fixture(scope="module")
def edge_env():
    from robollm.sim.discovery_env import ENV_ID, register_envs

    register_envs()
    env = gym.make(ENV_ID, task=PolicyTask("at_edge(red_block, left)", "red_block", max_steps=5))
    yield env
    env.close()


def test_the_low_level_environment_is_registered_and_deterministic(edge_env):
    """Two fresh environments under one seed agree exactly. (One environment reset twice
    agrees to about 1e-5: PyBullet keeps solver state across a scene reload.)"""
    from robollm.sim.discovery_env import DiscoveryEnv

    def rollout(env):
        obs, info = env.reset(seed=3)
        return obs, info, [env.step(np.array([1.0, 0.0, 0.0], np.float32))[:2] for _ in range(3)]

    obs, info, trace = rollout(edge_env)
    assert obs.shape == (OBS_SIZE,) and edge_env.action_space.shape == (3,)
    fresh = DiscoveryEnv(PolicyTask("at_edge(red_block, left)", "red_block", max_steps=5))
    try:
        obs2, info2, again = rollout(fresh)
    finally:
        fresh.close()
    assert info2 == info and np.array_equal(obs, obs2)
    for (o1, r1), (o2, r2) in zip(trace, again, strict=True):
        assert np.array_equal(o1, o2) and r1 == r2
    assert sum(r for _, r in trace) > 0  # pushing towards the edge earns shaped reward


def test_the_environment_refuses_bad_predicates_and_actions(edge_env):
    from robollm.sim.discovery_env import DiscoveryEnv

    with pytest.raises(ValueError, match="bad success predicate"):
        DiscoveryEnv(PolicyTask("at_edge(red_block", "red_block"))
    edge_env.reset(seed=0)
    with pytest.raises(ValueError, match="not finite"):
        edge_env.step(np.array([np.nan, 0.0, 0.0]))


def test_model_written_reward_terms_run_in_the_sandbox_and_a_bad_one_is_dropped():
    from robollm.sim.discovery_env import DiscoveryEnv

    task = PolicyTask("at_edge(red_block, left)", "red_block", max_steps=5)
    env = DiscoveryEnv(task, reward_code="def reward(m):\n    return 100.0 + 0.0 * m['distance']\n")
    try:
        env.reset(seed=0)
        assert env.step(np.zeros(3))[1] > 50.0
    finally:
        env.close()
    env = DiscoveryEnv(task, reward_code="import os\ndef reward(m):\n    return 100.0\n")
    try:
        env.reset(seed=0)
        _, reward, _, _, info = env.step(np.zeros(3))
        assert "Import is not allowed" in info["reward_code_error"] and abs(reward) < 50.0
    finally:
        env.close()
