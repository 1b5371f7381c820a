"""Build a backend from plain settings (command-line flags, launch files).

Keeping this in one place means the CLI, the server and launch configurations accept the
same backend names and options.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from robollm.errors import UserError
from robollm.llm.base import LanguageModel

BACKENDS = ("hf", "http", "fake")


def create_language_model(
    backend: str = "hf",
    *,
    model: str | None = None,
    url: str | None = None,
    threads: int | None = None,
    dtype: str = "float32",
    timeout: float = 30.0,
    retries: int = 3,
    fake_scores: Mapping[str, float] | None = None,
    fake_default: float = -20.0,
    adapter: str | None = None,
) -> LanguageModel:
    """Return a ready backend: ``hf`` (local model, default the embedded SmolLM2), ``http``
    (OpenAI-compatible server at ``url``) or ``fake`` (fixed scores). ``adapter`` (hf only)
    is a LoRA adapter folder, or a name in launch/adapters/, merged into the model."""
    if adapter is not None and backend != "hf":
        raise UserError(f"a language-model adapter works with the hf backend only, not {backend!r}")
    if backend == "hf":
        from robollm.llm.hf import HFCausalLM

        return HFCausalLM.load(model, threads=threads, dtype=dtype, adapter=adapter)
    if backend == "http":
        if not url:
            raise UserError("the http language-model backend needs a server URL")
        from robollm.llm.http import OpenAICompletionsLM

        return OpenAICompletionsLM(url, model=model, timeout=timeout, retries=retries)
    if backend == "fake":
        from robollm.llm.fake import FakeLanguageModel

        return FakeLanguageModel(fake_scores or {}, fake_default)
    raise UserError(f"unknown language-model backend {backend!r}; choose one of {BACKENDS}")


def read_scores(value: str) -> dict[str, float]:
    """Fake scores from inline JSON (``{"done": -1.0}``) or a JSON file path."""
    text = value if value.lstrip().startswith("{") else _read(Path(value))
    try:
        table: Any = json.loads(text)
    except ValueError as error:
        raise UserError(f"fake scores are not valid JSON: {error}") from None
    if not isinstance(table, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in table.values()
    ):
        raise UserError("fake scores must be a JSON object mapping candidate text to a number")
    return {str(k): float(v) for k, v in table.items()}


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise UserError(f"cannot read fake scores from {path}: {error.strerror}") from None
