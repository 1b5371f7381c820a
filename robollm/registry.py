"""Explicit, versioned registries with lazy entry points and typed options.

Names look like `pick-v0`. An entry point is a `"module:attribute"` string that is
imported only when the entry is made, so listing what exists costs nothing and a
broken plug-in only fails when used. Nothing registers itself on import: the
registrations live in plain functions that callers invoke.

An entry may name an options dataclass (also lazily, `"module:Class"`). Options given
in a launch file are then checked strictly against it (unknown keys, wrong types)
before anything is built, and the factory receives them as `options=`.

Third-party packages add entries through a Python entry-point group (for example
`robollm.skills`): the entry point's name is the id and its value the factory, as in
`[project.entry-points."robollm.skills"] wipe-v0 = "mypkg.wipe:Wipe"`. Groups are
read when a registry is built; nothing of the plug-in is imported until it is made.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from robollm.errors import ConfigError, UserError
from robollm.schema import load_dataclass

T = TypeVar("T")
_ID = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)-v(?P<version>\d+)$")

# Entry-point groups third-party packages use to plug in.
PLUGIN_GROUPS = {
    "skill": "robollm.skills",
    "robot driver": "robollm.drivers",
    "perception": "robollm.perception",
    "affordance model": "robollm.affordance",
    "language-model backend": "robollm.llm",
}


@dataclass(frozen=True)
class Spec:
    id: str
    entry_point: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    options: str | None = None  # "module:Class" of the entry's options dataclass
    plugin: str | None = None  # the distribution that contributed it, if any

    @property
    def name(self) -> str:
        return _ID.match(self.id).group("name")  # type: ignore[union-attr]

    @property
    def version(self) -> int:
        return int(_ID.match(self.id).group("version"))  # type: ignore[union-attr]

    def options_class(self) -> type | None:
        return load_entry_point(self.options) if self.options else None


def load_entry_point(entry_point: str) -> Any:
    module_name, _, attr = entry_point.partition(":")
    if not module_name or not attr:
        raise ValueError(f"entry point {entry_point!r} must look like 'package.module:Name'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """A table of `name-vN` ids; `make("pick")` takes the newest version of `pick`."""

    def __init__(self, kind: str, *, plugins: bool = True) -> None:
        self.kind = kind
        self._specs: dict[str, Spec] = {}
        self._plugins_loaded = not plugins or kind not in PLUGIN_GROUPS

    def register(self, id: str, entry_point: str, *, options: str | None = None,
                 plugin: str | None = None, **kwargs: Any) -> Spec:
        if not _ID.match(id):
            raise ValueError(f"{self.kind} id {id!r} must look like 'name-v0'")
        if id in self._specs:
            raise ValueError(f"{self.kind} {id!r} is already registered")
        spec = Spec(id, entry_point, dict(kwargs), options, plugin)
        self._specs[id] = spec
        return spec

    def _load_plugins(self) -> None:
        """Entries from installed packages' entry points; a built-in id is never replaced."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=PLUGIN_GROUPS[self.kind]):
            dist = ep.dist.name if ep.dist is not None else "?"
            if not _ID.match(ep.name):
                raise UserError(f"package {dist!r} registers {self.kind} {ep.name!r} in entry-point "
                                f"group {PLUGIN_GROUPS[self.kind]!r}; ids must look like 'name-v0'")
            if ep.name not in self._specs:
                self.register(ep.name, ep.value, plugin=dist)

    def spec(self, name_or_id: str) -> Spec:
        self._load_plugins()
        if name_or_id in self._specs:
            return self._specs[name_or_id]
        versions = [s for s in self._specs.values() if s.name == name_or_id]
        if not versions:
            known = ", ".join(self.names()) or "none"
            close = difflib.get_close_matches(str(name_or_id), self.names() + self.ids(), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UserError(f"unknown {self.kind} {name_or_id!r}{hint} (expected one of: {known})")
        return max(versions, key=lambda s: s.version)

    def options(self, name_or_id: str, values: Mapping[str, Any] | None, source: str,
                key: str) -> Any:
        """The entry's options dataclass built strictly from `values` (None: defaults)."""
        spec = self.spec(name_or_id)
        cls = spec.options_class()
        if cls is None:
            if values:
                raise ConfigError(f"{source}: key '{key}': {self.kind} {spec.id!r} takes no options, "
                                  f"got {', '.join(sorted(values))}")
            return None
        return load_dataclass(cls, dict(values or {}), source, key)

    def make(self, name_or_id: str, **kwargs: Any) -> T:
        spec = self.spec(name_or_id)
        try:
            factory: Callable[..., T] = load_entry_point(spec.entry_point)
        except (ImportError, AttributeError, ValueError) as e:
            origin = f" (from package {spec.plugin!r})" if spec.plugin else ""
            raise UserError(f"{self.kind} {spec.id!r}{origin}: its entry point "
                            f"{spec.entry_point!r} cannot be loaded ({e})") from None
        return factory(**{**spec.kwargs, **kwargs})

    def names(self) -> list[str]:
        """Unversioned names, each once."""
        self._load_plugins()
        return sorted({s.name for s in self._specs.values()})

    def ids(self) -> list[str]:
        self._load_plugins()
        return sorted(self._specs)

    def __contains__(self, name_or_id: str) -> bool:
        self._load_plugins()
        return name_or_id in self._specs or any(s.name == name_or_id for s in self._specs.values())

    def __iter__(self) -> Iterator[Spec]:
        self._load_plugins()
        return iter(sorted(self._specs.values(), key=lambda s: s.id))

    def __len__(self) -> int:
        self._load_plugins()
        return len(self._specs)
