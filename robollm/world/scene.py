"""Scene specifications: which objects are on the table, in a form sim and real share.

A scene file lists objects by type, colour, material and size, optionally with a
name, a table region or an exact pose. Objects are named `<colour>_<type>` unless a
name is given. The vocabulary below is what the planner and perception talk about;
the simulated world must be able to build every entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robollm.errors import ConfigError
from robollm.schema import load_dataclass, read_yaml

OBJECT_TYPES = ("block", "bowl", "plate", "cup", "tray", "box")
CONTAINER_TYPES = ("bowl", "cup", "tray", "box")
SUPPORT_TYPES = ("block", "plate", "tray", "box")  # things another object can stand on
TWO_HANDED_TYPES = ("tray", "box")
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.12, 0.10),
    "green": (0.15, 0.65, 0.20),
    "blue": (0.12, 0.30, 0.85),
    "yellow": (0.95, 0.85, 0.10),
    "orange": (0.98, 0.50, 0.05),
    "purple": (0.55, 0.20, 0.70),
    "pink": (0.95, 0.45, 0.65),
    "cyan": (0.10, 0.80, 0.85),
    "white": (0.92, 0.92, 0.92),
    "black": (0.08, 0.08, 0.08),
    "grey": (0.50, 0.50, 0.52),
    "brown": (0.50, 0.32, 0.16),
}
MATERIALS = ("metal", "wood", "plastic", "glass", "ceramic", "foam")
REGIONS = ("left", "middle", "right")

# Default object sizes in metres: a block's edge, the diameter of round things, the
# length of a tray or box.
DEFAULT_SIZE = {"block": 0.045, "bowl": 0.15, "plate": 0.17, "cup": 0.065, "tray": 0.34, "box": 0.30}
SIZE_RANGE = {"block": (0.03, 0.06), "bowl": (0.10, 0.20), "plate": (0.12, 0.22),
              "cup": (0.05, 0.10), "tray": (0.26, 0.40), "box": (0.22, 0.36)}
DEFAULT_MATERIAL = {"block": "wood", "bowl": "ceramic", "plate": "ceramic", "cup": "ceramic",
                    "tray": "metal", "box": "wood"}


@dataclass
class ObjectSpec:
    type: str
    colour: str = "grey"
    material: str | None = None
    size: float | None = None
    name: str | None = None
    region: str | None = None
    pose: list[float] | None = None  # [x, y] or [x, y, yaw]; z comes from the table

    @property
    def object_name(self) -> str:
        return self.name or f"{self.colour}_{self.type}"

    @property
    def resolved_material(self) -> str:
        return self.material or DEFAULT_MATERIAL[self.type]

    @property
    def resolved_size(self) -> float:
        return self.size if self.size is not None else DEFAULT_SIZE[self.type]


@dataclass
class SceneSpec:
    objects: list[ObjectSpec] = field(default_factory=list)
    source: str = "<inline>"

    def names(self) -> list[str]:
        return [o.object_name for o in self.objects]


def _choices(values: Any) -> str:
    return ", ".join(values)


def validate_scene(scene: SceneSpec) -> SceneSpec:
    src = scene.source
    seen: set[str] = set()
    for i, obj in enumerate(scene.objects):
        key = f"objects[{i}]"
        if obj.type not in OBJECT_TYPES:
            raise ConfigError(f"{src}: {key}.type {obj.type!r} is not an object type; expected one of {_choices(OBJECT_TYPES)}")
        if obj.colour not in COLOURS:
            raise ConfigError(f"{src}: {key}.colour {obj.colour!r} is not a colour; expected one of {_choices(COLOURS)}")
        if obj.material is not None and obj.material not in MATERIALS:
            raise ConfigError(f"{src}: {key}.material {obj.material!r} is not a material; expected one of {_choices(MATERIALS)}")
        if obj.region is not None and obj.region not in REGIONS:
            raise ConfigError(f"{src}: {key}.region {obj.region!r} is not a region; expected one of {_choices(REGIONS)}")
        if obj.size is not None:
            lo, hi = SIZE_RANGE[obj.type]
            if not lo <= obj.size <= hi:
                raise ConfigError(f"{src}: {key}.size {obj.size} is out of range for a {obj.type}; expected {lo} to {hi} m")
        if obj.pose is not None and len(obj.pose) not in (2, 3):
            raise ConfigError(f"{src}: {key}.pose should be [x, y] or [x, y, yaw], got {obj.pose!r}")
        if obj.pose is not None and obj.region is not None:
            raise ConfigError(f"{src}: {key} gives both a pose and a region; give one")
        name = obj.object_name
        if name in seen:
            raise ConfigError(f"{src}: {key} is named {name!r} like an earlier object; give it a distinct 'name'")
        if name in REGIONS or name in ("left", "right", "done", "table"):
            raise ConfigError(f"{src}: {key} may not be named {name!r}: that word names a region or arm")
        seen.add(name)
    return scene


def scene_from_dict(data: Any, source: str) -> SceneSpec:
    scene = load_dataclass(SceneSpec, data, source)
    scene.source = source
    return validate_scene(scene)


def builtin_scene_dir() -> Path:
    from importlib.resources import files

    return Path(str(files("robollm.sim"))) / "scenes"


def load_scene(path_or_name: str | Path) -> SceneSpec:
    """A scene file, or the name of one that ships with robollm (e.g. `default`)."""
    p = Path(path_or_name)
    if not p.suffix and not p.exists():
        builtin = builtin_scene_dir() / f"{p.name}.yaml"
        if not builtin.is_file():
            known = ", ".join(sorted(f.stem for f in builtin_scene_dir().glob("*.yaml")))
            raise ConfigError(f"scene {str(path_or_name)!r}: no such file or built-in scene; built-in scenes: {known}")
        p = builtin
    return scene_from_dict(read_yaml(p) or {}, str(p))
