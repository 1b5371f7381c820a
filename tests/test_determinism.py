"""`robollm run` with the default language model is reproducible, and quiet.

Two processes running the same instruction and seed must print the same JSON, log-probs
included, apart from timings; and nothing on stderr may be a library warning (the
transformers cache-argument deprecation used to print on every run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "robollm", "run", "put the red block in the green bowl",
           "--seed", "3", "--json"]


def untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if "seconds" not in k and "time" not in k}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


def run() -> tuple[bytes, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": str(REPO)}
    result = subprocess.run(COMMAND, env=env, capture_output=True, timeout=600, cwd=REPO)
    assert result.returncode == 0, result.stderr.decode()
    data = untimed(json.loads(result.stdout))
    return json.dumps(data, sort_keys=True).encode(), result.stderr.decode()


def test_two_runs_print_identical_json_and_no_warnings() -> None:
    first, errors = run()
    second, _ = run()
    assert first == second
    assert b'"lm": ' in first  # the language model's scores are part of what is compared
    warnings = [line for line in errors.splitlines() if "Warning" in line or "warning" in line]
    assert warnings == [], errors
