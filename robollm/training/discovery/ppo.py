"""Proximal policy optimisation for discovered skills, on stable-baselines3.

The policies are tiny (two hidden layers of 64 units over 15 features) and the
environment is the cost: one tick is a tenth of a second of physics. The update is
stable-baselines3's PPO (its `MlpPolicy`, rollout buffer, generalised advantage
estimate, clipped loss and optimiser); the experience comes from `n_envs`
environments at once, in separate processes when there are several, each collecting a
whole segment of `n_steps` ticks with its own copy of the policy
(`robollm.training.discovery.rollout`), so two cores give close to twice the samples.
stable-baselines3's own vectorised environments step in lockstep, every tick waiting
for the slowest environment (`robollm bench discovery --lockstep` times both).

The copy is `Policy`: the network stable-baselines3 builds, as a plain torch module
with the same weights (`mirror_weights`), which is also what a skill runs with, so
acting needs nothing beyond torch.

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
from gymnasium import spaces
from torch import nn

from robollm.errors import UserError
from robollm.training.discovery.rollout import NotFinite, Rollouts, Segment

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
    value_coef: float = 0.5
    max_grad_norm: float = 0.5
    init_log_std: float = -0.5
    patience: int = 16  # updates without a better success rate or return before giving up
    target_success: float = 0.95  # over the last `window` episodes
    window: int = 40
    min_steps: int = 4_000  # never stop as converged before this many steps
    seed: int = 0


class Policy(nn.Module):
    """A Gaussian policy with a state-independent spread, and a separate value network:
    stable-baselines3's `MlpPolicy` with `net_arch=dict(pi=[64, 64], vf=[64, 64])` and
    tanh, as one torch module (`mirror_weights` copies its weights in)."""

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
    weights: dict[str, torch.Tensor]  # the exported policy's (`Policy`)


CHECKPOINT_FORMAT = "stable-baselines3 PPO"


def sb3_settings(options: PPOOptions) -> dict:
    """stable-baselines3 `PPO` keyword arguments for these settings (also what
    `robollm bench discovery --lockstep` gives stable-baselines3's own loop)."""
    return {"learning_rate": options.lr, "n_steps": options.n_steps, "batch_size": options.minibatch,
            "n_epochs": options.epochs, "gamma": options.gamma, "gae_lambda": options.lam,
            "clip_range": options.clip, "ent_coef": options.entropy, "vf_coef": options.value_coef,
            "max_grad_norm": options.max_grad_norm,
            "policy_kwargs": {"net_arch": {"pi": [HIDDEN, HIDDEN], "vf": [HIDDEN, HIDDEN]}, "activation_fn": nn.Tanh,
                              "log_std_init": options.init_log_std},
            "seed": options.seed, "device": "cpu"}


def trainer_label() -> str:
    import stable_baselines3

    return f"stable-baselines3 {stable_baselines3.__version__} PPO"


def sb3_model(obs_size: int, act_size: int, options: PPOOptions):
    """stable-baselines3's PPO for these spaces and settings, without an environment of its
    own: the rollouts fill its buffer (`_fill`)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import Logger

    model = PPO("MlpPolicy", None, **sb3_settings(options), _init_setup_model=False)
    model.observation_space = spaces.Box(-np.inf, np.inf, (obs_size,), np.float32)
    model.action_space = spaces.Box(-1.0, 1.0, (act_size,), np.float32)
    model.n_envs = options.n_envs
    model._setup_model()
    model.set_logger(Logger(folder=None, output_formats=[]))  # the loop logs its own rows
    return model


# Policy's parameter <- stable-baselines3 ActorCriticPolicy's parameter.
_MIRROR = {"actor.0": "mlp_extractor.policy_net.0", "actor.2": "mlp_extractor.policy_net.2", "actor.4": "action_net",
           "critic.0": "mlp_extractor.value_net.0", "critic.2": "mlp_extractor.value_net.2", "critic.4": "value_net"}


def mirror_weights(sb3_policy: nn.Module) -> dict[str, torch.Tensor]:
    """A `Policy` state dict with the weights of stable-baselines3's policy."""
    theirs = sb3_policy.state_dict()
    ours = {f"{mine}.{p}": theirs[f"{their}.{p}"].detach().clone() for mine, their in _MIRROR.items()
            for p in ("weight", "bias")}
    ours["log_std"] = theirs["log_std"].detach().clone()
    return ours


def _checkpoint(path: Path, model, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"format": CHECKPOINT_FORMAT, "policy": model.policy.state_dict(),
                "optimizer": model.policy.optimizer.state_dict(), "state": state,
                "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state()}, tmp)
    tmp.replace(path)  # never a half-written checkpoint


def train(make_env: Callable[[], gym.Env], options: PPOOptions, out: Path,
          log: Callable[[str], None] = print, resume: bool = True,
          deadline: float | None = None) -> tuple[Policy, TrainResult]:
    """Train a policy; `out/checkpoint.pt` is written after every update and read on resume."""
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    processes = options.n_envs > 1 if options.processes is None else options.processes
    envs = Rollouts(make_env, options.n_envs, processes, Policy)
    interrupted = False
    try:
        model = sb3_model(*envs.sizes, options)  # seeds torch and numpy with options.seed
        state = {"steps": 0, "updates": 0, "best": [-1.0, -math.inf], "stale": 0, "history": [],
                 "episodes": [], "seconds": 0.0}
        if resume and ckpt_path.exists():
            saved = torch.load(ckpt_path, weights_only=False)
            if saved.get("format") != CHECKPOINT_FORMAT:
                raise UserError(f"{ckpt_path}: a checkpoint from an earlier trainer, which this one cannot resume; "
                                "move it away to train this proposal from the start")
            model.policy.load_state_dict(saved["policy"])
            model.policy.optimizer.load_state_dict(saved["optimizer"])
            state = saved["state"]
            torch.set_rng_state(saved["torch_rng"])
            np.random.set_state(saved["numpy_rng"])
            log(f"resumed from {ckpt_path} at {state['steps']} steps ({state['updates']} updates)")
        result = _loop(envs, model, options, state, ckpt_path, log, deadline)
    except KeyboardInterrupt:
        # Ctrl-C: the environment processes stop now (a pending segment is not waited
        # for); the last checkpoint stays, and the same command resumes from it.
        interrupted = True
        log(f"interrupted; the same command resumes from {ckpt_path}" if ckpt_path.exists() else "interrupted")
        raise
    finally:
        envs.close(terminate=interrupted)
    policy = Policy(*envs.sizes, options.init_log_std)
    policy.load_state_dict(result.weights)
    policy.eval()
    return policy, result


def _loop(envs: Rollouts, model, options: PPOOptions, state: dict, ckpt_path: Path,
          log: Callable[[str], None], deadline: float | None) -> TrainResult:
    n, T = options.n_envs, options.n_steps
    envs.start([options.seed * 1000 + state["updates"] * n + i for i in range(n)])
    episodes: deque = deque(state["episodes"], maxlen=options.window)
    start = time.perf_counter() - state["seconds"]
    reason = "step budget used"
    acting = Policy(*envs.sizes, options.init_log_std)  # what the rollouts act with
    try:
        while state["steps"] < options.total_steps:
            seeds = [(options.seed * 100_003 + state["updates"]) * n + i for i in range(n)]
            rollout_weights = mirror_weights(model.policy)
            acting.load_state_dict(rollout_weights)
            try:
                segments = envs.collect(acting, T, options.gamma, seeds)
            except NotFinite as e:
                raise TrainingStopped(str(e)) from None
            for seg in segments:
                episodes.extend(seg.episodes)
            state["steps"] += n * T
            _fill(model.rollout_buffer, segments)
            model._current_progress_remaining = 1.0 - state["steps"] / options.total_steps
            model.train()
            stats = _stats(model)
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
            # A diverged update is never checkpointed: the last good checkpoint stays.
            if not math.isfinite(stats["loss"]):
                raise TrainingStopped("diverged: the loss is not finite")
            if not all(torch.isfinite(p).all() for p in model.policy.parameters()):
                raise TrainingStopped("diverged: a weight is not finite")
            _checkpoint(ckpt_path, model, state)
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
    weights = mirror_weights(model.policy)
    kept = state.get("kept")
    if kept is not None and kept["success_rate"] > rate and not reason.startswith("diverged"):
        weights = kept["weights"]
        reason += f"; kept the weights of {kept['steps']} steps (success rate {kept['success_rate']:.2f})"
    return TrainResult(reason, state["steps"], state["updates"], time.perf_counter() - start, rate, ret,
                       state["history"], weights)


def _fill(buffer, segments: list[Segment]) -> None:
    """stable-baselines3's rollout buffer from one segment per environment (columns), then
    its generalised advantage estimate. An episode that ended at tick t means the next
    tick starts one (`episode_starts`, what the estimate reads)."""
    buffer.reset()
    cols = {k: np.stack([getattr(seg, k) for seg in segments], axis=1) for k in ("obs", "act", "logp", "val", "rew",
                                                                                 "done")}
    starts = np.zeros(len(segments), np.float32)  # the first tick's flag is never read
    for t in range(cols["rew"].shape[0]):
        buffer.add(cols["obs"][t], cols["act"][t], cols["rew"][t], starts, torch.as_tensor(cols["val"][t]),
                   torch.as_tensor(cols["logp"][t]))
        starts = cols["done"][t]
    buffer.compute_returns_and_advantage(torch.tensor([seg.last_val for seg in segments]), cols["done"][-1])


def _stats(model) -> dict:
    logged = model.logger.name_to_value
    return {"policy_loss": round(float(logged["train/policy_gradient_loss"]), 4),
            "value_loss": round(float(logged["train/value_loss"]), 4),
            "loss": round(float(logged["train/loss"]), 4),
            "std": round(float(logged["train/std"]), 3)}


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
