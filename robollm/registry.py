"""Explicit, versioned registries with lazy entry points.

Names look like `pick-v0`. An entry point is a `"module:attribute"` string that is
imported only when the entry is made, so listing what exists costs nothing and a
broken plug-in only fails when used. Nothing registers itself on import: the
registrations live in plain functions that callers invoke.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from robollm.errors import UserError

T = TypeVar("T")
_ID = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)-v(?P<version>\d+)$")


@dataclass(frozen=True)
class Spec:
    id: str
    entry_point: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return _ID.match(self.id).group("name")  # type: ignore[union-attr]

    @property
    def version(self) -> int:
        return int(_ID.match(self.id).group("version"))  # type: ignore[union-attr]


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

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._specs: dict[str, Spec] = {}

    def register(self, id: str, entry_point: str, **kwargs: Any) -> Spec:
        if not _ID.match(id):
            raise ValueError(f"{self.kind} id {id!r} must look like 'name-v0'")
        if id in self._specs:
            raise ValueError(f"{self.kind} {id!r} is already registered")
        spec = Spec(id, entry_point, dict(kwargs))
        self._specs[id] = spec
        return spec

    def spec(self, name_or_id: str) -> Spec:
        if name_or_id in self._specs:
            return self._specs[name_or_id]
        versions = [s for s in self._specs.values() if s.name == name_or_id]
        if not versions:
            known = ", ".join(self.names()) or "none"
            raise UserError(f"unknown {self.kind} {name_or_id!r}; expected one of: {known}")
        return max(versions, key=lambda s: s.version)

    def make(self, name_or_id: str, **kwargs: Any) -> T:
        spec = self.spec(name_or_id)
        factory: Callable[..., T] = load_entry_point(spec.entry_point)
        return factory(**{**spec.kwargs, **kwargs})

    def names(self) -> list[str]:
        """Unversioned names, each once."""
        return sorted({s.name for s in self._specs.values()})

    def ids(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, name_or_id: str) -> bool:
        return name_or_id in self._specs or any(s.name == name_or_id for s in self._specs.values())

    def __iter__(self) -> Iterator[Spec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.id))

    def __len__(self) -> int:
        return len(self._specs)
