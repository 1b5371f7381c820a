"""`robollm run --plan ...`: execute a skill sequence and check the success predicate."""

from __future__ import annotations

import argparse
import json
import time

from robollm.config import load_config
from robollm.plan import parse_plan
from robollm.recording import Recorder, check_output_path
from robollm.runtime import Session
from robollm.scene import load_scene


def run_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    scene = load_scene(args.scene or config.sim.scene)
    plan = parse_plan(args.plan)
    record_path = check_output_path(args.record) if args.record else None
    executor = args.executor or config.skills.executor
    quiet = args.json
    started = time.perf_counter()
    with Session(config, scene, args.seed, executor=executor, gui=args.gui) as session:
        goal = session.parse_goal(args.success)
        for call in plan:  # every step is checked before the robot moves
            session.skill(call.skill)
            session.bind(call)
        recorder = None
        if record_path is not None:
            recorder = Recorder(session.robot.sensors["front_camera"], session.robot_time)
            session.motion.tick_hooks.append(recorder.tick)
            recorder.capture()
        if not quiet:
            print(f"robollm run: scene {scene.source} | seed {args.seed} | driver {config.robot.driver} | "
                  f"executor {executor} | perception: {session.perception.name}")
        for i, call in enumerate(plan, 1):
            record = session.execute(call)
            out = record.outcome
            if not quiet:
                status = "ok" if out.success else f"FAILED: {out.reason}"
                arm = f"[{out.arm}]" if out.arm else ""
                print(f"  step {i}  {str(call):<34} {record.text:<42} {arm:<8} {status}")
            if not out.success:
                break
        success = session.succeeded(goal)
        if recorder is not None:
            recorder.capture()
            recorder.save(record_path)
        steps = [{"step": str(r.call), "text": r.text, "success": r.outcome.success,
                  "reason": r.outcome.reason, "arm": r.outcome.arm, "sim_time": round(r.sim_time, 3)}
                 for r in session.history]
    wall = time.perf_counter() - started
    if quiet:
        print(json.dumps({"steps": steps, "success": success, "seed": args.seed, "goal": str(goal),
                          "executor": executor, "recording": str(record_path) if record_path else None,
                          "wall_time": round(wall, 2)}))
    else:
        verdict = "holds" if success else "does not hold"
        print(f"success: {goal} {verdict}  ({len(steps)} steps, {wall:.1f} s)")
        if record_path:
            print(f"recording: {record_path}")
    return 0 if success else 1
