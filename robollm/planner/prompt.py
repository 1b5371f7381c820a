"""The prompt file: plain text with {objects}, {instruction}, {steps} and {next}, and
optionally {examples}, filled from a pool of worked examples in a second file.

Instead of {objects} (the names alone) a prompt may use {scene}: every object with where
it is (region, what it is in or on, a neighbour close by) and {hands}: what the hands
hold, both as the table was when the run began (robollm.planner.scene_text); with {hands},
a step that changes what the hands hold ends "Now the left hand holds the red block."

For a prompt `NAME.txt`, the pool is `NAME.examples.txt`: examples separated by blank lines,
each with an `Objects:` line, a `Task:` line and numbered steps ending in `done`. With
`planner.num_examples: 0` the whole pool is used in file order; with N > 0 the N examples
whose tasks are closest in meaning to the instruction are used (MiniLM sentence
embeddings), the closest last, right before the task being planned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from robollm.config import launch_dir
from robollm.errors import ConfigError

FIELDS = ("objects", "instruction", "steps", "next")
SCENE_FIELDS = ("scene", "hands")  # either may stand in for {objects}


@dataclass(frozen=True)
class PromptTemplate:
    text: str
    source: str
    examples: tuple[str, ...] = ()  # the pool that fills {examples}

    @property
    def uses_examples(self) -> bool:
        return "{examples}" in self.text

    @property
    def tells_hands(self) -> bool:
        """With {hands}, each step that changes what the hands hold says so in its line."""
        return "{hands}" in self.text

    @property
    def uses_scene(self) -> bool:
        return any("{" + f + "}" in self.text for f in SCENE_FIELDS)

    def render(self, objects: list[str], instruction: str, steps: list[str],
               examples: Sequence[str] | None = None, scene: str = "", hands: str = "") -> str:
        lines = "".join(f"{i}. {s}\n" for i, s in enumerate(steps, 1))
        chosen = self.examples if examples is None else examples
        return (self.text.replace("{examples}", "\n\n".join(chosen))
                .replace("{objects}", ", ".join(objects))
                .replace("{scene}", scene).replace("{hands}", hands)
                .replace("{instruction}", instruction.strip().rstrip("."))
                .replace("{steps}", lines).replace("{next}", str(len(steps) + 1)))


def _read(p: Path) -> str:
    lines = [line for line in p.read_text().splitlines() if not line.startswith("#")]
    return "\n".join(lines).strip("\n")


def example_task(example: str) -> str:
    """The task sentence of one worked example (what similarity is measured on)."""
    for line in example.splitlines():
        if line.startswith("Task:"):
            return line[len("Task:"):].strip().rstrip(".")
    raise ValueError(f"example has no 'Task:' line: {example[:60]!r}")


def load_examples(p: Path) -> tuple[str, ...]:
    if not p.is_file():
        raise ConfigError(f"{p}: no such file; the prompt uses {{examples}}, which come from "
                          "this file (examples separated by blank lines)")
    blocks = [b.strip() for b in _read(p).split("\n\n") if b.strip()]
    for i, block in enumerate(blocks, 1):
        heads = [line.split(":")[0] for line in block.splitlines()[:2]]
        if heads != ["Objects", "Task"] or not block.rstrip(".").endswith("done"):
            raise ConfigError(f"{p}: example {i} ({block.splitlines()[0][:50]!r}) should start "
                              "with an 'Objects:' line and a 'Task:' line and end with 'done.'")
    if not blocks:
        raise ConfigError(f"{p}: no examples found")
    return tuple(blocks)


def load_prompt(path_or_name: str) -> PromptTemplate:
    p = Path(path_or_name)
    if not p.suffix and not p.exists():
        p = launch_dir() / "prompts" / f"{path_or_name}.txt"
    if not p.is_file():
        raise ConfigError(f"prompt {path_or_name!r}: no such file (give a path or a name in "
                          f"{launch_dir() / 'prompts'})")
    text = _read(p)
    missing = [f for f in FIELDS if "{" + f + "}" not in text
               and not (f == "objects" and "{scene}" in text)]
    if missing:
        raise ConfigError(f"{p}: the prompt must contain the placeholders "
                          f"{', '.join('{' + f + '}' for f in missing)}")
    examples = load_examples(p.with_suffix(".examples.txt")) if "{examples}" in text else ()
    return PromptTemplate(text, str(p), examples)


class ExampleSelector:
    """Picks the `count` pool examples whose tasks are most similar to an instruction."""

    def __init__(self, pool: Sequence[str], count: int, encoder=None) -> None:
        from robollm.llm.embed import SentenceEncoder

        self.pool, self.count = list(pool), count
        self.encoder = encoder or SentenceEncoder()
        self.keys = self.encoder.encode([example_task(e) for e in self.pool])

    def select(self, instruction: str) -> list[str]:
        if self.count <= 0 or self.count >= len(self.pool):
            return list(self.pool)
        sims = (self.keys @ self.encoder.encode([instruction])[0]).tolist()
        best = sorted(range(len(self.pool)), key=lambda i: (-sims[i], i))[: self.count]
        return [self.pool[i] for i in reversed(best)]  # the closest example last
