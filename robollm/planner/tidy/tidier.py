"""The parts of a tidy run that the command and the benchmark share: the language model
summaries are scored with, and the summary options from the launch file."""

from __future__ import annotations

from dataclasses import replace

from robollm.config import LaunchConfig
from robollm.llm.base import LanguageModel
from robollm.llm.options import HFOptions
from robollm.llm.registry import llm_registry
from robollm.planner.tidy.summarise import SummaryOptions


def summary_options(config: LaunchConfig) -> SummaryOptions:
    t = config.tidy
    return SummaryOptions(prior_weight=t.prior_weight, alpha=t.alpha, max_candidates=t.max_candidates)


def tidy_language_model(config: LaunchConfig) -> LanguageModel:
    """The planner's language model; for a local model, without its LoRA adapter unless
    `tidy.use_adapter` asks for it (the adapter is tuned to planner prompts)."""
    choice = config.planner.llm
    options = choice.options
    if isinstance(options, HFOptions) and not config.tidy.use_adapter:
        options = replace(options, adapter=None)
    registry = llm_registry()
    return registry.make(choice.name, options=options) if options is not None else registry.make(choice.name)


def model_label(llm: LanguageModel) -> str:
    return getattr(llm, "name", type(llm).__name__)
