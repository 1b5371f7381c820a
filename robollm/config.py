"""Launch configurations: YAML files loaded into typed dataclasses, strictly.

An unknown key, a value of the wrong type, a missing field or a missing file fails
with the file, the dotted key and what was expected, before anything starts.
"""

from __future__ import annotations

import math
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from robollm.errors import ConfigError
from robollm.schema import load_dataclass, read_yaml, relative_to

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
class Choice:
    """One entry of a registry with its typed options.

    In a launch file it is a name (`affordance: heuristic`) or a mapping with the name
    under `key` and the entry's options beside it (`llm: {backend: hf, adapter: ...}`).
    The options are checked strictly against the entry's own options dataclass.
    """

    name: str
    options: Any = None  # the entry's options dataclass (None: it takes none)


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
    # Divides the model's scores before the softmax, so that the second-best call keeps
    # the probability it has on held-out plans. null: the temperature fitted for the
    # adapter (robollm-temperature.json beside it, `robollm train lm-temperature`), 1 without.
    temperature: float | None = None
    # An instruction offering a choice ("the red block or the blue block") is scored as
    # written and with the two swapped, and the softmaxes averaged, so the model's
    # preference for whichever is named first cancels (robollm.planner.alternatives).
    both_orders: bool = True


@dataclass
class PlannerConfig:
    # Which language model scores skills: `backend` names a language-model backend
    # (hf, http, fake, or a plug-in), the other keys are that backend's options.
    llm: Any = field(default_factory=lambda: {"backend": "hf"})
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    affordance: Any = "heuristic"  # a name in the affordance registry, or {name: ..., options}
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
    # Put misspellings right, colours named by things as colour words, and objects named
    # by place or neighbour as their names before the model reads the instruction
    # (robollm/planner/reading.py).
    read_instruction: bool = True


SENSING_STYLES = ("adjectives", "beliefs")


@dataclass
class SensingConfig:
    """How knocks, touches and weighings become evidence in the planner's prompt."""

    # adjectives: "It sounds metallic and rings."; beliefs: "It is probably metal (0.93)."
    style: str = "beliefs"
    sound_model: str | None = None  # a knock_sound.safetensors file; null = the shipped one
    touch_calibration: str | None = None  # a touch_calibration.json file; null = the shipped one


@dataclass
class TidyConfig:
    """How `robollm tidy` chooses a summary of a person's examples (README: Tidying)."""

    prior_weight: float = 1.0  # simplicity prior, per unit of rule cost
    alpha: float = 1.0  # share of the sentence's log-likelihood without the examples subtracted
    max_candidates: int = 60  # the simplest consistent rule sets the model scores
    # Score summaries with the planner's LoRA adapter (tuned to planner prompts); false
    # scores them with the plain model, which measured better (README: Tidying).
    use_adapter: bool = False


@dataclass
class LaunchConfig:
    robot: RobotConfig
    table: TableConfig = field(default_factory=TableConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    skills: SkillsConfig = field(default_factory=SkillsConfig)
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    # ground_truth (simulation) or a perception in the registry, or {name: ..., options}
    perception: Any = "ground_truth"
    sensing: SensingConfig = field(default_factory=SensingConfig)
    tidy: TidyConfig = field(default_factory=TidyConfig)
    source: str = "<defaults>"

    def controller(self, mode: str, arm: str) -> ControllerConfig:
        return self.robot.controllers.get(mode, {}).get(arm, ControllerConfig())


def launch_dir() -> Path:
    """The launch files that ship with robollm (the repo's `launch/` folder)."""
    from importlib.resources import files

    return Path(str(files("robollm.launch")))


def default_config_path() -> Path:
    return launch_dir() / "sim_bimanual.yaml"


def load_config(path: str | Path | None = None, perception: str | None = None,
                affordance: str | None = None) -> LaunchConfig:
    """A launch file, strictly checked. Relative paths in it (`sim.scene`, `planner.prompt`,
    `planner.llm.model`, `planner.llm.adapter`) are read from the file's folder; names of
    things that ship with robollm (`default`, `saycan_scene`, `saycan-hands-smollm2`) stay names.

    `perception` names a perception that replaces the file's (`--perception`), and
    `affordance` an affordance model that replaces `planner.affordance` (`--affordance`).

    The files it names are not opened here: `robollm.launch_check.check_launch` does that."""
    p = Path(path) if path is not None else default_config_path()
    cfg = load_dataclass(LaunchConfig, read_yaml(p) or {}, str(p))
    cfg.source = str(p)
    # `--perception NAME`, `--affordance NAME`: that entry with its default options
    if perception is not None:
        cfg.perception = _named_on_command_line("perception", perception)
    if affordance is not None:
        cfg.planner.affordance = _named_on_command_line("affordance", affordance)
    _resolve_choices(cfg)
    _resolve_paths(cfg, p)
    _check(cfg, str(p))
    return cfg


def _resolve_paths(cfg: LaunchConfig, file: Path) -> None:
    from robollm.llm.options import HFOptions

    cfg.sim.scene = relative_to(cfg.sim.scene, file)
    cfg.planner.prompt = relative_to(cfg.planner.prompt, file)
    cfg.sensing.sound_model = relative_to(cfg.sensing.sound_model, file)
    cfg.sensing.touch_calibration = relative_to(cfg.sensing.touch_calibration, file)
    llm = cfg.planner.llm.options
    if isinstance(llm, HFOptions):  # an http backend's `model` is a name the server knows
        llm.model = relative_to(llm.model, file)
        llm.adapter = relative_to(llm.adapter, file)


def resolve_choice(registry: Any, value: Any, source: str, key: str, name_key: str = "name") -> Choice:
    """`value` from a launch file (a name, or a mapping of the name and options) as a Choice."""
    if isinstance(value, Choice):
        return value
    if isinstance(value, str):
        name, options = value, {}
    elif isinstance(value, dict):
        options = dict(value)
        name = options.pop(name_key, None)
        if not isinstance(name, str):
            raise ConfigError(f"{source}: key '{key}.{name_key}' is required: the name of a "
                              f"{registry.kind} (one of {', '.join(registry.names())})")
    else:
        raise ConfigError(f"{source}: key '{key}' should be a {registry.kind} name or a mapping, "
                          f"got {value!r}")
    try:
        spec = registry.spec(name)
    except ConfigError:
        raise
    except Exception as e:  # an unknown name: the registry's message, with the key
        raise ConfigError(f"{source}: key '{key}{'.' + name_key if isinstance(value, dict) else ''}': {e}") from None
    return Choice(spec.name, registry.options(spec.id, options, source, key))


def _named_on_command_line(flag: str, name: str) -> str:
    """A registry name given as `--perception` or `--affordance`, checked with the flag
    named in the error rather than the launch file that did not say it."""
    from robollm.affordance.registry import affordance_registry
    from robollm.perception.registry import perception_registry

    registry = {"perception": perception_registry, "affordance": affordance_registry}[flag]()
    try:
        registry.spec(name)
    except Exception as e:
        raise ConfigError(f"--{flag} {name!r}: {e}") from None
    return name


def _resolve_choices(cfg: LaunchConfig) -> None:
    from robollm.affordance.registry import affordance_registry
    from robollm.llm.registry import llm_registry
    from robollm.perception.registry import perception_registry

    src = cfg.source
    cfg.planner.llm = resolve_choice(llm_registry(), cfg.planner.llm, src, "planner.llm", "backend")
    cfg.planner.affordance = resolve_choice(affordance_registry(), cfg.planner.affordance, src,
                                            "planner.affordance")
    cfg.perception = resolve_choice(perception_registry(), cfg.perception, src, "perception")


def _fail(source: str, key: str, expected: str, got: Any) -> NoReturn:
    raise ConfigError(f"{source}: key '{key}' should be {expected}, got {got!r}")


def _finite(values: list[float]) -> bool:
    return all(math.isfinite(v) for v in values)


# Per controller setting: whether a value is allowed and what the message says it should be.
CONTROLLER_RANGES: dict[str, tuple[Any, str]] = {
    "ee_speed": (lambda v: v > 0, "a positive speed in m/s"),
    "joint_speed_scale": (lambda v: 0 < v <= 1.0, "a fraction in (0, 1]"),
    "position_tolerance": (lambda v: v > 0, "a positive distance in m"),
    "settle_time": (lambda v: v >= 0, "a time of 0 s or more"),
    "timeout": (lambda v: v > 0, "a positive time in s"),
    "grasp_force": (lambda v: v > 0, "a positive force in N"),
}


def check_url(url: str, source: str, key: str) -> None:
    """An http:// or https:// URL with a host (a language-model server)."""
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        _fail(source, key, "an http:// or https:// URL with a host and a numeric port, "
              "like http://127.0.0.1:8000", url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _fail(source, key, "an http:// or https:// URL with a host, like http://127.0.0.1:8000", url)


def _check_llm_options(options: Any, source: str) -> None:
    """The built-in backends' options that have a range (a plug-in checks its own)."""
    from robollm.llm.options import HFOptions, HTTPOptions

    key = "planner.llm"
    if isinstance(options, HTTPOptions):
        check_url(options.url, source, f"{key}.url")
        if not (options.timeout > 0 and math.isfinite(options.timeout)):
            _fail(source, f"{key}.timeout", "a positive number of seconds", options.timeout)
        if options.retries < 0:
            _fail(source, f"{key}.retries", "0 or more", options.retries)
    elif isinstance(options, HFOptions):
        if options.threads is not None and options.threads < 1:
            _fail(source, f"{key}.threads", "at least 1 (or null for torch's default)", options.threads)
        for name in ("model", "adapter"):
            if getattr(options, name) == "":
                _fail(source, f"{key}.{name}", "a path or a name (or null)", "")


def _check(cfg: LaunchConfig, source: str) -> None:
    if not (cfg.tidy.prior_weight >= 0 and math.isfinite(cfg.tidy.prior_weight)):
        _fail(source, "tidy.prior_weight", "a number >= 0", cfg.tidy.prior_weight)
    if not math.isfinite(cfg.tidy.alpha):
        _fail(source, "tidy.alpha", "a finite number", cfg.tidy.alpha)
    if cfg.tidy.max_candidates < 1:
        _fail(source, "tidy.max_candidates", "at least 1", cfg.tidy.max_candidates)
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
            if not _finite(value):
                _fail(source, f"robot.arms.{name}.{key}", "finite numbers", value)
        if not math.isfinite(arm.base_yaw):
            _fail(source, f"robot.arms.{name}.base_yaw", "a finite angle in radians", arm.base_yaw)
        for axis, lo, hi in zip("xyz", arm.workspace_low, arm.workspace_high, strict=True):
            if not lo < hi:
                raise ConfigError(
                    f"{source}: keys 'robot.arms.{name}.workspace_low' and 'workspace_high': "
                    f"the low corner should be below the high one on every axis, got {axis} "
                    f"from {lo:g} to {hi:g}")
    for mode, per_arm in cfg.robot.controllers.items():
        if mode not in COORDINATION_MODES:
            raise ConfigError(
                f"{source}: unknown coordination mode 'robot.controllers.{mode}'; "
                f"expected one of {', '.join(COORDINATION_MODES)}"
            )
        for arm, controller in per_arm.items():
            if arm not in cfg.robot.arms:
                raise ConfigError(
                    f"{source}: unknown arm 'robot.controllers.{mode}.{arm}'; expected left or right"
                )
            for key, (allowed, expected) in CONTROLLER_RANGES.items():
                value = getattr(controller, key)
                if not (math.isfinite(value) and allowed(value)):
                    _fail(source, f"robot.controllers.{mode}.{arm}.{key}", expected, value)
    table = cfg.table
    for key in ("low", "high"):
        value = getattr(table, key)
        if len(value) != 2 or not _finite(value):
            _fail(source, f"table.{key}", "2 finite numbers [x, y]", value)
    for axis, lo, hi in zip("xy", table.low, table.high, strict=True):
        if not lo < hi:
            raise ConfigError(f"{source}: keys 'table.low' and 'table.high': the low corner should "
                              f"be below the high one on every axis, got {axis} from {lo:g} to {hi:g}")
    if not math.isfinite(table.height):
        _fail(source, "table.height", "a finite number (m)", table.height)
    for key in ("camera_width", "camera_height"):
        if getattr(cfg.sim, key) < 1:
            _fail(source, f"sim.{key}", "at least 1 pixel", getattr(cfg.sim, key))
    for key in ("scene", "prompt"):
        section = cfg.sim if key == "scene" else cfg.planner
        if not getattr(section, key).strip():
            _fail(source, f"{'sim' if key == 'scene' else 'planner'}.{key}", "a file or a name", "")
    if cfg.skills.executor not in ("physics", "symbolic"):
        raise ConfigError(
            f"{source}: key 'skills.executor' should be physics or symbolic, got {cfg.skills.executor!r}"
        )
    if cfg.sensing.style not in SENSING_STYLES:
        _fail(source, "sensing.style", " or ".join(SENSING_STYLES), cfg.sensing.style)
    for key in ("sound_model", "touch_calibration"):
        if getattr(cfg.sensing, key) == "":
            _fail(source, f"sensing.{key}", "a file (or null for the shipped one)", "")
    pl = cfg.planner
    _check_llm_options(pl.llm.options if isinstance(pl.llm, Choice) else None, source)
    if pl.scoring.length not in ("sum", "mean"):
        raise ConfigError(f"{source}: key 'planner.scoring.length' should be sum or mean, got {pl.scoring.length!r}")
    if pl.scoring.neutral not in ("prior", "no_task"):
        raise ConfigError(f"{source}: key 'planner.scoring.neutral' should be prior or no_task, "
                          f"got {pl.scoring.neutral!r}")
    for key in ("length_power", "alpha"):
        if not math.isfinite(getattr(pl.scoring, key)):
            _fail(source, f"planner.scoring.{key}", "a finite number", getattr(pl.scoring, key))
    t = pl.scoring.temperature
    if t is not None and not (math.isfinite(t) and t > 0):
        _fail(source, "planner.scoring.temperature", "a positive number, or null for the adapter's fitted one", t)
    if pl.num_examples < 0:
        raise ConfigError(f"{source}: key 'planner.num_examples' must be 0 (all) or more, "
                          f"got {pl.num_examples}")
    if pl.max_steps < 1 or pl.beam_width < 1 or pl.beam_depth < 1:
        raise ConfigError(f"{source}: keys 'planner.max_steps', 'planner.beam_width' and "
                          "'planner.beam_depth' must be at least 1")
    if pl.show_top < 0:
        _fail(source, "planner.show_top", "0 or more", pl.show_top)
    if not (0 < cfg.sim.timestep <= 0.02):
        raise ConfigError(
            f"{source}: key 'sim.timestep' should be in (0, 0.02] seconds, got {cfg.sim.timestep}"
        )
