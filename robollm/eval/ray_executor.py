"""`--ray [ADDRESS]`: episodes on Ray actors, one actor a worker, each holding its planner.

Ray is an optional extra, imported only here and only when asked for. Without ADDRESS a
local Ray instance starts with as many CPUs as `--workers` (or the machine has); with it,
the evaluation joins an existing cluster, and every machine there needs robollm installed
the same way, with the same launch files, adapters and model packages at the same paths.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from robollm.errors import UserError
from robollm.eval.executors import WorkerLost, _Managed, threads_per_worker
from robollm.eval.jobs import Job
from robollm.eval.results import EpisodeResult
from robollm.eval.runner import EpisodeRunner, StartFailure
from robollm.eval.schedule import JobQueue

INSTALL_HINT = 'pip install -e ".[ray]"'
# Set before Ray starts: no usage report over the network, and no dashboard, so that an
# offline machine starts quietly.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_IMPORT_WARNING": "1"}


def require_ray() -> None:
    """A one-line error when Ray is not installed, checked without importing it."""
    if importlib.util.find_spec("ray") is None:
        raise UserError(f"--ray needs Ray, which is not installed; install it with {INSTALL_HINT}")


def import_ray():
    require_ray()
    for key, value in RAY_ENV.items():
        os.environ.setdefault(key, value)
    import ray

    return ray


class _RayWorker:
    """The actor body. Loading is a method, not the constructor, so a load error comes back
    as a value the driver raises once, instead of a dead actor and a remote traceback."""

    def __init__(self, config_path: str | None, threads: int, cwd: str,
                 runner: Callable[..., Any] = EpisodeRunner) -> None:
        if os.path.isdir(cwd):  # relative suite and scene paths resolve as on the driver
            os.chdir(cwd)
        self.runner = runner(config_path, threads)

    def load(self) -> StartFailure | None:
        return self.runner.try_load()

    def run(self, job: Job) -> EpisodeResult:  # or another runner's result
        return self.runner.run(job)


class RayExecutor(_Managed):
    def __init__(self, config_path: str | None, address: str | None = None,
                 workers: int | None = None, runner: Callable[..., Any] = EpisodeRunner) -> None:
        self.config_path = os.path.abspath(config_path) if config_path else None
        self.runner_class = runner
        self.address, self.workers = address, workers or 0
        self._ray = None
        self._actors: list = []

    def start(self) -> None:
        ray = self._ray = import_ray()
        quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
        if self.address is None:
            cpus = self.workers or os.cpu_count() or 1
            ray.init(num_cpus=cpus, include_dashboard=False, **quiet)
            self.workers = self.workers or cpus
        else:
            try:
                ray.init(address=self.address, **quiet)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise UserError(f"--ray {self.address}: cannot connect to a Ray cluster there: {e}") from None
            self.workers = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        try:
            actor = ray.remote(num_cpus=1, max_restarts=0)(_RayWorker)
            threads = 1 if self.address else threads_per_worker(self.workers)
            self._actors = [actor.remote(self.config_path, threads, os.getcwd(), self.runner_class)
                            for _ in range(self.workers)]
            refs = [a.load.remote() for a in self._actors]
            while refs:
                done, refs = ray.wait(refs, num_returns=1)
                failure = self._get(done[0])
                if isinstance(failure, StartFailure):
                    raise failure.exception()
        except BaseException:
            self.close()
            raise

    def _get(self, ref):
        try:
            return self._ray.get(ref)
        except self._ray.exceptions.RayActorError as e:
            raise WorkerLost(f"a Ray evaluation actor died: {str(e).splitlines()[0]}") from None

    def map(self, jobs: Iterable[Job]) -> Iterator[EpisodeResult]:
        ray, todo, running = self._ray, JobQueue(jobs), {}

        def feed(actor, after: Job | None = None) -> None:
            job = todo.take(after)
            if job is not None:
                running[actor.run.remote(job)] = (actor, job)

        for actor in self._actors:
            feed(actor)
        while running:
            done, _ = ray.wait(list(running), num_returns=1)
            actor, job = running.pop(done[0])
            result = self._get(done[0])
            feed(actor, job)
            yield result

    def close(self) -> None:
        if self._ray is None:
            return
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        self._ray.shutdown()
        self._ray = None
