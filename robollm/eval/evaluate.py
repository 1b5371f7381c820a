"""`robollm eval` as a library call: load and check the suites, plan the jobs, run them on
an executor, keep the results in the `--out` folder as they arrive, and summarise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from robollm.errors import UserError
from robollm.eval.executors import Executor, InProcessExecutor, ProcessExecutor
from robollm.eval.jobs import EXECUTORS, Job, make_jobs
from robollm.eval.output import OutputClash, ResultsFolder, file_digest
from robollm.eval.results import EpisodeResult
from robollm.eval.runner import EpisodeRunner
from robollm.eval.suites import Suite, load_suites
from robollm.eval.summary import error_line, summarise

LOCAL_RAY = "local"  # `--ray` without an address


@dataclass
class Evaluation:
    summary: dict[str, Any]
    results: list[EpisodeResult]
    total_runs: int
    out: ResultsFolder | None = None
    interrupted: bool = False
    problems: list[str] = field(default_factory=list)  # e.g. a summary file that appeared

    @property
    def errored(self) -> list[EpisodeResult]:
        return [r for r in self.results if r.errored]


def make_executor(config_path: str | None, workers: int | None = None,
                  ray: str | None = None, overrides: Mapping[str, str] | None = None,
                  runner: Callable[..., Any] = EpisodeRunner) -> Executor:
    """In-process for one worker, local processes for more, Ray when `ray` is given
    (`LOCAL_RAY` starts a local instance, anything else is a cluster address).

    `runner(config_path, threads)` makes each worker's runner; `overrides` (`perception`,
    `affordance`: names from the command line) replace the launch file's in every episode
    runner."""
    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    if overrides:
        runner = partial(runner, overrides=dict(overrides))
    if ray is not None:
        from robollm.eval.ray_executor import RayExecutor, require_ray

        require_ray()  # before any folder is made or model loaded
        return RayExecutor(config_path, None if ray == LOCAL_RAY else ray, workers, runner=runner)
    if (workers or 1) == 1:
        return InProcessExecutor(config_path, runner=runner)
    return ProcessExecutor(config_path, workers, runner=runner)


def run_header(suites: list[Suite], config_path: str | None, executors: list[str],
               limit: int | None, overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What an `--out` folder was written for; `--resume` must match it."""
    return {"suites": [{"suite": s.suite, "source": str(Path(s.source).resolve()),
                        "sha256": file_digest(s.source)} for s in suites],
            "config": str(Path(config_path).resolve()) if config_path else None,
            "config_sha256": file_digest(config_path),
            "executors": executors, "limit": limit,
            **dict(overrides or {})}


def load_jobs(suite: str, executors: list[str] | None = None,
              limit: int | None = None) -> tuple[list[Suite], list[Job]]:
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be at least 1 (episodes per suite), got {limit}")
    suites = load_suites(suite)
    return suites, make_jobs(suites, executors or list(EXECUTORS), limit)


def evaluate(suite: str, *, executors: list[str] | None = None, workers: int | None = None,
             ray: str | None = None, out: str | None = None, resume: bool = False,
             config: str | None = None, limit: int | None = None,
             progress: bool = True, overrides: Mapping[str, str] | None = None) -> Evaluation:
    from tqdm import tqdm

    from robollm.config import load_config

    if resume and out is None:
        raise UserError("--resume needs --out, the folder of the evaluation to continue")
    executors = list(executors or EXECUTORS)
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    load_config(config, **overrides)  # a bad launch file fails before any worker starts
    suites, jobs = load_jobs(suite, executors, limit)
    executor = make_executor(config, workers, ray, overrides)
    folder = None
    if out is not None:
        header = run_header(suites, config, executors, limit, overrides)
        folder = ResultsFolder.resume(out, header) if resume else ResultsFolder.create(out, header)
    results = list(folder.previous) if folder else []
    done = {r.key for r in results}
    todo = [j for j in jobs if j.key not in done]
    interrupted, seen_kinds = False, {r.error_kind for r in results if r.errored}
    try:
        with executor:
            executor.start()
            bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc="episodes", unit="run",
                       disable=not progress)
            with bar:
                for result in executor.map(todo):
                    results.append(result)
                    if folder:
                        folder.append(result)
                    if result.errored and result.error_kind not in seen_kinds:
                        seen_kinds.add(result.error_kind)
                        tqdm.write(error_line(result), file=sys.stderr)
                    bar.update()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if folder:
            folder.close()
    summary = summarise(results)
    summary["suites"] = [s.suite for s in suites]
    summary["runs"] = {"finished": len(results), "total": len(jobs),
                       "errored": sum(r.errored for r in results)}
    summary["interrupted"] = interrupted
    evaluation = Evaluation(summary, results, len(jobs), folder, interrupted)
    if folder:
        try:
            folder.write_summary(summary)
        except OutputClash as e:
            evaluation.problems.append(str(e))
    return evaluation
