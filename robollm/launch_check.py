"""Everything a launch file names, checked before anything heavy is loaded.

`load_config` checks the file itself (keys, types, ranges, URLs). `check_launch` then
opens what the file points at: the scene (and that its fixed poses are on the table),
the skills library, the robot driver's own options, and for planning the prompt, the
language model's files and its adapter, without loading any weights. `robollm
check-config` and `robollm run` both call it, so a launch file that checks ok starts,
and one that does not fails the same way in both, with the file, the key and what was
expected.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from robollm.config import LaunchConfig
from robollm.errors import ConfigError, UserError
from robollm.world.scene import SceneSpec, check_on_table, scene_from_dict, scene_path


@dataclass(frozen=True)
class LaunchCheck:
    """What the check found, for the run to use and for `check-config` to report."""

    scene: SceneSpec
    driver: str  # the driver's id, e.g. pybullet-v0
    skills: list[str]  # the skill library's names
    prompt: str | None = None  # the prompt file, when the planner was checked
    model: str | None = None  # the language model's files (hf backend), when checked
    adapter: str | None = None


def check_launch(config: LaunchConfig, *, scene: str | None = None, planner: bool = True) -> LaunchCheck:
    """Check what `config` names; `scene` is a `--scene` given instead of `sim.scene`.

    `planner=False` leaves out the planner's files (a scripted `--plan` never loads them).
    """
    spec = _check_scene(config, scene)
    driver, factory = _check_driver(config)
    _check_perception(config, factory)
    _check_sensing(config)
    skills = _check_skills(config)
    if not planner:
        return LaunchCheck(spec, driver, skills)
    prompt = _check_prompt(config)
    model, adapter = _check_language_model(config, prompt)
    return LaunchCheck(spec, driver, skills, prompt.source, model, adapter)


def _in(config: LaunchConfig, key: str, error: Exception | str) -> ConfigError:
    return ConfigError(f"{config.source}: key '{key}': {error}")


def _check_sensing(config: LaunchConfig) -> None:
    """The sound model and touch calibration a launch file names must exist (nothing is loaded)."""
    for key in ("sound_model", "touch_calibration"):
        value = getattr(config.sensing, key)
        if value is not None and not Path(value).expanduser().is_file():
            raise _in(config, f"sensing.{key}", f"no such file {value!r} (null uses the shipped one)")


def _check_scene(config: LaunchConfig, override: str | None) -> SceneSpec:
    from robollm.schema import read_yaml

    if override is not None and not override.strip():
        raise UserError("--scene is empty; give a scene file or the name of a built-in scene")
    value = override if override is not None else config.sim.scene
    try:
        path = scene_path(value)
    except ConfigError as e:
        if override is not None:
            raise ConfigError(f"--scene: {e}") from None
        raise _in(config, "sim.scene", e) from None
    spec = scene_from_dict(read_yaml(path) or {}, str(path))
    check_on_table(spec, config.table.low, config.table.high, config.source)
    return spec


def _check_driver(config: LaunchConfig) -> tuple[str, object]:
    """The driver's id and its factory (usually its class), after its own option check."""
    from robollm.drivers import robot_registry
    from robollm.registry import load_entry_point
    from robollm.robot.base import Robot

    try:
        spec = robot_registry().spec(config.robot.driver)
    except UserError as e:
        raise _in(config, "robot.driver", e) from None
    try:
        driver = load_entry_point(spec.entry_point)
    except (ImportError, AttributeError, ValueError) as e:
        raise _in(config, "robot.driver", f"driver {spec.id!r} cannot be loaded ({e})") from None
    if isinstance(driver, type) and issubclass(driver, Robot):
        driver.check_config(config)  # refuses robot.options the driver would ignore
    return spec.id, driver


def _check_perception(config: LaunchConfig, driver: object) -> None:
    """Ground truth needs a driver that knows the true scene (a simulator), which the
    session would otherwise find out only once the driver is built."""
    from robollm.perception.ground_truth import GroundTruthPerception
    from robollm.perception.registry import perception_registry
    from robollm.registry import load_entry_point
    from robollm.robot.capabilities import GroundTruth

    try:
        perception = load_entry_point(perception_registry().spec(config.perception.name).entry_point)
    except (ImportError, AttributeError, ValueError) as e:
        raise _in(config, "perception", f"{config.perception.name!r} cannot be loaded ({e})") from None
    from robollm.perception.base import Perception

    if isinstance(perception, type) and issubclass(perception, Perception):
        perception.check_config(config)
    if not (isinstance(perception, type) and issubclass(perception, GroundTruthPerception)):
        return
    if isinstance(driver, type) and not issubclass(driver, GroundTruth):
        what = (GroundTruth.__doc__ or "").strip().splitlines()[0].rstrip(".")
        raise ConfigError(f"{config.source}: key 'perception' = {config.perception.name} needs a driver "
                          f"that offers GroundTruth ({what}); the {config.robot.driver!r} driver does not")


def _check_skills(config: LaunchConfig) -> list[str]:
    from robollm.session import skill_registry

    return skill_registry(config).names()


def _check_prompt(config: LaunchConfig):
    from robollm.planner.prompt import load_prompt

    value = config.planner.prompt
    if Path(value).expanduser().is_dir():
        raise _in(config, "planner.prompt", f"{value} is a folder, expected a file")
    try:
        return load_prompt(value)
    except ConfigError as e:
        raise _in(config, "planner.prompt", e) from None


def _check_language_model(config: LaunchConfig, prompt) -> tuple[str | None, str | None]:
    """The hf backend's model and adapter files, found but not loaded."""
    from robollm.llm.options import HFOptions

    options = config.planner.llm.options
    if not isinstance(options, HFOptions):
        return None, None
    from robollm.llm.hf_loading import DTYPES
    from robollm.llm.model_files import resolve_model

    if options.dtype not in DTYPES:
        raise _in(config, "planner.llm.dtype", f"unknown dtype {options.dtype!r}; expected one of "
                  f"{', '.join(DTYPES)}")
    try:
        model = resolve_model(options.model).label
    except UserError as e:
        raise _in(config, "planner.llm.model", e) from None
    if options.adapter is None:
        return model, None
    from robollm.llm.adapters import resolve_adapter
    from robollm.planner.saycan import check_adapter_prompt

    if Path(options.adapter).expanduser().is_file():
        raise _in(config, "planner.llm.adapter", f"{options.adapter} is a file, expected a folder "
                  "(a LoRA adapter: adapter_config.json, adapter_model.safetensors)")
    try:
        adapter = resolve_adapter(options.adapter)
    except ConfigError as e:
        raise _in(config, "planner.llm.adapter", e) from None
    try:
        check_adapter_prompt(options.adapter, prompt, config.skills.library)
    except ConfigError as e:  # its message names both keys
        raise ConfigError(f"{config.source}: {e}") from None
    return model, str(adapter)


def check_display() -> None:
    """PyBullet's window needs an X display on Linux; without one it exits the process
    silently, so say so before it starts."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise UserError("--gui needs a display (DISPLAY is not set)")
