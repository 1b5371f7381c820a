"""Episode jobs: one (episode, seed, executor) run, small enough to send to any worker."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from robollm.eval.suites import Episode, Suite

EXECUTORS = ("symbolic", "physics")

JobKey = tuple[str, int, str]


@dataclass(frozen=True)
class Job:
    episode: Episode
    source: str  # the suite file, named in scene errors and used to read relative scene files
    seed: int
    executor: str

    @property
    def twin_key(self) -> tuple[str, str, int]:
        """Jobs with one twin key ask the language model the same questions (`schedule`)."""
        return (self.source, self.episode.id, self.seed)

    @property
    def label(self) -> str:
        return f"episode {self.episode.id} (seed {self.seed})"

    @property
    def key(self) -> JobKey:
        """What identifies a run across an interrupted evaluation and its resumption."""
        return (self.episode.id, self.seed, self.executor)


def make_jobs(suites: Iterable[Suite], executors: Iterable[str] = EXECUTORS,
              limit: int | None = None) -> list[Job]:
    """Every episode of every suite (the first `limit` of each), per seed and executor."""
    executors = list(executors)
    return [Job(ep, suite.source, seed, executor)
            for suite in suites
            for ep in suite.episodes[:limit]
            for seed in ep.seeds
            for executor in executors]
