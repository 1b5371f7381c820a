"""The discovery loop: propose, check, train, verify, add; one report per proposal.

Proposals that pass their checks train one after another (each with `n_envs` local
processes), or side by side on Ray (`ray=True`, one process each), within a time
budget. A proposal's folder under `out` keeps its checkpoint, so a run that was
stopped resumes each proposal where it was; one already added is not trained again.
The low-level environment is reached through Gymnasium's registry by entry point,
since the core never imports the simulator.
"""

from __future__ import annotations

import json
import multiprocessing
import platform
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from robollm.config import load_config
from robollm.errors import UserError
from robollm.registry import load_entry_point
from robollm.session import Session, skill_registry
from robollm.training.discovery.features import OBS_SIZE
from robollm.training.discovery.ppo import (
    PPOOptions,
    TrainResult,
    save_policy,
    train,
    trainer_label,
)
from robollm.training.discovery.proposals import Proposal, propose_and_check
from robollm.training.discovery.verify import (
    MANIFEST,
    TARGET_SUCCESS,
    make_skill,
    verify,
    write_skill,
)
from robollm.world.effects import derive_effect
from robollm.world.predicates import parse
from robollm.world.scene import load_scene

ENV_ENTRY = "robollm.sim.discovery_env:DiscoveryEnv"
PROBE_SEEDS = range(5)


@dataclass
class DiscoverOptions:
    out: Path
    budget_minutes: float = 60.0
    steps: int = 40_000  # most training steps per proposal
    n_envs: int = 2
    verify_scenes: int = 50
    proposer: str = "auto"  # auto (the launch file's model if it can generate), templates
    scene: str = "discovery"
    config: str | None = None
    seed: int = 0
    ray: bool = False
    command: str = ""
    only: list[str] = field(default_factory=list)  # proposal names to train (default: all that pass)


def make_env(task: dict, scene: str, config: str | None, reward_code: str | None = None):
    """Build the low-level environment in whatever process calls this (a vector worker)."""
    return load_entry_point(ENV_ENTRY)(task, scene=scene, config=config, reward_code=reward_code)


class _EnvFactory:
    """A picklable zero-argument factory for vector-env worker processes."""

    def __init__(self, task: dict, scene: str, config: str | None, reward_code: str | None = None) -> None:
        self.task, self.scene, self.config, self.reward_code = task, scene, config, reward_code

    def __call__(self):
        if multiprocessing.parent_process() is not None:
            # A worker leaves Ctrl-C to the trainer, which closes it (no trace from each worker).
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        return make_env(self.task, self.scene, self.config, self.reward_code)


def model_generator(config_path: str | None, log: Callable[[str], None]) -> Callable[[str], str] | None:
    """The launch file's language model as a text generator, or None (with the reason logged)."""
    from robollm.llm.registry import llm_registry

    choice = load_config(config_path).planner.llm
    try:
        registry = llm_registry()
        model = (registry.make(choice.name, options=choice.options) if choice.options is not None
                 else registry.make(choice.name))
    except (UserError, OSError, ImportError) as e:
        log(f"the language model could not be loaded ({e})")
        return None
    return lambda prompt: model.generate(prompt, max_tokens=160)


def run_proposal(p: Proposal, o: DiscoverOptions, deadline: float, log: Callable[[str], None]) -> Proposal:
    """Train, verify and (if it passes) add one proposal; the proposal records how far it got."""
    folder = o.out / "runs" / p.name
    started = time.perf_counter()
    task = asdict(p.task())
    stamp = folder / "task.json"
    if stamp.exists() and json.loads(stamp.read_text()) != task:
        (folder / "checkpoint.pt").unlink(missing_ok=True)  # another task under this name: start afresh
        log(f"[{p.name}] the task changed since the last run; training starts afresh")
    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(task) + "\n")
    ppo = PPOOptions(total_steps=o.steps, n_envs=o.n_envs, seed=o.seed)
    log(f"[{p.name}] training: {p.success}")
    policy, result = train(_EnvFactory(task, o.scene, o.config, p.reward_code), ppo, folder, log=lambda s: log(f"[{p.name}] {s}"),
                           deadline=deadline)
    p.figures.update(steps=result.steps, stop_reason=result.stop_reason,
                     train_success=round(result.success_rate, 3), train_seconds=round(result.seconds, 1))
    save_policy(policy, folder / "policy.safetensors")
    if result.stop_reason.startswith("diverged"):
        p.stage, p.reason = "failed", result.stop_reason
        return p
    p.stage = "trained"
    manifest = _manifest(p, o, result)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    skill = make_skill(folder / MANIFEST)
    log(f"[{p.name}] verifying on {o.verify_scenes} held-out scenes")
    check = verify(skill, p.args, load_config(o.config), load_scene(o.scene), o.verify_scenes,
                   log=lambda s: log(f"[{p.name}] {s}"))
    p.figures.update(verified=check.record(), seconds=round(time.perf_counter() - started, 1))
    manifest["verified"] = check.record()
    if check.success_rate < TARGET_SUCCESS or check.effect_matches < check.successes:
        p.stage = "failed"
        p.reason = (f"verified success {check.success_rate:.2f} < {TARGET_SUCCESS}" if check.success_rate < TARGET_SUCCESS
                    else f"effect matched physics in {check.effect_matches} of {check.successes} successes")
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        return p
    p.stage = "verified"
    record = {"history": result.history, "proposal": p.record()}
    write_skill(o.out / "library", manifest, folder / "policy.safetensors", record, overwrite=True)
    p.stage = "added"
    return p


def _manifest(p: Proposal, o: DiscoverOptions, result: TrainResult) -> dict:
    goal = parse(p.success)
    effect = derive_effect(goal)
    return {
        "name": p.name, "version": 0, "template": p.template, "params": p.params,
        "success_template": p.success_template, "trained_with": p.args,
        "effect": {"adds": [str(a) for a in effect.adds], "deletes": [str(a) for a in effect.deletes]},
        "push_height": p.push_height, "max_steps": p.max_steps, "control_hz": 10.0, "obs_size": OBS_SIZE,
        "verified": {"success_rate": 0.0},
        "made": {"proposal_source": p.source, "scene": o.scene, "steps": result.steps,
                 "stop_reason": result.stop_reason, "train_seconds": round(result.seconds, 1),
                 "train_success": round(result.success_rate, 3),
                 "ppo": asdict(PPOOptions(total_steps=o.steps, n_envs=o.n_envs, seed=o.seed)),
                 "trainer": trainer_label(),
                 "machine": f"{platform.machine()} {platform.system()} python {platform.python_version()}",
                 "command": o.command, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
    }


def discover(o: DiscoverOptions, log: Callable[[str], None] = print) -> dict:
    started = time.time()
    deadline = started + o.budget_minutes * 60
    config, scene = load_config(o.config), load_scene(o.scene)
    library = skill_registry(config)
    probes = []
    for seed in PROBE_SEEDS:
        with Session(config, scene, seed) as session:
            probes.append(session.observe())
            arms = session.robot.arms
    generate = model_generator(o.config, log) if o.proposer == "auto" else None
    proposals, source, refused = propose_and_check(scene, probes, library, arms, generate, log)
    for p in proposals:
        log(f"proposal {p.name}: {p.success} -> {p.stage}{': ' + p.reason if p.reason else ''}")
    for p in proposals:
        if p.stage == "proposed" and o.only and p.name not in o.only:
            p.reason = "not chosen (--only)"
    todo = [p for p in proposals if p.stage == "proposed" and (not o.only or p.name in o.only)]
    for p in todo:
        if (o.out / "library" / p.name / MANIFEST).exists():
            p.stage, p.reason = "added", "added by an earlier run"
    todo = [p for p in todo if p.stage == "proposed"]
    if o.ray:
        _run_on_ray(todo, o, deadline, log)
    else:
        for p in todo:
            if time.time() > deadline:
                p.reason = "time budget used before it could train"
                continue
            run_proposal(p, o, deadline, log)
    report = {"proposals_from": source, "model_lines_refused": refused,
              "minutes": round((time.time() - started) / 60, 1), "budget_minutes": o.budget_minutes,
              "proposals": [p.record() for p in proposals],
              "added": [p.name for p in proposals if p.stage == "added"]}
    (o.out / "discovery.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def _run_on_ray(todo: list[Proposal], o: DiscoverOptions, deadline: float, log: Callable[[str], None]) -> None:
    """Independent proposals side by side, one Ray task each with one environment process."""
    try:
        import ray
    except ImportError:
        raise UserError("--ray needs the 'ray' extra: pip install -e '.[ray]'") from None
    ray.init(num_cpus=max(1, len(todo)), include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(_ray_task)
        one = DiscoverOptions(**{**asdict(o), "n_envs": 1})
        done = ray.get([remote.remote(p, one, deadline) for p in todo])
    finally:
        ray.shutdown()
    for p, result in zip(todo, done, strict=True):
        p.__dict__.update(result.__dict__)
        log(f"[{p.name}] {p.stage} {p.reason}")


def _ray_task(p: Proposal, o: DiscoverOptions, deadline: float) -> Proposal:
    return run_proposal(p, o, deadline, lambda _: None)
