"""Task files: scripted example tasks (scene, plan, success predicate) used by benchmarks
and reliability checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robollm.errors import ConfigError
from robollm.schema import load_dataclass, read_yaml
from robollm.world.scene import SceneSpec, load_scene, scene_from_dict


@dataclass
class TaskSpec:
    id: str
    scene: Any  # a scene mapping, or a scene file / built-in scene name
    plan: str
    success: str
    seeds: list[int] = field(default_factory=lambda: list(range(10)))

    def scene_spec(self, source: str) -> SceneSpec:
        if isinstance(self.scene, str):
            return load_scene(self.scene)
        return scene_from_dict(self.scene, f"{source}: task {self.id}")


@dataclass
class TaskFile:
    tasks: list[TaskSpec]


def example_tasks_path() -> Path:
    from importlib.resources import files

    return Path(str(files("robollm.sim"))) / "tasks" / "examples.yaml"


def load_tasks(path: str | Path | None = None) -> list[TaskSpec]:
    p = Path(path) if path else example_tasks_path()
    tasks = load_dataclass(TaskFile, read_yaml(p) or {}, str(p)).tasks
    ids = [t.id for t in tasks]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ConfigError(f"{p}: task ids must be unique; repeated: {', '.join(sorted(dupes))}")
    for t in tasks:
        t.scene_spec(str(p))  # fail early on a bad scene
    return tasks
