"""The language-model backends, by versioned name (`planner.llm.backend`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robollm.registry import Registry

if TYPE_CHECKING:  # the registry names entry points only; nothing is imported
    from robollm.llm.base import LanguageModel


def register_builtin(registry: Registry[LanguageModel]) -> None:
    registry.register("hf-v0", "robollm.llm.factory:make_hf", options="robollm.llm.options:HFOptions")
    registry.register("http-v0", "robollm.llm.factory:make_http", options="robollm.llm.options:HTTPOptions")
    registry.register("fake-v0", "robollm.llm.factory:make_fake", options="robollm.llm.options:FakeOptions")


def llm_registry() -> Registry[LanguageModel]:
    registry: Registry[LanguageModel] = Registry("language-model backend")
    register_builtin(registry)
    return registry
