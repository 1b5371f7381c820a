"""Language-model scoring for the planner: one interface, several backends.

Typical use in a planner step::

    model = create_language_model("hf")            # embedded SmolLM2-135M-Instruct
    options = ScoringOptions(length="mean", calibration=True)
    values = score_candidates(model, prompt, candidates, options)

The local transformers backend is imported lazily (``HFCausalLM``), so importing this
package stays cheap for code that only needs the fake or the HTTP backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from robollm.llm.base import (
    DEFAULT_NEUTRAL_PROMPT,
    CandidateScore,
    LanguageModel,
    ScoringOptions,
    TokenLogprob,
    combine,
    score_candidates,
    softmax,
)
from robollm.llm.factory import create_language_model
from robollm.llm.fake import FakeLanguageModel
from robollm.llm.http import OpenAICompletionsLM

if TYPE_CHECKING:
    from robollm.llm.hf import HFCausalLM

__all__ = [
    "DEFAULT_NEUTRAL_PROMPT",
    "CandidateScore",
    "FakeLanguageModel",
    "HFCausalLM",
    "LanguageModel",
    "OpenAICompletionsLM",
    "ScoringOptions",
    "TokenLogprob",
    "combine",
    "create_language_model",
    "score_candidates",
    "softmax",
]


def __getattr__(name: str) -> Any:
    if name == "HFCausalLM":
        from robollm.llm.hf import HFCausalLM

        return HFCausalLM
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
