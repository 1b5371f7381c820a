"""Load a transformers causal LM strictly from local files.

Kept apart from the scoring code so that the one-time GGUF conversion and the normal load
go through the same, offline-only path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from robollm.errors import UserError

if TYPE_CHECKING:
    from robollm.llm.model_files import ModelSource
from robollm.util.compat import ensure_torchvision

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def parse_dtype(name: str) -> torch.dtype:
    try:
        return DTYPES[name]
    except KeyError:
        raise UserError(f"unknown dtype {name!r}; choose one of {', '.join(DTYPES)}") from None


def load_pretrained(source: ModelSource, dtype: torch.dtype) -> tuple[Any, Any]:
    """Return ``(model, tokenizer)`` in eval mode; never contacts a model hub."""
    ensure_torchvision()
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # The loading bar of a 2-second local load is noise in a plan trace.
    transformers.utils.logging.disable_progress_bar()

    # transformers renamed torch_dtype to dtype in 4.56; accept both generations.
    major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
    dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    extra: dict[str, Any] = {"local_files_only": True}
    if source.gguf_file:
        extra["gguf_file"] = source.gguf_file
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(source.folder), **extra)
        model = AutoModelForCausalLM.from_pretrained(
            str(source.folder), **extra, **{dtype_key: dtype}
        )
    except (OSError, ValueError, KeyError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise UserError(f"cannot load language model {source.label}: {first_line}") from error
    model.eval()
    return model, tokenizer
