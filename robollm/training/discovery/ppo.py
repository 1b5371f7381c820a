"""Proximal policy optimisation for discovered skills, small enough to read in one go.

The policies are tiny (two hidden layers of 64 units over 15 features) and the
environment is the cost: one tick is a tenth of a second of physics. Episodes are
collected from `n_envs` environments at once, in separate processes when there are
several, each collecting a whole segment of `n_steps` ticks with its own copy of the
policy (`robollm.training.discovery.rollout`), so two cores give close to twice the
samples.

Training stops early, and says why, when it diverges (a loss or weight that is not
finite), when it makes no progress (no better success rate or return for `patience`
updates), or when the success rate over the last episodes passes `target_success`.
A checkpoint after every update lets an interrupted run resume where it stopped;
episodes that were in progress start again. The weights exported are those whose
rollouts gave the best success rate over a full window of episodes, when that beats
the last window (PPO's success rate wanders once it is high).
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from robollm.training.discovery.rollout import NotFinite, Rollouts

HIDDEN = 64


@dataclass
class PPOOptions:
    total_steps: int = 30_000
    n_envs: int = 2
    processes: bool | None = None  # environments in their own processes (default: when n_envs > 1)
    n_steps: int = 256  # per environment between updates
    epochs: int = 8
    minibatch: int = 128
    lr: float = 3e-4
    gamma: float = 0.98
    lam: float = 0.95
    clip: float = 0.2
    entropy: float = 0.0
    max_grad_norm: float = 0.5
    init_log_std: float = -0.5
    patience: int = 16  # updates without a better success rate or return before giving up
    target_success: float = 0.95  # over the last `window` episodes
    window: int = 40
    min_steps: int = 4_000  # never stop as converged before this many steps
    seed: int = 0


class Policy(nn.Module):
    """A Gaussian policy with a state-independent spread, and a separate value network."""

    def __init__(self, obs_size: int, act_size: int, init_log_std: float = -0.5) -> None:
        super().__init__()
        self.actor = nn.Sequential(nn.Linear(obs_size, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, HIDDEN), nn.Tanh(),
                                   nn.Linear(HIDDEN, act_size))
        self.critic = nn.Sequential(nn.Linear(obs_size, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, HIDDEN), nn.Tanh(),
                                    nn.Linear(HIDDEN, 1))
        self.log_std = nn.Parameter(torch.full((act_size,), init_log_std))
        nn.init.orthogonal_(self.actor[-1].weight, 0.01)
        nn.init.zeros_(self.actor[-1].bias)

    def dist(self, obs: torch.Tensor) -> torch.distributions.Normal:
        return torch.distributions.Normal(self.actor(obs), self.log_std.exp())

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        """The deterministic action (the mean), clipped to the action space."""
        mean = self.actor(torch.as_tensor(obs, dtype=torch.float32))
        return mean.clamp(-1.0, 1.0).numpy()


class TrainingStopped(Exception):
    """Raised inside the loop to end it with a reason."""


@dataclass
class TrainResult:
    stop_reason: str
    steps: int
    updates: int
    seconds: float
    success_rate: float  # over the last `window` training episodes
    mean_return: float
    history: list[dict]


def _checkpoint(path: Path, policy: Policy, opt: torch.optim.Optimizer, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"policy": policy.state_dict(), "optimizer": opt.state_dict(), "state": state,
                "torch_rng": torch.get_rng_state()}, tmp)
    tmp.replace(path)  # never a half-written checkpoint


def train(make_env: Callable[[], gym.Env], options: PPOOptions, out: Path,
          log: Callable[[str], None] = print, resume: bool = True,
          deadline: float | None = None) -> tuple[Policy, TrainResult]:
    """Train a policy; `out/checkpoint.pt` is written after every update and read on resume."""
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    torch.manual_seed(options.seed)
    np.random.seed(options.seed)
    processes = options.n_envs > 1 if options.processes is None else options.processes
    envs = Rollouts(make_env, options.n_envs, processes, Policy)
    interrupted = False
    try:
        policy = Policy(*envs.sizes, options.init_log_std)
        opt = torch.optim.Adam(policy.parameters(), lr=options.lr, eps=1e-5)
        state = {"steps": 0, "updates": 0, "best": [-1.0, -math.inf], "stale": 0, "history": [],
                 "episodes": [], "seconds": 0.0}
        if resume and ckpt_path.exists():
            saved = torch.load(ckpt_path, weights_only=False)
            policy.load_state_dict(saved["policy"])
            opt.load_state_dict(saved["optimizer"])
            state = saved["state"]
            torch.set_rng_state(saved["torch_rng"])
            log(f"resumed from {ckpt_path} at {state['steps']} steps ({state['updates']} updates)")
        result = _loop(envs, policy, opt, options, state, ckpt_path, log, deadline)
    except KeyboardInterrupt:
        # Ctrl-C: the environment processes stop now (a pending segment is not waited
        # for); the last checkpoint stays, and the same command resumes from it.
        interrupted = True
        log(f"interrupted; the same command resumes from {ckpt_path}" if ckpt_path.exists() else "interrupted")
        raise
    finally:
        envs.close(terminate=interrupted)
    return policy, result


def _loop(envs: Rollouts, policy: Policy, opt, options: PPOOptions, state: dict, ckpt_path: Path,
          log: Callable[[str], None], deadline: float | None) -> TrainResult:
    n, T = options.n_envs, options.n_steps
    envs.start([options.seed * 1000 + state["updates"] * n + i for i in range(n)])
    episodes: deque = deque(state["episodes"], maxlen=options.window)
    start = time.perf_counter() - state["seconds"]
    reason = "step budget used"
    try:
        while state["steps"] < options.total_steps:
            seeds = [(options.seed * 100_003 + state["updates"]) * n + i for i in range(n)]
            try:
                segments = envs.collect(policy, T, options.gamma, seeds)
            except NotFinite as e:
                raise TrainingStopped(str(e)) from None
            for seg in segments:
                episodes.extend(seg.episodes)
            batch = {k: torch.as_tensor(np.stack([getattr(seg, k) for seg in segments], axis=1))
                     for k in ("obs", "act", "logp", "val", "rew", "done")}
            last_val = torch.tensor([seg.last_val for seg in segments], dtype=torch.float32)
            state["steps"] += n * T
            rollout_weights = {k: v.clone() for k, v in policy.state_dict().items()}
            stats = _update(policy, opt, batch, last_val, options)
            state["updates"] += 1
            rate = float(np.mean([s for s, _ in episodes])) if episodes else 0.0
            ret = float(np.mean([r for _, r in episodes])) if episodes else 0.0
            state["seconds"] = time.perf_counter() - start
            row = {"steps": state["steps"], "success_rate": round(rate, 3), "mean_return": round(ret, 3),
                   "seconds": round(state["seconds"], 1), **stats}
            state["history"].append(row)
            log(json.dumps(row))
            if len(episodes) >= options.window and rate > state.get("kept", {}).get("success_rate", -1.0):
                # The weights that collected the best recent episodes: what is exported.
                state["kept"] = {"success_rate": rate, "steps": state["steps"], "weights": rollout_weights}
            better = rate > state["best"][0] + 1e-9 or ret > state["best"][1] + 0.05
            if better:
                state["best"] = [max(rate, state["best"][0]), max(ret, state["best"][1])]
                state["stale"] = 0
            else:
                state["stale"] += 1
            state["episodes"] = list(episodes)
            _checkpoint(ckpt_path, policy, opt, state)
            if not all(torch.isfinite(p).all() for p in policy.parameters()):
                raise TrainingStopped("diverged: a weight is not finite")
            if (state["steps"] >= options.min_steps and len(episodes) >= options.window
                    and rate >= options.target_success):
                raise TrainingStopped(f"converged: success rate {rate:.2f} over the last {len(episodes)} episodes")
            if deadline is not None and time.time() > deadline:
                raise TrainingStopped("time budget used")
            if state["stale"] >= options.patience:
                raise TrainingStopped(f"no progress: no better success rate or return in {options.patience} updates")
    except TrainingStopped as stop:
        reason = str(stop)
    rate = float(np.mean([s for s, _ in episodes])) if episodes else 0.0
    ret = float(np.mean([r for _, r in episodes])) if episodes else 0.0
    kept = state.get("kept")
    if kept is not None and kept["success_rate"] > rate and not reason.startswith("diverged"):
        policy.load_state_dict(kept["weights"])
        reason += f"; kept the weights of {kept['steps']} steps (success rate {kept['success_rate']:.2f})"
    return TrainResult(reason, state["steps"], state["updates"], time.perf_counter() - start, rate, ret,
                       state["history"])


def _update(policy: Policy, opt, batch: dict, last_val: torch.Tensor, o: PPOOptions) -> dict:
    """GAE over (T, n) columns, then PPO's clipped updates over shuffled minibatches."""
    obs, act, logp_old, val = batch["obs"], batch["act"], batch["logp"], batch["val"]
    rew, done = batch["rew"], batch["done"]
    T = rew.shape[0]
    adv = torch.zeros_like(rew)
    gae = torch.zeros_like(last_val)
    for t in reversed(range(T)):
        nxt = last_val if t == T - 1 else val[t + 1]
        delta = rew[t] + o.gamma * nxt * (1 - done[t]) - val[t]
        gae = delta + o.gamma * o.lam * (1 - done[t]) * gae
        adv[t] = gae
    ret = adv + val
    flat = {"obs": obs.reshape(-1, obs.shape[-1]), "act": act.reshape(-1, act.shape[-1]),
            "logp": logp_old.reshape(-1), "adv": adv.reshape(-1), "ret": ret.reshape(-1)}
    size = flat["adv"].shape[0]
    losses = []
    for _ in range(o.epochs):
        order = torch.randperm(size)
        for i in range(0, size, o.minibatch):
            idx = order[i:i + o.minibatch]
            a = flat["adv"][idx]
            a = (a - a.mean()) / (a.std() + 1e-8)
            d = policy.dist(flat["obs"][idx])
            ratio = (d.log_prob(flat["act"][idx]).sum(-1) - flat["logp"][idx]).exp()
            pg = -torch.min(ratio * a, ratio.clamp(1 - o.clip, 1 + o.clip) * a).mean()
            vf = 0.5 * (policy.value(flat["obs"][idx]) - flat["ret"][idx]).pow(2).mean()
            loss = pg + 0.5 * vf - o.entropy * d.entropy().sum(-1).mean()
            if not torch.isfinite(loss):
                raise TrainingStopped("diverged: the loss is not finite")
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), o.max_grad_norm)
            opt.step()
            losses.append((pg.item(), vf.item()))
    pg_mean, vf_mean = np.mean(losses, axis=0)
    return {"policy_loss": round(float(pg_mean), 4), "value_loss": round(float(vf_mean), 4),
            "std": round(policy.log_std.exp().mean().item(), 3)}


def save_policy(policy: Policy, path: Path) -> None:
    """Only the actor and its spread: what a skill needs to act, in safetensors."""
    from safetensors.torch import save_file

    tensors = {f"actor.{k}": v.detach().clone() for k, v in policy.actor.state_dict().items()}
    tensors["log_std"] = policy.log_std.detach().clone()
    save_file(tensors, str(path))


def load_policy(path: Path, obs_size: int, act_size: int) -> Policy:
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    policy = Policy(obs_size, act_size)
    policy.actor.load_state_dict({k[len("actor."):]: v for k, v in tensors.items() if k.startswith("actor.")})
    policy.log_std.data.copy_(tensors["log_std"])
    policy.eval()
    return policy


def options_record(options: PPOOptions) -> dict:
    return asdict(options)
