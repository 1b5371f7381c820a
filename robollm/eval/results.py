"""The typed result of one episode run, as stored one JSON object a line in episodes.jsonl."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from robollm.eval.jobs import JobKey

ERROR_PREFIX = "error: "
TIMING_FIELDS = ("lm_seconds_per_step", "wall_seconds")


@dataclass
class EpisodeResult:
    id: str
    family: str
    seed: int
    executor: str
    instruction: str
    success: bool
    goal_reached: bool
    disturbed: list[str] = field(default_factory=list)
    steps: int = 0
    plan: list[str] = field(default_factory=list)
    stop_reason: str = ""
    lm_seconds_per_step: float = 0.0
    failed_steps: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    sensing_steps: int = 0  # knocks, touches and weighings (robollm.perception.interactive.SENSING_SKILLS)

    @property
    def key(self) -> JobKey:
        return (self.id, self.seed, self.executor)

    @property
    def errored(self) -> bool:
        return self.stop_reason.startswith(ERROR_PREFIX)

    @property
    def error(self) -> str:
        return self.stop_reason[len(ERROR_PREFIX):] if self.errored else ""

    @property
    def error_kind(self) -> str:
        """The exception's type name: errors are reported once per kind while a run goes on."""
        return self.error.split(":", 1)[0] if self.errored else ""

    def outcome(self) -> dict[str, Any]:
        """Everything except timing: what must be equal whichever executor ran the episode."""
        return {k: v for k, v in self.to_dict().items() if k not in TIMING_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpisodeResult:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_json(cls, line: str) -> EpisodeResult:
        return cls.from_dict(json.loads(line))
