"""Run one episode job with a planner loaded once per worker.

Every executor (in-process, local processes, Ray actors) holds one `EpisodeRunner`, so an
episode gives the same result wherever it runs. Loading is a separate step: a launch file
that loads but whose planner does not (a missing adapter, say) must stop the evaluation
once, with the error the user would see in-process, and never be retried per episode.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass

from robollm.errors import UserError
from robollm.eval.jobs import Job
from robollm.eval.results import ERROR_PREFIX, EpisodeResult


@dataclass(frozen=True)
class StartFailure:
    """Why a worker could not load its planner, in a form that crosses process boundaries."""

    message: str
    user_error: bool
    details: str = ""

    @classmethod
    def from_exception(cls, e: BaseException) -> StartFailure:
        if isinstance(e, UserError):
            return cls(str(e), True)
        return cls(f"{type(e).__name__}: {e}", False, traceback.format_exc())

    def exception(self) -> Exception:
        if self.user_error:
            return UserError(self.message)
        return WorkerStartError(f"a worker failed to load the planner: {self.message}\n{self.details}")


class WorkerStartError(RuntimeError):
    """A bug (not a user mistake) while a worker loaded its planner."""


class EpisodeRunner:
    def __init__(self, config_path: str | None, threads: int | None = None,
                 overrides: dict[str, str] | None = None) -> None:
        self.config_path, self.threads, self.overrides = config_path, threads, overrides or {}
        self.config = self.planner = None

    def load(self) -> None:
        if self.planner is not None:
            return
        from robollm.config import load_config
        from robollm.planner.saycan import SayCanPlanner

        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        self.config = load_config(self.config_path, **self.overrides)
        self.planner = SayCanPlanner.from_config(self.config)

    def try_load(self) -> StartFailure | None:
        try:
            self.load()
        except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it once
            return StartFailure.from_exception(e)
        return None

    def run(self, job: Job) -> EpisodeResult:
        from robollm.perception.interactive import SENSING_SKILLS
        from robollm.session import Session

        self.load()
        ep, started = job.episode, time.perf_counter()
        base = {"id": ep.id, "family": ep.family, "seed": job.seed, "executor": job.executor,
                "instruction": ep.instruction}
        try:
            with Session(self.config, ep.scene_spec(job.source), job.seed, executor=job.executor) as session:
                goal = session.parse_goal(ep.success)
                result = self.planner.run(session, ep.instruction)
                reached = session.succeeded(goal)
                disturbed = session.disturbed(goal)
            return EpisodeResult(
                **base, success=reached and not disturbed, goal_reached=reached, disturbed=disturbed,
                steps=len(result.steps), plan=[s.chosen.text for s in result.steps],
                sensing_steps=sum(s.chosen.call.skill in SENSING_SKILLS for s in result.steps),
                stop_reason=result.stop_reason, lm_seconds_per_step=result.lm_seconds_per_step,
                failed_steps=[s.outcome.reason for s in result.steps if s.outcome and not s.outcome.success],
                wall_seconds=time.perf_counter() - started)
        except Exception as e:  # noqa: BLE001 - one broken episode must not end the evaluation
            return EpisodeResult(**base, success=False, goal_reached=False,
                                 stop_reason=f"{ERROR_PREFIX}{type(e).__name__}: {e}",
                                 wall_seconds=time.perf_counter() - started)
