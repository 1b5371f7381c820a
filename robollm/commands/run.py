"""`robollm run`: plan from an instruction (SayCan) or execute a scripted `--plan`."""

from __future__ import annotations

import argparse
import json
import sys
import time

from robollm.config import load_config
from robollm.errors import UserError
from robollm.eval.recording import Recorder, check_output_path
from robollm.launch_check import check_display, check_launch
from robollm.plan import parse_plan
from robollm.planner.prompt import example_task
from robollm.session import Session


def run_command(args: argparse.Namespace) -> int:
    launched = time.perf_counter()
    if (args.instruction is None) == (args.plan is None):
        raise UserError("give either an instruction (robollm run \"put the red block in the green bowl\") "
                        "or a scripted --plan, not both")
    if args.seed < 0:
        raise UserError(f"--seed must be 0 or more, got {args.seed}")
    if args.success is not None and not args.success.strip():
        raise UserError("--success is empty; give a predicate, e.g. 'in(red_block, green_bowl)', or leave it out")
    if args.gui:
        check_display()
    record_path = check_output_path(args.record, force=args.force) if args.record else None
    config = load_config(args.config, perception=args.perception, affordance=args.affordance)
    # Everything the launch file names, before a model or the simulator loads; a scripted
    # --plan never loads the planner, so the planner's files are checked only for planning.
    scene = check_launch(config, scene=args.scene, planner=args.instruction is not None).scene
    plan = parse_plan(args.plan) if args.plan is not None else None
    planner = None
    if args.instruction is not None:
        from robollm.planner.saycan import SayCanPlanner, check_instruction

        check_instruction(args.instruction)
        from robollm.llm.options import HFOptions

        if isinstance(config.planner.llm.options, HFOptions) and config.planner.llm.options.threads is None:
            import torch

            # One run, one answer: with two threads the log-probs of two runs of one plan
            # differed in the third decimal on a busy machine; with one they never did.
            torch.set_num_threads(1)
        planner = SayCanPlanner.from_config(config)
    executor = args.executor or config.skills.executor
    with Session(config, scene, args.seed, executor=executor, gui=args.gui) as session:
        goal = session.parse_goal(args.success) if args.success else None
        for call in plan or []:  # every step is checked before the robot moves
            session.skill(call.skill)
            session.bind(call)
        recorder = None
        if record_path is not None:
            recorder = Recorder(record_camera(session.robot.sensors, config.robot.driver), session.robot_time)
            session.motion.tick_hooks.append(recorder.tick)
            recorder.capture()
        if not args.json:
            print(f"robollm run: scene {scene.source} | seed {args.seed} | driver {config.robot.driver} | "
                  f"executor {executor} | perception: {session.perception.name}")
            seen = session.perception.report()
            if seen:
                print(f"perception: {seen}")
        started = time.perf_counter()  # the run itself; `launched` adds the start-up
        if planner is not None:
            report = _plan_and_act(planner, session, args)
        else:
            report = _scripted(plan, session, args)
        holds = session.succeeded(goal) if goal is not None else report["completed"]
        disturbed = session.disturbed(goal) if goal is not None else []
        # an instruction that was refused, or a run the language model left unfinished, is
        # not done, whatever the goal says
        success = holds and not disturbed and not report.get("stopped_early", False)
        ended = time.perf_counter()
        unsaved = ""  # why the recording could not be written: reported after the result
        if recorder is not None:
            recorder.capture()
            unsaved = recorder.save_or_reason(record_path)
    report.update(success=success, goal_holds=holds, disturbed=disturbed, seed=args.seed, goal=str(goal) if goal else None, executor=executor,
                  recording=str(record_path) if record_path and not unsaved else None,
                  wall_time=round(ended - started, 2), total_time=round(ended - launched, 2))
    if unsaved:
        report["recording_error"] = f"{record_path}: {unsaved}"
    timing = f"{report['wall_time']:.1f} s, {report['total_time']:.1f} s with start-up"
    if args.json:
        print(json.dumps(report))
    else:
        if goal is not None:
            also = f", but it also moved {', '.join(disturbed)}" if disturbed else ""
            print(f"success: {goal} {'holds' if holds else 'does not hold'}{also}  "
                  f"({len(report['steps'])} steps, {timing})")
        else:
            print(f"{'finished' if success else 'not finished'}  "
                  f"({len(report['steps'])} steps, {timing})")
        if record_path and not unsaved:
            print(f"recording: {record_path}")
    if unsaved:
        sys.stdout.flush()
        print(f"robollm: error: the recording {str(record_path)!r} was not saved: {unsaved}", file=sys.stderr)
        return 1
    return 0 if success else 1


def record_camera(sensors: dict, driver: str):
    """The camera `--record` films: the front camera where there is one (simulation), else
    the robot's first camera (the real rig's table camera)."""
    cameras = {name: s for name, s in sensors.items() if s.info.kind == "camera"}
    if not cameras:
        raise UserError(f"--record needs a camera, and the {driver!r} driver has none")
    return cameras.get("front_camera") or cameras[sorted(cameras)[0]]


def arm_label(outcome) -> str:
    """Which arm acted, or how both did: both_sync (one object in both hands) or
    both_async (each hand its own object)."""
    if outcome.data.get("pattern"):
        return outcome.data["pattern"]
    return "both_sync" if len(outcome.data.get("arms", ())) == 2 else (outcome.arm or "")


def _scripted(plan, session: Session, args) -> dict:
    for i, call in enumerate(plan, 1):
        record = session.execute(call)
        out = record.outcome
        if not args.json:
            status = "ok" if out.success else f"FAILED: {out.reason}"
            label = arm_label(out)
            print(f"  step {i}  {str(call):<34} {record.text:<42} {f'[{label}]' if label else '':<8} {status}")
            if record.evidence is not None:
                print(f"          evidence: {evidence_text(record.evidence, session.config.sensing.style)}")
        if not out.success:
            break
    steps = [{"step": str(r.call), "text": r.text, "success": r.outcome.success, "reason": r.outcome.reason,
              "arm": r.outcome.arm, "acted_with": arm_label(r.outcome), "sim_time": round(r.sim_time, 3),
              "evidence": None if r.evidence is None else r.evidence.to_json()} for r in session.history]
    return {"mode": "plan", "steps": steps, "completed": all(s["success"] for s in steps),
            "evidence": session.memory.to_json()}


def evidence_text(evidence, style: str) -> str:
    """The evidence line the prompt gets, and the confidence behind it."""
    if not evidence.ok:
        return f"no reading ({evidence.reason})"
    return f"{evidence.line(style)}  [{evidence.cue}, confidence {evidence.confidence:.2f}]"


def _plan_and_act(planner, session: Session, args) -> dict:
    show = session.config.planner.show_top

    def result_examples() -> list[str]:
        return [example_task(e) for e in planner.examples] if planner.examples is not None else []

    def print_step(step) -> None:
        if step.index == 1 and result_examples():
            print("examples in the prompt (closest last): " + " | ".join(result_examples()))
        if step.index == 1 and planner.reading:
            print(planner.reading.trace_line())
        if step.index == 1 and planner.swapped:
            print(f"a choice: also scored as {planner.swapped!r}, the two orders' LM p averaged")
        if step.index == 1 and planner.left_out:
            left = [f"{n} (not moved)" for n in planner.left_out.kept] + \
                [f"{n} (not moved, nothing put in or on it)" for n in planner.left_out.excluded]
            print("left alone, as the instruction asks: " + ", ".join(left))
        asked = sum(s.llm is not None for s in step.candidates)
        print(f"\nstep {step.index}  (language model {step.lm_seconds:.2f} s, {len(step.candidates)} "
              f"candidates, {asked} possible ones scored)")
        print(f"    {'candidate':<46} {'LM p':>7} {'T=' + format(planner.temperature, '.2f'):>7} "
              f"{'afford':>7} {'combined':>9}")

        def row(mark: str, s, note: str = "") -> None:
            raw = "—" if s.llm_prob_raw is None else f"{s.llm_prob_raw:.3f}"
            lm = "—" if s.llm is None else f"{s.llm_prob:.3f}"
            print(f"  {mark} {s.text:<46} {raw:>7} {lm:>7} {s.affordance:7.3f} {s.combined:9.4f}{note}")

        for s in step.candidates[:show]:
            row(">" if s is step.chosen else " ", s)
        if step.chosen not in step.candidates[:show]:
            row(">", step.chosen, "  (beam search)")
        if step.outcome is None:
            print("  chose: done")
        else:
            status = "ok" if step.outcome.success else f"FAILED: {step.outcome.reason}"
            label = arm_label(step.outcome)
            print(f"  chose: {step.chosen.text}  ->  {status}" + (f" [{label}]" if label else ""))
        if step.evidence is not None:
            print(f"  evidence: {evidence_text(step.evidence, session.config.sensing.style)}")
        sys.stdout.flush()

    if not args.json:
        print(f"instruction: {args.instruction}\nlanguage model: {planner.llm.name} "
              f"(usefulness: softmax of its scores, then at temperature {planner.temperature:.2f}) | "
              f"affordance: {planner.affordance.name} | prompt: {planner.prompt.source}")
    result = planner.run(session, args.instruction, on_step=None if args.json else print_step)
    report = plan_report(result, hands_of(session), show, result_examples(), echo=not args.json)
    report["evidence"] = session.memory.to_json()
    report["lm_temperature"] = planner.temperature
    return report


def hands_of(session: Session) -> dict[str, str | None]:
    """What each hand holds, from the session's state."""
    from robollm.world.symbolic import ARMS

    return {arm: session.state.holding(arm) for arm in ARMS}


def describe_hands(hands: dict[str, str | None]) -> str:
    return ", ".join(f"{arm} holds {obj}" if obj else f"{arm} is empty" for arm, obj in hands.items())


def plan_report(result, hands: dict[str, str | None], show: int, examples: list[str],
                echo: bool = True) -> dict:
    """The planner's result as `run --json` gives it; with `echo`, the closing lines of the
    text trace (why it stopped, and what each hand holds when the run was cut short)."""
    if echo and result.refused:
        if result.reading:
            print(result.reading.trace_line())
        print(f"stopped: {result.stop_reason}; nothing was moved")
    elif echo:
        print(f"\nstopped: {result.stop_reason}")
    if echo and result.lm_unavailable:
        print(f"hands: {describe_hands(hands)}")
    steps = [{
        "step": s.index, "chosen": s.chosen.text, "call": str(s.chosen.call),
        "success": None if s.outcome is None else s.outcome.success,
        "reason": "" if s.outcome is None else s.outcome.reason,
        "arm": None if s.outcome is None else s.outcome.arm,
        "acted_with": None if s.outcome is None else arm_label(s.outcome), "lm_seconds": round(s.lm_seconds, 3),
        "evidence": None if s.evidence is None else s.evidence.to_json(),
        "candidates": [{"text": c.text, "lm": None if c.llm is None else round(c.llm, 4), "lm_prob": round(c.llm_prob, 4),
                        "lm_prob_raw": None if c.llm_prob_raw is None else round(c.llm_prob_raw, 4),
                        "affordance": round(c.affordance, 3), "combined": round(c.combined, 5)}
                       for c in s.candidates[:show]],
    } for s in result.steps]
    grounding = result.grounding
    return {"mode": "instruction", "instruction": result.instruction, "steps": steps,
            "finished": result.finished, "stop_reason": result.stop_reason, "missing": result.missing,
            "grounding": None if grounding is None else {"kind": grounding.kind, "missing": grounding.missing,
                                                         "ambiguous": grounding.ambiguous, "cannot": grounding.cannot},
            "left_alone": {"kept": result.left_alone.kept, "excluded": result.left_alone.excluded},
            "read_as": None if result.reading is None else result.reading.text,
            "also_scored_as": result.swapped,
            "reading": [] if result.reading is None else [{"kind": k, "was": was, "now": now}
                                                         for k, was, now in result.reading.changes],
            "lm_unavailable": result.lm_unavailable, "hands": dict(hands), "examples": examples,
            "stopped_early": result.refused or result.lm_unavailable,
            "completed": result.finished and not result.refused}
