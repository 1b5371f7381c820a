"""Which job a free worker takes next.

The two runs of one episode and seed (symbolic, then physics) ask the language model the
same questions for as long as their plans agree, and a worker's model keeps its recent
answers. So a worker that finishes one of them takes the other next, and a worker that
starts afresh takes an episode nobody has started, instead of its twin on another worker.
Only the order of work changes: each job's result does not depend on where it runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class Job(Protocol):
    """Any job an executor runs: an episode (`robollm.eval.jobs.Job`) or another kind."""

    @property
    def twin_key(self) -> Any: ...

    @property
    def label(self) -> str: ...


def _twins(job: Job) -> Any:
    return job.twin_key


class JobQueue:
    def __init__(self, jobs: Iterable[Job]) -> None:
        self.pending = list(jobs)
        self._started: set = set()

    def take(self, after: Job | None = None) -> Job | None:
        """The next job for a worker that has just run `after` (None: a fresh worker)."""
        if not self.pending:
            return None
        index = 0
        if after is not None:
            index = next((i for i, j in enumerate(self.pending) if _twins(j) == _twins(after)), -1)
        if after is None or index < 0:
            index = next((i for i, j in enumerate(self.pending) if _twins(j) not in self._started), 0)
        job = self.pending.pop(index)
        self._started.add(_twins(job))
        return job
