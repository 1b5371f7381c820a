"""The `--out` folder: run.json (what was evaluated), episodes.jsonl, summary.json.

Results are appended and flushed as they arrive, so an evaluation that is interrupted or
killed keeps every finished episode, and `--resume` continues it. Every file is created
in exclusive mode: a file that appears in the folder while the evaluation runs is left
alone and reported, never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from robollm.errors import UserError
from robollm.eval.results import EpisodeResult

RUN, EPISODES, SUMMARY = "run.json", "episodes.jsonl", "summary.json"


class OutputClash(Exception):
    """A file this evaluation means to create appeared in the folder while it ran."""


def file_digest(path: str | Path | None) -> str | None:
    if path is None:
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _folder(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {path!r} is a file, not a folder; give a folder for "
                        f"{EPISODES} and {SUMMARY}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out {path!r}: cannot create the folder: {e.strerror or e}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"--out {path!r}: the folder is not writable")
    return out


class ResultsFolder:
    def __init__(self, path: Path, episodes_file, previous: list[EpisodeResult]) -> None:
        self.path, self._episodes, self.previous = path, episodes_file, previous

    @classmethod
    def create(cls, path: str, header: dict[str, Any]) -> ResultsFolder:
        out = _folder(path)
        for name in (RUN, EPISODES, SUMMARY):
            if (out / name).exists():
                raise UserError(f"--out {path!r} already holds {name}; choose a new folder so no "
                                "results are overwritten, or add --resume to continue that evaluation")
        try:
            with open(out / RUN, "x") as f:
                f.write(json.dumps(header, indent=2) + "\n")
            episodes = open(out / EPISODES, "x")  # noqa: SIM115 - held open for the whole run
        except FileExistsError as e:
            raise UserError(f"--out {path!r}: {Path(e.filename).name} appeared while starting; "
                            "choose a new folder") from None
        except OSError as e:
            raise UserError(f"--out {path!r}: cannot write there: {e.strerror or e}") from None
        return cls(out, episodes, [])

    @classmethod
    def resume(cls, path: str, header: dict[str, Any]) -> ResultsFolder:
        out = Path(path)
        if not (out / RUN).is_file():
            raise UserError(f"--resume: {path!r} holds no {RUN}, so there is no evaluation of this "
                            "kind to continue; run without --resume")
        stored = json.loads((out / RUN).read_text())
        differ = [k for k in header if stored.get(k) != header[k]]
        if differ:
            raise UserError(f"--resume: {path!r} holds an evaluation with another "
                            f"{', '.join(differ)}; resume it with the same suite, options and "
                            "launch file, or choose a new folder")
        summary = out / SUMMARY
        if summary.exists():
            if not json.loads(summary.read_text() or "{}").get("interrupted"):
                raise UserError(f"--resume: the evaluation in {path!r} is already complete ({summary})")
            summary.unlink()  # ours, from the interrupted run; rewritten at the end
        episodes = out / EPISODES
        data = episodes.read_bytes() if episodes.exists() else b""
        if data and not data.endswith(b"\n"):  # a line cut off by a kill: run it again
            data = data[: data.rfind(b"\n") + 1]
            episodes.write_bytes(data)
        previous = [EpisodeResult.from_json(line) for line in data.decode().splitlines() if line.strip()]
        return cls(out, open(episodes, "a"), previous)  # noqa: SIM115

    @property
    def episodes_path(self) -> Path:
        return self.path / EPISODES

    @property
    def summary_path(self) -> Path:
        return self.path / SUMMARY

    def append(self, result: EpisodeResult) -> None:
        self._episodes.write(result.to_json() + "\n")
        self._episodes.flush()

    def write_summary(self, summary: dict[str, Any]) -> None:
        try:
            with open(self.summary_path, "x") as f:
                f.write(json.dumps(summary, indent=2) + "\n")
        except FileExistsError:
            raise OutputClash(f"{self.summary_path} appeared while the evaluation ran and was left "
                              f"as it is; the summary was not saved ({self.episodes_path} holds "
                              "every result)") from None

    def close(self) -> None:
        self._episodes.close()
