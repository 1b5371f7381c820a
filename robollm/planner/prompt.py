"""The prompt file: plain text with {objects}, {instruction}, {steps} and {next}."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from robollm.config import launch_dir
from robollm.errors import ConfigError

FIELDS = ("objects", "instruction", "steps", "next")


@dataclass(frozen=True)
class PromptTemplate:
    text: str
    source: str

    def render(self, objects: list[str], instruction: str, steps: list[str]) -> str:
        lines = "".join(f"{i}. {s}\n" for i, s in enumerate(steps, 1))
        return (self.text.replace("{objects}", ", ".join(objects))
                .replace("{instruction}", instruction.strip().rstrip("."))
                .replace("{steps}", lines).replace("{next}", str(len(steps) + 1)))


def load_prompt(path_or_name: str) -> PromptTemplate:
    p = Path(path_or_name)
    if not p.suffix and not p.exists():
        p = launch_dir() / "prompts" / f"{path_or_name}.txt"
    if not p.is_file():
        raise ConfigError(f"prompt {path_or_name!r}: no such file (give a path or a name in "
                          f"{launch_dir() / 'prompts'})")
    lines = [line for line in p.read_text().splitlines() if not line.startswith("#")]
    text = "\n".join(lines).rstrip("\n")
    missing = [f for f in FIELDS if "{" + f + "}" not in text]
    if missing:
        raise ConfigError(f"{p}: the prompt must contain the placeholders "
                          f"{', '.join('{' + f + '}' for f in missing)}")
    return PromptTemplate(text, str(p))
