"""Scene specifications: which objects are on the table, in a form sim and real share.

A scene file lists objects by type, colour, material and size, optionally with a
name, a table region or an exact pose. Objects are named `<colour>_<type>` unless a
name is given. The vocabulary below is what the planner and perception talk about;
the simulated world must be able to build every entry.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robollm.errors import ConfigError
from robollm.schema import load_dataclass, read_yaml
from robollm.world.predicates import KEYWORDS

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
# Other spellings of a colour; a scene may use them, the scene's names use the key above.
COLOUR_SPELLINGS = {"gray": "grey"}
MATERIALS = ("metal", "wood", "plastic", "glass", "ceramic", "foam")
REGIONS = ("left", "middle", "right")

# Default object sizes in metres: a block's edge, the diameter of round things, the
# length of a tray or box.
DEFAULT_SIZE = {"block": 0.045, "bowl": 0.15, "plate": 0.17, "cup": 0.065, "tray": 0.34, "box": 0.30}
SIZE_RANGE = {"block": (0.03, 0.06), "bowl": (0.10, 0.20), "plate": (0.12, 0.22),
              "cup": (0.05, 0.10), "tray": (0.26, 0.40), "box": (0.22, 0.36)}
DEFAULT_MATERIAL = {"block": "wood", "bowl": "ceramic", "plate": "ceramic", "cup": "ceramic",
                    "tray": "metal", "box": "wood"}
# What plans and predicates can spell as an object name, and words they use otherwise.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
RESERVED_NAMES = frozenset({*REGIONS, "left", "right", "done", "table"})
# Objects with fixed poses may not overlap by more than this (m), unless the smaller one
# stands in or on a larger holder (a block in a tray).
OVERLAP_TOLERANCE = 0.003
HOLDER_TYPES = ("bowl", "cup", "plate", "tray", "box")


def canonical_colour(word: str) -> str:
    """The colour name the scene uses for a spelling (`gray` -> `grey`)."""
    return COLOUR_SPELLINGS.get(word, word)


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


def _colour_choices() -> str:
    spelled = {v: k for k, v in COLOUR_SPELLINGS.items()}
    return ", ".join(f"{c} (or {spelled[c]})" if c in spelled else c for c in COLOURS)


def validate_scene(scene: SceneSpec) -> SceneSpec:
    src = scene.source
    seen: set[str] = set()
    for i, obj in enumerate(scene.objects):
        key = f"objects[{i}]"
        if obj.type not in OBJECT_TYPES:
            raise ConfigError(f"{src}: {key}.type {obj.type!r} is not an object type; expected one of {_choices(OBJECT_TYPES)}")
        obj.colour = canonical_colour(obj.colour)
        if obj.colour not in COLOURS:
            raise ConfigError(f"{src}: {key}.colour {obj.colour!r} is not a colour; expected one of {_colour_choices()}")
        if obj.material is not None and obj.material not in MATERIALS:
            raise ConfigError(f"{src}: {key}.material {obj.material!r} is not a material; expected one of {_choices(MATERIALS)}")
        if obj.region is not None and obj.region not in REGIONS:
            raise ConfigError(f"{src}: {key}.region {obj.region!r} is not a region; expected one of {_choices(REGIONS)}")
        if obj.size is not None:
            lo, hi = SIZE_RANGE[obj.type]
            if not lo <= obj.size <= hi:
                raise ConfigError(f"{src}: {key}.size {obj.size} is out of range for a {obj.type}; expected {lo} to {hi} m")
        name = obj.name if obj.name is not None else obj.object_name
        if not NAME_PATTERN.fullmatch(name):
            raise ConfigError(f"{src}: {key}.name {name!r} cannot be written in plans and predicates; "
                              "expected lower-case letters, digits and '_', starting with a letter "
                              "(like 'red_block')")
        if name in RESERVED_NAMES:
            raise ConfigError(f"{src}: {key} may not be named {name!r}: that word names a region or arm")
        if name in KEYWORDS:
            raise ConfigError(f"{src}: {key} may not be named {name!r}: that word is part of success "
                              f"predicates ({', '.join(sorted(KEYWORDS))})")
        if name in seen:
            raise ConfigError(f"{src}: {key} is named {name!r} like an earlier object; give it a distinct 'name'")
        seen.add(name)
        if obj.pose is not None:
            if len(obj.pose) not in (2, 3):
                raise ConfigError(f"{src}: {key}.pose ({name}) should be [x, y] or [x, y, yaw], got {obj.pose!r}")
            if not all(math.isfinite(v) for v in obj.pose):
                raise ConfigError(f"{src}: {key}.pose ({name}) should be finite numbers, got {obj.pose!r}")
            if obj.region is not None:
                raise ConfigError(f"{src}: {key} ({name}) gives both a pose and a region; give one")
    _check_overlaps(scene)
    return scene


def _check_overlaps(scene: SceneSpec) -> None:
    """Objects with fixed poses must not stand in each other, except a smaller object in or
    on a holder (a bowl, cup, plate, tray or box): that is how a scene starts with a block
    in a tray. A footprint is taken as the circle inside it (half the object's size), so
    only a certain overlap is refused."""
    fixed = [(i, o) for i, o in enumerate(scene.objects) if o.pose is not None]
    for n, (i, a) in enumerate(fixed):
        for j, b in fixed[n + 1:]:
            big, small = (a, b) if a.resolved_size >= b.resolved_size else (b, a)
            if big.type in HOLDER_TYPES and small.resolved_size < big.resolved_size:
                continue
            apart = math.dist(a.pose[:2], b.pose[:2])
            need = (a.resolved_size + b.resolved_size) / 2
            if apart < need - OVERLAP_TOLERANCE:
                raise ConfigError(
                    f"{scene.source}: objects[{j}].pose ({b.object_name}) overlaps objects[{i}] "
                    f"({a.object_name}): their centres are {apart * 1000:.0f} mm apart, their "
                    f"footprints need {need * 1000:.0f} mm")


def check_on_table(scene: SceneSpec, low: list[float], high: list[float], where: str = "") -> None:
    """Every fixed pose lies on the table (x, y between the table's `low` and `high`
    corners); `where` says which file sets the table."""
    for i, obj in enumerate(scene.objects):
        if obj.pose is None:
            continue
        x, y = obj.pose[0], obj.pose[1]
        if not (low[0] <= x <= high[0] and low[1] <= y <= high[1]):
            table = f" (table.low and table.high{' of ' + where if where else ''})"
            raise ConfigError(
                f"{scene.source}: objects[{i}].pose ({obj.object_name}) [{x:g}, {y:g}] is off the table; "
                f"expected x in {low[0]:g} to {high[0]:g} and y in {low[1]:g} to {high[1]:g}{table}")


def scene_from_dict(data: Any, source: str) -> SceneSpec:
    scene = load_dataclass(SceneSpec, data, source)
    scene.source = source
    return validate_scene(scene)


def builtin_scene_dir() -> Path:
    from importlib.resources import files

    return Path(str(files("robollm.sim"))) / "scenes"


def scene_path(path_or_name: str | Path) -> Path:
    """The file of a scene: a path, or the name of a scene that ships with robollm."""
    p = Path(path_or_name)
    if not p.suffix and not p.exists():
        builtin = builtin_scene_dir() / f"{p.name}.yaml"
        if not builtin.is_file():
            known = ", ".join(sorted(f.stem for f in builtin_scene_dir().glob("*.yaml")))
            raise ConfigError(f"scene {str(path_or_name)!r}: no such file or built-in scene; built-in scenes: {known}")
        return builtin
    if p.is_dir():
        raise ConfigError(f"scene {str(path_or_name)!r} is a folder, expected a file")
    if not p.is_file():
        raise ConfigError(f"scene {str(path_or_name)!r}: no such file")
    return p


def load_scene(path_or_name: str | Path) -> SceneSpec:
    """A scene file, or the name of one that ships with robollm (e.g. `default`)."""
    p = scene_path(path_or_name)
    return scene_from_dict(read_yaml(p) or {}, str(p))
