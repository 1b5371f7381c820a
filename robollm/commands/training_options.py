"""What every `robollm train ...` job checks the same way: the device and the output folder."""

from __future__ import annotations

from pathlib import Path

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


def check_out(out: Path) -> None:
    """Refuse a folder that holds anything; create it now, so that an unwritable place
    fails before training rather than after."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"--out {str(out)!r} already exists and is not an empty folder; "
                        "choose a new folder (nothing was overwritten)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"--out {str(out)!r}: cannot create the folder ({error.strerror})") from None
