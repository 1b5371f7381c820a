"""Typed options of the built-in language-model backends, as a launch file gives them
under `planner.llm` (beside `backend`). Kept apart from the backends so that checking
a launch file imports neither torch nor transformers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class HFOptions:
    """`hf`: a local causal LM run with transformers."""

    model: str | None = None  # folder or .gguf file; None = the embedded SmolLM2-135M-Instruct
    # A LoRA adapter merged into the model at load time, a folder or a name in
    # launch/adapters/ (robollm train planner-lm makes one); None = the plain model.
    adapter: str | None = None
    threads: int | None = None  # torch threads; None = torch's default
    dtype: str = "float32"


@dataclass
class HTTPOptions:
    """`http`: an OpenAI-compatible completions server that echoes prompt log-probabilities."""

    url: str  # the server's base URL, http://host:port
    model: str | None = None  # the model name the server expects, if any
    # s to wait for one answer; a request that times out is not sent again, since the
    # server may still be computing it
    timeout: float = 30.0
    retries: int = 3  # attempts after a refused connection or a 429/503 answer
    # prompts (candidates) per request; a server that refuses lists gets one at a time
    batch_size: int = 16


@dataclass
class FakeOptions:
    """`fake`: fixed scores per candidate text, for tests and dry runs."""

    scores: dict[str, float] = field(default_factory=dict)
    default: float = -20.0  # the score of a candidate not in `scores`
