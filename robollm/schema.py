"""Strict loading of plain data (YAML) into dataclasses.

An unknown key, a value of the wrong type, a missing field or a missing file fails
with the file, the dotted key and what was expected. Launch files, scene files, suite
files and every registry entry's options go through here.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar

import dacite
import yaml

from robollm.errors import ConfigError

T = TypeVar("T")


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
