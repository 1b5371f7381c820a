"""Where episodes run: in this process, in local worker processes, or on Ray (`ray_executor`).

All executors share one small interface: `start()` loads a runner in every worker and
raises the first load error once (a worker that cannot load is never restarted), `map(jobs)`
yields results as they finish, and `close()` stops the workers. Local workers are plain
processes fed one job at a time over their own queue, not a `multiprocessing.Pool`: a pool
restarts a worker whose initializer raised, forever. The runner is `EpisodeRunner` (a planner
running episodes) unless another class with the same shape is given (`runner=`): affordance
data collection runs its own jobs on the same workers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from robollm.eval.jobs import Job
from robollm.eval.results import EpisodeResult
from robollm.eval.runner import EpisodeRunner, StartFailure
from robollm.eval.schedule import JobQueue


class WorkerLost(RuntimeError):
    """A worker process or actor went away in the middle of an evaluation."""


class Executor(Protocol):
    workers: int

    def start(self) -> None: ...

    def map(self, jobs: Iterable[Job]) -> Iterator[EpisodeResult]: ...

    def close(self) -> None: ...


class Runner(Protocol):
    """What a worker holds: built from (config_path, threads), loaded once, then runs jobs."""

    def load(self) -> None: ...

    def try_load(self) -> StartFailure | None: ...

    def run(self, job: Any) -> Any: ...


class _Managed:
    """Context-manager support: `with executor:` closes it however the block ends."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InProcessExecutor(_Managed):
    """One planner in this process (`--workers 1`): no start-up cost beyond the model's."""

    def __init__(self, config_path: str | None, threads: int | None = None,
                 runner: Callable[..., Any] = EpisodeRunner) -> None:
        self.workers = 1
        self.runner = runner(config_path, threads)

    def start(self) -> None:
        self.runner.load()

    def map(self, jobs: Iterable[Job]) -> Iterator[EpisodeResult]:
        for job in jobs:
            yield self.runner.run(job)

    def close(self) -> None:
        pass


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


def _worker_main(index: int, config_path: str | None, threads: int, jobs: mp.Queue,
                 results: mp.Queue, runner_class: Callable[..., Any] = EpisodeRunner) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    runner = runner_class(config_path, threads)
    failure = runner.try_load()
    results.put(("ready", index, failure))
    if failure is not None:
        return
    parent = os.getppid()
    while True:
        try:
            job = jobs.get(timeout=5.0)
        except queue.Empty:
            if os.getppid() != parent:  # the evaluation was killed: do not linger
                return
            continue
        if job is None:
            return
        results.put(("result", index, runner.run(job)))


class ProcessExecutor(_Managed):
    """`--workers N`: N spawned processes, each loading its own planner once."""

    def __init__(self, config_path: str | None, workers: int, threads: int | None = None,
                 runner: Callable[..., Any] = EpisodeRunner) -> None:
        self.config_path, self.workers, self.runner_class = config_path, workers, runner
        self.threads = threads or threads_per_worker(workers)
        self._procs: list = []
        self._inboxes: list = []
        self._busy: dict[int, Job] = {}

    def start(self) -> None:
        ctx = mp.get_context("spawn")
        self._results = ctx.Queue()
        for i in range(self.workers):
            inbox = ctx.Queue()
            proc = ctx.Process(target=_worker_main, name=f"robollm-eval-{i}", daemon=True,
                               args=(i, self.config_path, self.threads, inbox, self._results,
                                     self.runner_class))
            proc.start()
            self._procs.append(proc)
            self._inboxes.append(inbox)
        waiting = set(range(self.workers))
        try:
            while waiting:
                _, index, failure = self._get(waiting)
                if isinstance(failure, StartFailure):
                    raise failure.exception()
                waiting.discard(index)
        except BaseException:
            self.close(now=True)
            raise

    def _get(self, watched: Iterable[int]) -> tuple:
        while True:
            try:
                return self._results.get(timeout=1.0)
            except queue.Empty:
                pass
            dead = [i for i in watched if self._procs[i].exitcode is not None]
            if dead:
                try:  # a message sent just before the exit wins over the exit
                    return self._results.get(timeout=1.0)
                except queue.Empty:
                    i = dead[0]
                    job = self._busy.get(i)
                    doing = f" while running {job.label}" if job else ""
                    raise WorkerLost(f"evaluation worker {i} exited with code "
                                     f"{self._procs[i].exitcode}{doing}") from None

    def map(self, jobs: Iterable[Job]) -> Iterator[EpisodeResult]:
        todo = JobQueue(jobs)

        def feed(i: int, after: Job | None = None) -> None:
            job = todo.take(after)
            if job is not None:
                self._busy[i] = job
                self._inboxes[i].put(job)

        for i in range(self.workers):
            feed(i)
        while self._busy:
            _, index, result = self._get(list(self._busy))
            feed(index, self._busy.pop(index))
            yield result

    def close(self, now: bool = False) -> None:
        if not now and not self._busy:
            for inbox, proc in zip(self._inboxes, self._procs, strict=True):
                if proc.exitcode is None:
                    inbox.put(None)
            for proc in self._procs:
                proc.join(timeout=10)
        for proc in self._procs:
            if proc.exitcode is None:
                proc.terminate()
                proc.join(timeout=5)
        self._procs, self._inboxes, self._busy = [], [], {}
