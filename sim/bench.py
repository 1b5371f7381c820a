"""`robollm bench sim`: physics steps per second through the environment and raw PyBullet."""

from __future__ import annotations

import argparse
import json
import statistics
import time

from robollm.errors import UserError
from robollm.sim.gym_env import BimanualTabletopEnv


def bench_sim(argv: list[str]) -> int:
    """Physics steps per second through the environment versus raw `stepSimulation`.

    Both loops advance the very same loaded world (two arms holding a pose, the
    default scene's objects), alternating in rounds so that drift in machine load
    hits both alike; the medians are compared.
    """
    parser = argparse.ArgumentParser(prog="robollm bench sim")
    parser.add_argument("--steps", type=int, default=2000, help="physics steps per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1:
        raise UserError("--steps and --rounds must be positive")

    env = BimanualTabletopEnv(config=None, scene="default")
    env.reset(seed=args.seed)
    robot = env.session.robot
    world = robot.world
    raw_step = world.pb.stepSimulation
    env_rates, raw_rates = [], []
    seconds = args.steps * world.dt

    def through_env() -> None:
        robot.wait(seconds)  # the environment's own path: grasp monitor and sensor hooks included

    def raw() -> None:
        for _ in range(args.steps):
            raw_step()

    for i in range(args.rounds):
        # Alternate which loop goes first, so neither always runs on a warmer cache.
        order = ((through_env, env_rates), (raw, raw_rates))
        for fn, rates in (order if i % 2 == 0 else order[::-1]):
            t0 = time.perf_counter()
            fn()
            rates.append(args.steps / (time.perf_counter() - t0))
    env.close()
    env_rate, raw_rate = statistics.median(env_rates), statistics.median(raw_rates)
    ratio = env_rate / raw_rate
    result = {"env_steps_per_s": round(env_rate), "raw_steps_per_s": round(raw_rate),
              "ratio": round(ratio, 3), "target": 0.9, "steps": args.steps, "rounds": args.rounds}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"environment: {env_rate:8.0f} steps/s")
        print(f"raw pybullet: {raw_rate:7.0f} steps/s")
        print(f"ratio: {ratio:.3f} (target >= 0.9)")
    return 0 if ratio >= 0.9 else 1
