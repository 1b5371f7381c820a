"""Strict loading of plain data (YAML) into dataclasses.

An unknown key, a value of the wrong type, a missing field or a missing file fails
with the file, the dotted key and what was expected. Launch files, scene files, suite
files and every registry entry's options go through here.

Keys are written as a user would look them up: `robot.arms.left.base[0]`,
`objects[2].size`; types as a user would read them: "a number", "a list of numbers".
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import dacite
import yaml

from robollm.errors import ConfigError

T = TypeVar("T")

_SCALARS = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}
_PLURALS = {str: "texts", int: "whole numbers", float: "numbers", bool: "true/false values"}


def describe_type(tp: Any) -> str:
    """A type as a user reads it: `list[float] | None` is "a list of numbers, or null"."""
    if tp is Any:
        return "anything"
    if tp is type(None):
        return "null"
    if tp in _SCALARS:
        return _SCALARS[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [describe_type(a) for a in args if a is not type(None)]
        text = " or ".join(options)
        return f"{text}, or null" if type(None) in args else text
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (list, tuple):
        item = args[0] if args else Any
        return f"a list of {_plural(item)}"
    if origin is dict:
        value = args[1] if len(args) == 2 else Any
        return "a mapping" if value is Any else f"a mapping of names to {_plural(value)}"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _plural(tp: Any) -> str:
    if tp in _PLURALS:
        return _PLURALS[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, tuple):
        return f"lists of {_plural(args[0] if args else Any)}"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "mappings" + describe_type(tp)[len("a mapping"):]
    return describe_type(tp)


def _shown(value: Any) -> str:
    """A value as it appears in a message: its repr, shortened; a mapping or list says so."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_dataclass(cls: type[T], data: Any, source: str, prefix: str = "") -> T:
    """Strictly build `cls` from plain data, with errors that name `source` and the key."""
    if not isinstance(data, dict):
        where = f"'{prefix}'" if prefix else "the top level"
        raise ConfigError(f"{source}: {where} must be a mapping, got {_kind(data)}")
    _check_value(cls, data, source, prefix)
    try:
        return dacite.from_dict(cls, data, config=dacite.Config(strict=True, type_hooks={float: _int_to_float}))
    except dacite.WrongTypeError as e:  # not expected after _check_value; kept as a safety net
        raise ConfigError(
            f"{source}: key '{_join(prefix, e.field_path)}' should be {describe_type(e.field_type)}, "
            f"got {_shown(e.value)}"
        ) from None
    except dacite.MissingValueError as e:
        raise ConfigError(f"{source}: missing required key '{_join(prefix, e.field_path)}'") from None
    except dacite.DaciteError as e:
        raise ConfigError(f"{source}: {e}") from None


def _int_to_float(value: Any) -> Any:
    """YAML writes 50 for 50.0; a float field takes it, a string still fails."""
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return _shown(value)


def _fits(tp: Any, value: Any) -> bool:
    """Whether `value` has the shape of `tp` at its top level (for choosing a union member)."""
    if tp is Any:
        return True
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    origin = typing.get_origin(tp)
    if origin in (list, tuple):
        return isinstance(value, list)
    if origin is dict or dataclasses.is_dataclass(tp):
        return isinstance(value, dict)
    if origin is typing.Literal:
        return value in typing.get_args(tp)
    return True  # a type this checker does not know: dacite decides


def _check_value(tp: Any, value: Any, source: str, path: str) -> None:
    """Check `value` against `tp` at every depth, so an error names the full key."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        for member in args:
            if _fits(member, value):
                _check_value(member, value, source, path)
                return
        _wrong(tp, value, source, path)
    if not _fits(tp, value):
        _wrong(tp, value, source, path)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = [f.name for f in dataclasses.fields(tp)]
        for key, item in value.items():
            if key not in hints or key not in fields:
                raise ConfigError(f"{source}: unknown key '{_join(path, str(key))}'; "
                                  f"expected one of {', '.join(fields)}{_under(path)}")
            _check_value(hints[key], item, source, _join(path, str(key)))
        for f in dataclasses.fields(tp):
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if required and f.init and f.name not in value:
                raise ConfigError(f"{source}: missing required key '{_join(path, f.name)}'")
    elif origin in (list, tuple) and args:
        item_tp = args[0]
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                _wrong(tp, value, source, path, f"{len(args)} values")
            for i, (member, item) in enumerate(zip(args, value, strict=True)):
                _check_value(member, item, source, f"{path}[{i}]")
            return
        for i, item in enumerate(value):
            _check_value(item_tp, item, source, f"{path}[{i}]")
    elif origin is dict and len(args) == 2:
        for key, item in value.items():
            if not _fits(args[0], key):
                raise ConfigError(f"{source}: key '{_join(path, str(key))}': the name {key!r} "
                                  f"should be {describe_type(args[0])}")
            _check_value(args[1], item, source, _join(path, str(key)))


def _wrong(tp: Any, value: Any, source: str, path: str, expected: str | None = None) -> typing.NoReturn:
    where = f"key '{path}'" if path else "the top level"
    hint = ""
    if isinstance(value, str) and _fits(tp, 1.0) and not _fits(tp, value):
        try:
            float(value)
            hint = " (YAML reads a number without a dot, like 1e-3, as text: write 1.0e-3)"
        except ValueError:
            pass
    raise ConfigError(f"{source}: {where} should be {expected or describe_type(tp)}, "
                      f"got {_kind(value)}{hint}")


def _join(prefix: str, path: str | None) -> str:
    return ".".join(p for p in (prefix, path) if p)


def _under(prefix: str) -> str:
    return f" under '{prefix}'" if prefix else ""


def check_keys(data: dict, allowed: Sequence[str], where: str) -> None:
    """For mappings read by hand rather than into a dataclass: the first key not in
    `allowed` fails, named with the keys that were expected (in the order given)."""
    for key in data:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}; expected {', '.join(allowed)}")


def read_yaml(path: str | Path) -> Any:
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{p} is a folder, expected a file")
    if not p.is_file():
        raise ConfigError(f"{p}: no such file")
    try:
        return yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{p}:{where} is not valid YAML ({getattr(e, 'problem', e)})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot be read ({getattr(e, 'strerror', None) or e})") from None


def looks_like_path(value: str, base: Path) -> bool:
    """Whether a launch or suite file's value names a file rather than a shipped thing:
    it has a path separator, a file suffix robollm reads, or exists beside the file."""
    return ("/" in value or "\\" in value or value.startswith("~")
            or Path(value).suffix.lower() in (".yaml", ".yml", ".txt", ".gguf", ".json", ".safetensors")
            or (base / value).exists())


def relative_to(value: str | None, file: str | Path) -> str | None:
    """`value` from the file `file`: a relative path is read from that file's folder; a name
    (`default`, `saycan_scene`, `saycan-hands-smollm2`) and an absolute path stay as they are."""
    if not isinstance(value, str) or not value:
        return value
    base = Path(file).parent
    if not looks_like_path(value, base):
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)
