"""`robollm collect affordance` as a library call: scenes as jobs on the evaluation executors.

One job is one scene seed and its random walk of calls. Jobs run wherever the
evaluation's episodes run (in this process, local worker processes or Ray actors); a
worker holds a `RolloutRunner` instead of a planner. Results arrive in any order and
are kept in `scenes.jsonl` as they come, so an interrupted collection keeps what it
finished; the split files are written sorted at the end, so the same seed range gives
the same bytes however many workers ran it.
"""

from __future__ import annotations

import json
import platform
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robollm.affordance.records import LIBRARY_VERSION, META_FILE, write_split
from robollm.errors import UserError
from robollm.eval.runner import StartFailure
from robollm.registry import load_entry_point

# The simulator's scene generator, named by entry point: the core never imports it.
ROLLOUT = "robollm.sim.affordance_rollouts:rollout"
PARTIAL_FILE = "scenes.jsonl"


@dataclass(frozen=True)
class RolloutJob:
    scene_seed: int
    calls: int

    @property
    def twin_key(self) -> tuple[str, int]:
        return ("affordance", self.scene_seed)

    @property
    def label(self) -> str:
        return f"affordance scene {self.scene_seed}"


@dataclass
class RolloutResult:
    scene_seed: int
    records: list[dict[str, Any]]
    error: str = ""


class RolloutRunner:
    """A worker's runner for collection jobs: the launch file, loaded once."""

    def __init__(self, config_path: str | None, threads: int | None = None) -> None:
        self.config_path, self.threads, self.config = config_path, threads, None

    def load(self) -> None:
        if self.config is None:
            from robollm.config import load_config

            self.config = load_config(self.config_path)
            self.rollout = load_entry_point(ROLLOUT)

    def try_load(self) -> StartFailure | None:
        try:
            self.load()
        except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it once
            return StartFailure.from_exception(e)
        return None

    def run(self, job: RolloutJob) -> RolloutResult:
        self.load()
        try:
            return RolloutResult(job.scene_seed, self.rollout(self.config, job.scene_seed, job.calls))
        except Exception as e:  # noqa: BLE001 - one broken scene must not end the collection
            return RolloutResult(job.scene_seed, [], f"{type(e).__name__}: {e}\n{traceback.format_exc()}")


def _prepare(out: Path, force: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not force:
            raise UserError(f"--out {str(out)!r} already exists and is not empty; choose a new folder "
                            "or pass --force (nothing was overwritten)")
        if not out.is_dir():
            raise UserError(f"--out {str(out)!r} is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out {str(out)!r}: cannot create the folder ({e.strerror})") from None
    (out / PARTIAL_FILE).write_text("")


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM (`kill`, a cluster scheduler's stop) ends the collection as Ctrl-C does:
    what was finished is written to the split files."""
    def stop(signum, frame):  # noqa: ARG001 - the signal handler's signature
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def collect(out: str, episodes: int, *, seed: int = 0, calls: int = 8, workers: int | None = None,
            ray: str | None = None, config: str | None = None, force: bool = False,
            progress: bool = True, command: str = "") -> dict[str, Any]:
    """Run `episodes` scenes (seeds seed .. seed+episodes-1) and write the data folder."""
    from tqdm import tqdm

    from robollm.config import load_config
    from robollm.eval.evaluate import make_executor

    if episodes < 1 or calls < 1:
        raise UserError(f"--episodes and --calls must be at least 1, got {episodes} and {calls}")
    load_config(config)
    executor = make_executor(config, workers, ray, runner=RolloutRunner)
    folder = Path(out)
    _prepare(folder, force)
    jobs = [RolloutJob(seed + i, calls) for i in range(episodes)]
    records: list[dict[str, Any]] = []
    errors: list[str] = []
    started, interrupted = time.time(), False
    try:
        with _stop_on_sigterm(), executor, open(folder / PARTIAL_FILE, "a") as partial:
            executor.start()
            for result in tqdm(executor.map(jobs), total=len(jobs), desc="scenes", unit="scene",
                               disable=not progress):
                if result.error:
                    errors.append(f"scene {result.scene_seed}: {result.error}")
                    print(f"robollm: scene {result.scene_seed} failed: {result.error.splitlines()[0]}",
                          file=sys.stderr)
                for r in result.records:
                    partial.write(json.dumps(r, sort_keys=True) + "\n")
                partial.flush()
                records.extend(result.records)
    except KeyboardInterrupt:
        interrupted = True
    train, heldout = write_split(folder, records)
    meta = {"version": LIBRARY_VERSION, "seed": seed, "episodes": episodes, "calls_per_scene": calls,
            "scenes_done": len({r["scene_seed"] for r in records}), "records": len(records),
            "train_records": train, "heldout_records": heldout,
            "successes": sum(r["success"] for r in records), "errors": errors,
            "interrupted": interrupted, "seconds": round(time.time() - started, 1),
            "workers": executor.workers, "machine": f"{platform.node()} {platform.machine()} "
            f"{platform.processor() or ''}".strip(), "command": command}
    (folder / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    return meta
