"""Evaluation suites: episodes of instruction, scene, success predicate and seeds.

A suite file is YAML::

    suite: pick_place
    episodes:
      - id: pick_place_01
        family: pick_place
        instruction: put the red block in the green bowl
        scene: {objects: [{type: block, colour: red}, {type: bowl, colour: green}]}
        success: in(red_block, green_bowl)
        seeds: [0, 1]

`scene` may also name a scene file or a built-in scene. `robollm eval SUITE` takes a
suite file, a built-in suite name, or `all`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robollm.errors import ConfigError, UserError
from robollm.schema import load_dataclass, read_yaml, relative_to
from robollm.world.predicates import SymbolicFacts, parse, validate
from robollm.world.scene import REGIONS, SceneSpec, load_scene, scene_from_dict, scene_path
from robollm.world.symbolic import ARMS


@dataclass
class Episode:
    id: str
    family: str
    instruction: str
    scene: Any
    success: str
    seeds: list[int] = field(default_factory=lambda: [0])

    def scene_spec(self, source: str = "suite") -> SceneSpec:
        if isinstance(self.scene, str):
            return load_scene(self.scene)
        return scene_from_dict(self.scene, f"{source}: episode {self.id}")


@dataclass
class Suite:
    suite: str
    episodes: list[Episode]
    in_all: bool = True  # false: a suite for one capability, run by name only, not part of `all`
    source: str = ""


def builtin_suite_dir() -> Path:
    from importlib.resources import files

    return Path(str(files("robollm.sim"))) / "suites"


def builtin_suites() -> list[str]:
    return sorted(p.stem for p in builtin_suite_dir().glob("*.yaml"))


def heldout_suite_dir() -> Path:
    """The held-out suites (`heldout`, `wording`): not part of `all`, never used to choose
    the planner's settings."""
    return builtin_suite_dir().parent / "heldout"


def heldout_suite_path(name: str = "heldout") -> Path:
    return heldout_suite_dir() / f"{name}.yaml"


def heldout_suites() -> list[str]:
    return sorted(p.stem for p in heldout_suite_dir().glob("*.yaml"))


def load_suite(path_or_name: str | Path) -> Suite:
    p = Path(path_or_name)
    if not p.suffix and not p.exists():
        candidate = builtin_suite_dir() / f"{p.name}.yaml"
        if p.name in heldout_suites():
            candidate = heldout_suite_path(p.name)
        if not candidate.is_file():
            raise ConfigError(f"suite {str(path_or_name)!r}: no such file or built-in suite; "
                              f"built-in suites: {', '.join(builtin_suites())}, all, {', '.join(heldout_suites())}")
        p = candidate
    suite = load_dataclass(Suite, read_yaml(p) or {}, str(p))
    suite.source = str(p)
    if not suite.episodes:
        raise ConfigError(f"{p}: the suite has no episodes")
    seen: set[str] = set()
    for ep in suite.episodes:
        if ep.id in seen:
            raise ConfigError(f"{p}: episode id {ep.id!r} appears twice")
        seen.add(ep.id)
        _check_episode(ep, p)
    return suite


def _check_episode(ep: Episode, p: Path) -> None:
    """What would otherwise fail every run of the episode, reported at load with its id."""
    from robollm.planner.saycan import check_instruction

    if not ep.instruction.strip():
        raise ConfigError(f"{p}: episode {ep.id} has an empty instruction")
    try:
        check_instruction(ep.instruction)
    except UserError as e:
        raise ConfigError(f"{p}: episode {ep.id}: {e}") from None
    if not ep.seeds:
        raise ConfigError(f"{p}: episode {ep.id} has no seeds")
    negative = [s for s in ep.seeds if s < 0]
    if negative:
        raise ConfigError(f"{p}: episode {ep.id}: seeds must be 0 or more, got {negative}")
    if isinstance(ep.scene, str):  # a scene file is read from the suite file's folder
        ep.scene = relative_to(ep.scene, p)
        try:
            scene_path(ep.scene)
        except ConfigError as e:
            raise ConfigError(f"{p}: episode {ep.id}: key 'scene': {e}") from None
    scene = ep.scene_spec(str(p))
    # The names a session's start state knows: a region given where an object belongs
    # (or a misspelt name) would read as a quiet failure in every run.
    facts = SymbolicFacts(set(scene.names()), set(REGIONS), set(ARMS))
    try:
        validate(parse(ep.success), facts)
    except UserError as e:
        raise ConfigError(f"{p}: episode {ep.id}: success {e}") from None


def load_suites(name: str) -> list[Suite]:
    if name == "all":
        return [s for s in (load_suite(n) for n in builtin_suites()) if s.in_all]
    return [load_suite(name)]
