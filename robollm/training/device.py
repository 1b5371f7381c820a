"""Which torch device a training command runs on: one check shared by every `robollm train`."""

from __future__ import annotations

from robollm.errors import UserError


def pick_device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise UserError(f"--device {name!r}: expected cpu, cuda or auto")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {name}: torch sees no CUDA device here; use --device cpu")
    return name
