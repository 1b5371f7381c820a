"""Launch configurations: YAML files loaded into typed dataclasses, strictly.

An unknown key, a value of the wrong type, a missing field or a missing file fails
with the file, the dotted key and what was expected, before anything starts.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import dacite
import yaml

from robollm.errors import ConfigError

T = TypeVar("T")

COORDINATION_MODES = ("left", "right", "both_sync", "both_async")


@dataclass
class ControllerConfig:
    """How one arm moves: a Cartesian speed for straight-line moves and tolerances."""

    ee_speed: float = 0.25  # m/s along straight-line moves
    joint_speed_scale: float = 0.5  # fraction of each joint's velocity limit
    position_tolerance: float = 0.004  # m, when a move counts as arrived
    settle_time: float = 0.15  # s to wait at the end of a move
    timeout: float = 8.0  # s before a move gives up
    grasp_force: float = 40.0  # N when closing the gripper


@dataclass
class ArmConfig:
    base: list[float]  # x, y, z of the arm's mounting point in the world
    workspace_low: list[float]  # x, y, z lower corner of where the grasp point may go
    workspace_high: list[float]
    base_yaw: float = 0.0  # radians about the world z axis


@dataclass
class RobotConfig:
    driver: str = "pybullet"  # a name in the robot-driver registry
    arms: dict[str, ArmConfig] = field(default_factory=dict)
    # per coordination mode, per arm; a missing entry takes ControllerConfig's defaults
    controllers: dict[str, dict[str, ControllerConfig]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # driver-specific, checked by the driver


@dataclass
class TableConfig:
    """The work surface in front of the robot (x away from the robot, y to its left)."""

    low: list[float] = field(default_factory=lambda: [0.28, -0.58])  # x, y corner
    high: list[float] = field(default_factory=lambda: [0.72, 0.58])
    height: float = 0.0  # z of the table top


@dataclass
class SimConfig:
    timestep: float = 1.0 / 240.0
    gui: bool = False
    scene: str = "default"  # a scene file, or the name of a scene that ships with robollm
    camera_width: int = 224
    camera_height: int = 224


@dataclass
class SkillsConfig:
    library: str = "robollm.skills.catalog:register_builtin"  # function filling a registry
    executor: str = "physics"  # physics | symbolic


@dataclass
class LLMConfig:
    """Which language model scores skills: the embedded one, a local folder or GGUF, a server."""

    backend: str = "hf"  # hf | http | fake
    model: str | None = None  # folder or .gguf file; None = the embedded SmolLM2-135M-Instruct
    url: str | None = None  # http backend: the server's base URL
    # hf backend: a LoRA adapter merged into the model at load time, a folder or a name in
    # launch/adapters/ (robollm train planner-lm makes one); None = the plain model
    adapter: str | None = None
    threads: int | None = None
    timeout: float = 30.0
    retries: int = 3


@dataclass
class ScoringConfig:
    length: str = "sum"  # sum | mean (per token, to the power length_power)
    length_power: float = 1.0
    calibration: bool = False  # subtract alpha x log p(candidate | neutral prompt)
    alpha: float = 0.25
    # The neutral prompt: "prior" is a fixed robot-step opener (how typical the text is
    # anywhere); "no_task" is this step's own prompt with the task left out (how much the
    # instruction, rather than the examples and steps so far, supports the candidate).
    neutral: str = "no_task"


@dataclass
class PlannerConfig:
    llm: LLMConfig = field(default_factory=LLMConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    affordance: str = "heuristic"  # a name in the affordance registry
    prompt: str = "saycan"  # a prompt file, or the name of one in launch/prompts/
    # Worked examples in the prompt: 0 = the whole pool (NAME.examples.txt) in file order;
    # N = the N examples whose tasks are closest in meaning to the instruction.
    num_examples: int = 0
    max_steps: int = 10
    beam_width: int = 1  # 1 = greedy; more scores whole skill sequences by symbolic look-ahead
    beam_depth: int = 2
    show_top: int = 5  # candidates printed per step
    # Also ask the language model about calls the affordance rules out. Slower; it changes
    # only the printed language-model columns, never the choice.
    score_impossible: bool = False


@dataclass
class LaunchConfig:
    robot: RobotConfig
    table: TableConfig = field(default_factory=TableConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    skills: SkillsConfig = field(default_factory=SkillsConfig)
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    perception: str = "ground_truth"  # ground_truth (simulation) or a perception in the registry
    source: str = "<defaults>"

    def controller(self, mode: str, arm: str) -> ControllerConfig:
        return self.robot.controllers.get(mode, {}).get(arm, ControllerConfig())


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def load_dataclass(cls: type[T], data: Any, source: str, prefix: str = "") -> T:
    """Strictly build `cls` from plain data, with errors that name `source` and the key."""
    if not isinstance(data, dict):
        where = f"'{prefix}'" if prefix else "the top level"
        raise ConfigError(f"{source}: {where} must be a mapping, got {type(data).__name__}")
    _check_keys(cls, data, source, prefix)
    try:
        return dacite.from_dict(cls, data, config=dacite.Config(strict=True, type_hooks={float: _int_to_float}))
    except dacite.WrongTypeError as e:
        raise ConfigError(
            f"{source}: key '{_join(prefix, e.field_path)}' should be {_type_name(e.field_type)}, "
            f"got {e.value!r}"
        ) from None
    except dacite.MissingValueError as e:
        raise ConfigError(f"{source}: missing required key '{_join(prefix, e.field_path)}'") from None
    except dacite.DaciteError as e:
        raise ConfigError(f"{source}: {e}") from None


def _int_to_float(value: Any) -> Any:
    """YAML writes 50 for 50.0; a float field takes it, a string still fails."""
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _check_keys(cls: type, data: Any, source: str, prefix: str) -> None:
    """Find unknown keys at any depth, so the error can name the full dotted key."""
    if not dataclasses.is_dataclass(cls) or not isinstance(data, dict):
        return
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    for key, value in data.items():
        path = _join(prefix, str(key))
        if key not in hints:
            raise ConfigError(
                f"{source}: unknown key '{path}'; expected one of {', '.join(known)}{_under(prefix)}"
            )
        tp = hints[key]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        origin = typing.get_origin(tp)
        if dataclasses.is_dataclass(tp):
            _check_keys(tp, value, source, path)
        elif origin is dict and len(args) == 2 and isinstance(value, dict):
            inner = args[1]
            for k, v in value.items():
                if dataclasses.is_dataclass(inner):
                    _check_keys(inner, v, source, _join(path, str(k)))
                elif typing.get_origin(inner) is dict and isinstance(v, dict):
                    leaf = typing.get_args(inner)[1]
                    for k2, v2 in v.items():
                        _check_keys(leaf, v2, source, _join(path, f"{k}.{k2}"))
        elif origin is list and args and isinstance(value, list):
            for i, item in enumerate(value):
                _check_keys(args[0], item, source, f"{path}[{i}]")


def _join(prefix: str, path: str | None) -> str:
    return ".".join(p for p in (prefix, path) if p)


def _under(prefix: str) -> str:
    return f" under '{prefix}'" if prefix else ""


def read_yaml(path: str | Path) -> Any:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such file")
    try:
        return yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{p}:{where} is not valid YAML ({getattr(e, 'problem', e)})") from None


def launch_dir() -> Path:
    """The launch files that ship with robollm (the repo's `launch/` folder)."""
    from importlib.resources import files

    return Path(str(files("robollm.launch")))


def default_config_path() -> Path:
    return launch_dir() / "sim_bimanual.yaml"


def load_config(path: str | Path | None = None) -> LaunchConfig:
    p = Path(path) if path is not None else default_config_path()
    cfg = load_dataclass(LaunchConfig, read_yaml(p) or {}, str(p))
    cfg.source = str(p)
    _check(cfg, str(p))
    return cfg


def _check(cfg: LaunchConfig, source: str) -> None:
    if set(cfg.robot.arms) != {"left", "right"}:
        raise ConfigError(
            f"{source}: key 'robot.arms' must name exactly the arms left and right, "
            f"got {sorted(cfg.robot.arms)}"
        )
    for name, arm in cfg.robot.arms.items():
        for key in ("base", "workspace_low", "workspace_high"):
            value = getattr(arm, key)
            if len(value) != 3:
                raise ConfigError(
                    f"{source}: key 'robot.arms.{name}.{key}' should be 3 numbers [x, y, z], "
                    f"got {value!r}"
                )
    for mode, per_arm in cfg.robot.controllers.items():
        if mode not in COORDINATION_MODES:
            raise ConfigError(
                f"{source}: unknown coordination mode 'robot.controllers.{mode}'; "
                f"expected one of {', '.join(COORDINATION_MODES)}"
            )
        for arm in per_arm:
            if arm not in cfg.robot.arms:
                raise ConfigError(
                    f"{source}: unknown arm 'robot.controllers.{mode}.{arm}'; expected left or right"
                )
    if cfg.skills.executor not in ("physics", "symbolic"):
        raise ConfigError(
            f"{source}: key 'skills.executor' should be physics or symbolic, got {cfg.skills.executor!r}"
        )
    pl = cfg.planner
    if pl.llm.backend not in ("hf", "http", "fake"):
        raise ConfigError(f"{source}: key 'planner.llm.backend' should be hf, http or fake, got {pl.llm.backend!r}")
    if pl.llm.adapter is not None and pl.llm.backend != "hf":
        raise ConfigError(f"{source}: key 'planner.llm.adapter' works with the hf backend only "
                          f"(planner.llm.backend is {pl.llm.backend}); remove it or set it to null")
    if pl.llm.backend == "http" and not pl.llm.url:
        raise ConfigError(f"{source}: key 'planner.llm.url' is required when planner.llm.backend is http")
    if pl.scoring.length not in ("sum", "mean"):
        raise ConfigError(f"{source}: key 'planner.scoring.length' should be sum or mean, got {pl.scoring.length!r}")
    if pl.scoring.neutral not in ("prior", "no_task"):
        raise ConfigError(f"{source}: key 'planner.scoring.neutral' should be prior or no_task, "
                          f"got {pl.scoring.neutral!r}")
    if pl.num_examples < 0:
        raise ConfigError(f"{source}: key 'planner.num_examples' must be 0 (all) or more, "
                          f"got {pl.num_examples}")
    if pl.max_steps < 1 or pl.beam_width < 1 or pl.beam_depth < 1:
        raise ConfigError(f"{source}: keys 'planner.max_steps', 'planner.beam_width' and "
                          "'planner.beam_depth' must be at least 1")
    if cfg.sim.timestep <= 0 or cfg.sim.timestep > 0.02:
        raise ConfigError(
            f"{source}: key 'sim.timestep' should be in (0, 0.02] seconds, got {cfg.sim.timestep}"
        )
