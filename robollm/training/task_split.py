"""Which synthetic planning tasks tune the planner model and which are held out.

`robollm train planner-lm` trains on one part and reports its validation loss on the
other; `robollm train lm-temperature` fits the model's temperature on that same held-out
part, so both must draw the split the same way. No instruction of a shipped or held-out
evaluation suite is ever generated.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any


def suite_instructions() -> list[str]:
    """Every instruction of the shipped and held-out suites: never trained on."""
    from robollm.eval.suites import builtin_suites, heldout_suites, load_suite

    names = [*builtin_suites(), *heldout_suites()]
    return [ep.instruction for name in names for ep in load_suite(name).episodes]


def split_tasks(count: int, seed: int, sensing: int = 0, language: bool = False,
                library: str | None = None, evidence_style: str = "beliefs",
                evidence_bank: str | None = None, family_weights: dict[str, float] | None = None,
                sense_past: float = 0.0) -> tuple[list, list]:
    """(training tasks, validation tasks): 3% kept for validation. The split the adapter
    was tuned on, so the language model's temperature is fitted on the same held-out
    tasks (`robollm train lm-temperature`). `language` draws the wider language of
    robollm.training.synthetic_language (for a prompt that describes the table), with its
    requests that name the hand when the skill `library` has the skills for them. The
    sensing tasks' evidence lines are in `evidence_style`, drawn from `evidence_bank`
    (default: the shipped bank); in a share `sense_past` of them the expert senses the rest
    after finding the one asked for. `family_weights` replaces the wider language's weights
    of the families it names."""
    from robollm.training.synthetic import names_hands
    from robollm.training.synthetic_families import generate

    banned = suite_instructions()
    if language:
        from robollm.training.synthetic_language import generate_language

        tasks = generate_language(count, seed, exclude=banned, hands=names_hands(library), weights=family_weights)
    elif family_weights:
        raise ValueError("family weights apply to the wider language (a prompt that describes the table)")
    else:
        tasks = generate(count, seed, exclude=banned)
    if sensing:
        from robollm.training.sensing_tasks import generate_sensing

        tasks += generate_sensing(sensing, seed, exclude=banned, style=evidence_style, bank=evidence_bank,
                                  sense_past=sense_past)
    random.Random(seed).shuffle(tasks)
    n_valid = max(1, len(tasks) * 3 // 100)
    return tasks[n_valid:], tasks[:n_valid]


def recorded_settings(meta: dict[str, Any], folder: Path | None = None) -> dict[str, Any]:
    """`split_tasks`' settings as an adapter's record (`robollm-adapter.json`, `meta`)
    holds them, with the copy of the evidence bank it was trained on when its `folder` has
    one: what rebuilds the split it was tuned on. A record without tasks (no adapter)
    gives the generator's 6,000 tasks and no sensing tasks."""
    from robollm.training.sensing_tasks import BANK_COPY

    copy = folder / BANK_COPY if folder is not None else None
    return {"count": int(meta.get("tasks", 6000)), "seed": int(meta.get("seed", 0)),
            "sensing": int(meta.get("sensing_tasks", 0)), "evidence_style": meta.get("evidence_style", "beliefs"),
            "evidence_bank": str(copy) if copy is not None and copy.exists() else None,
            "family_weights": meta.get("family_weights"), "sense_past": float(meta.get("sense_past", 0.0))}
