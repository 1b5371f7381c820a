"""`robollm bench discovery`: how fast the low-level environment runs, alone and in training.

Four figures, in environment steps (control ticks) per second:
- the environment alone, stepped with random actions in this process;
- the PPO training loop (stable-baselines3's update) with one environment in this
  process (how `--envs 1` trains);
- the training loop with one environment process, and with `--envs` of them (the
  same machinery, one process against several: `robollm.training.discovery.rollout`);
and the speed-up from vectorising: `--envs` processes against one (target >= 1.7 for
two), and beside it against the in-process loop. Each training setting runs `--repeats`
times, interleaved, and its fastest run counts: other work on the machine only ever
slows a run down.
The training runs write their checkpoints to a temporary folder and are thrown away.
`--lockstep` also times stable-baselines3's own `PPO.learn` on `SubprocVecEnv`, whose
environments step in lockstep, with the same settings and network.

Beside them it prints the machine's own ceiling: the same fixed arithmetic (a physics-
like loop of floating-point work) run in `--envs` processes at once against one, as
the rate of work done. Where the processors are hyper-threads of fewer physical cores,
or the machine is busy, this ceiling sits well under `--envs`, and no vectorised
training can beat it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from robollm.errors import UserError
from robollm.sim.discovery_env import DiscoveryEnv
from robollm.training.discovery.features import PolicyTask
from robollm.training.discovery.ppo import PPOOptions, sb3_settings, train

TASK = {"success": "at_edge(red_block, left)", "obj": "red_block"}
SPEEDUP_TARGET = 1.7


def _work(seconds: float) -> int:
    """Rounds of a fixed floating-point loop done in `seconds` (in the calling process)."""
    import math as m

    rounds, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        x = 0.0
        for i in range(2000):
            x += m.sin(i * 0.001) * m.cos(x)
        rounds += 1
    return rounds


def parallel_ceiling(n: int, seconds: float = 2.0) -> float:
    """Work done per second by `n` processes at once over that of one."""
    import multiprocessing as mp

    one = _work(seconds)
    with mp.get_context("spawn").Pool(n) as pool:
        pool.map(_work, [0.05] * n)  # started and imported before the clock runs
        many = sum(pool.map(_work, [seconds] * n))
    return many / max(one, 1)


class _Factory:
    def __call__(self) -> DiscoveryEnv:
        return DiscoveryEnv(TASK)


def bench_discovery(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="robollm bench discovery")
    parser.add_argument("--steps", type=int, default=1024, help="environment steps per measurement")
    parser.add_argument("--envs", type=int, default=2, help="environment processes for the vectorised run")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each setting; the fastest counts (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lockstep", action="store_true",
                        help="also time stable-baselines3's own PPO.learn with the same settings, in process and with "
                             "1 and --envs SubprocVecEnv processes (stepped in lockstep)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.steps < 64 or args.envs < 2 or args.repeats < 1:
        raise UserError("--steps must be at least 64, --envs at least 2 and --repeats at least 1")
    import torch

    torch.set_num_threads(1)
    env = DiscoveryEnv(PolicyTask(**TASK))
    rng = np.random.default_rng(args.seed)
    env.reset(seed=args.seed)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        _, _, term, trunc, _ = env.step(rng.uniform(-1, 1, 3))
        if term or trunc:
            env.reset()
    alone = args.steps / (time.perf_counter() - t0)
    env.close()
    rates: dict = {}
    for _ in range(args.repeats):  # interleaved, so a busy spell of the machine hits every setting alike
        for key, n, processes in (("inline", 1, False), (1, 1, True), (args.envs, args.envs, True)):
            # Long enough rollouts that every run makes the same number of updates.
            options = PPOOptions(total_steps=args.steps, n_envs=n, processes=processes,
                                 n_steps=max(32, args.steps // (4 * n)), min_steps=10**9, patience=10**9,
                                 seed=args.seed)
            with tempfile.TemporaryDirectory() as folder:
                _, result = train(_Factory(), options, Path(folder), log=lambda _: None, resume=False)
            rates[key] = max(rates.get(key, 0.0), result.steps / result.seconds)  # other work only slows a run
    speedup = rates[args.envs] / rates[1]
    sb3 = lockstep_rates(args) if args.lockstep else None
    ceiling = parallel_ceiling(args.envs)
    out = {"env_alone_steps_per_s": round(alone, 1), "train_1_env_inline_steps_per_s": round(rates["inline"], 1),
           "train_1_env_process_steps_per_s": round(rates[1], 1),
           f"train_{args.envs}_env_processes_steps_per_s": round(rates[args.envs], 1), "speedup": round(speedup, 2),
           "speedup_vs_inline": round(rates[args.envs] / rates["inline"], 2),
           "target": SPEEDUP_TARGET, "machine_ceiling": round(ceiling, 2), "steps": args.steps,
           "repeats": args.repeats}
    if sb3 is not None:
        out["lockstep"] = {k: round(v, 1) for k, v in sb3.items()} | {
            "speedup": round(sb3[f"{args.envs}_processes"] / sb3["1_process"], 2)}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"environment alone:                    {alone:7.1f} steps/s")
        print(f"training, 1 environment in-process:   {rates['inline']:7.1f} steps/s")
        print(f"training, 1 environment process:      {rates[1]:7.1f} steps/s")
        print(f"training, {args.envs} environment processes:  {rates[args.envs]:7.1f} steps/s")
        print(f"speed-up, {args.envs} processes against 1: {speedup:.2f}x (target >= {SPEEDUP_TARGET}x); "
              f"against the in-process loop: {out['speedup_vs_inline']:.2f}x")
        if sb3 is not None:
            print(f"stable-baselines3 PPO.learn, lockstep SubprocVecEnv: in process {sb3['in_process']:.1f}, "
                  f"1 process {sb3['1_process']:.1f}, {args.envs} processes {sb3[f'{args.envs}_processes']:.1f} "
                  f"steps/s ({out['lockstep']['speedup']:.2f}x)")
        print(f"this machine's ceiling: {ceiling:.2f}x ({args.envs} processes of fixed arithmetic against 1)")
    return 0 if speedup >= SPEEDUP_TARGET else 1


def lockstep_rates(args) -> dict[str, float]:
    """stable-baselines3's own training loop on the same environment and settings (its
    vectorised environments step in lockstep), for comparison; the fastest of `--repeats` runs."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    rates: dict[str, float] = {}
    for _ in range(args.repeats):
        for key, n, vec in (("in_process", 1, DummyVecEnv), ("1_process", 1, SubprocVecEnv),
                            (f"{args.envs}_processes", args.envs, SubprocVecEnv)):
            env = vec([_Factory()] * n, start_method="spawn") if vec is SubprocVecEnv else vec([_Factory()] * n)
            options = PPOOptions(n_envs=n, n_steps=max(32, args.steps // (4 * n)), seed=args.seed)
            model = PPO("MlpPolicy", env, **sb3_settings(options), verbose=0)
            started = time.perf_counter()
            model.learn(args.steps)
            rates[key] = max(rates.get(key, 0.0), args.steps / (time.perf_counter() - started))
            env.close()
    return rates
