"""Build a backend from plain settings (command-line flags, launch files).

Keeping this in one place means the CLI, the server and launch configurations accept the
same backend names and options.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from robollm.errors import UserError
from robollm.llm.base import LanguageModel
from robollm.llm.options import FakeOptions, HFOptions, HTTPOptions

BACKENDS = ("hf", "http", "fake")  # the built-in ones; plug-ins add more (robollm.llm group)


def make_hf(options: HFOptions) -> LanguageModel:
    from robollm.llm.hf import HFCausalLM

    return HFCausalLM.load(options.model, threads=options.threads, dtype=options.dtype,
                           adapter=options.adapter)


def make_http(options: HTTPOptions) -> LanguageModel:
    from robollm.llm.http import OpenAICompletionsLM

    return OpenAICompletionsLM(options.url, model=options.model, timeout=options.timeout,
                               retries=options.retries, batch_size=options.batch_size)


def make_fake(options: FakeOptions) -> LanguageModel:
    from robollm.llm.fake import FakeLanguageModel

    return FakeLanguageModel(options.scores, options.default)


def create_language_model(backend: str = "hf", *, source: str = "options",
                          **options: Any) -> LanguageModel:
    """A ready backend from its registry name and options, checked strictly:
    ``hf`` (local model, default the embedded SmolLM2; ``model``, ``adapter``, ``threads``,
    ``dtype``), ``http`` (OpenAI-compatible server; ``url``, ``model``, ``timeout``,
    ``retries``, ``batch_size``), ``fake`` (``scores``, ``default``), or a plug-in's."""
    from robollm.llm.registry import llm_registry

    registry = llm_registry()
    given = {k: v for k, v in options.items() if v is not None}
    typed = registry.options(backend, given, source, "planner.llm")
    return registry.make(backend, options=typed) if typed is not None else registry.make(backend)


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
