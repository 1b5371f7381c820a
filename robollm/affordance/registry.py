"""The affordance models, by versioned name (`planner.affordance`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robollm.registry import Registry

if TYPE_CHECKING:  # the registry names entry points only; nothing is imported
    from robollm.affordance.base import Affordance


def register_builtin(registry: Registry[Affordance]) -> None:
    registry.register("heuristic-v0", "robollm.affordance.heuristic:HeuristicAffordance",
                      options="robollm.affordance.heuristic:HeuristicOptions")
    registry.register("learned-v0", "robollm.affordance.learned:LearnedAffordance",
                      options="robollm.affordance.learned:LearnedOptions")


def affordance_registry() -> Registry[Affordance]:
    registry: Registry[Affordance] = Registry("affordance model")
    register_builtin(registry)
    return registry
