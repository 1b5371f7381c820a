"""Work around a torchvision wheel that does not match the installed torch.

On the reference machines torch is the CPU wheel while the registry's torchvision 0.28.0 is
a CUDA build. Its native extension then fails to load (silently), and importing torchvision
dies in ``_meta_registrations`` with ``operator torchvision::nms does not exist``. Because
transformers imports torchvision whenever it is installed, and open_clip imports it directly,
that one failure takes down every model in the project.

Defining the two operator schemas that ``_meta_registrations`` needs (``nms`` and ``qnms``)
before the first import is enough: torchvision then imports, and only its compiled detection
ops (which nothing here uses) stay unavailable. Call :func:`ensure_torchvision` before
importing transformers or open_clip.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path

import torch

_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}

# The Library object must stay alive: when it is garbage collected, torch removes the
# schemas it defined again.
_library: torch.library.Library | None = None
_lock = threading.Lock()


def _has_schema(name: str) -> bool:
    return bool(torch._C._jit_get_schemas_for_operator(f"torchvision::{name}"))


def _try_load_native_ops(package_dir: Path) -> None:
    """Load torchvision's own extension the way torchvision itself would.

    When it loads (a matching build), the real schemas exist and no stand-ins are needed;
    defining stand-ins first would make the real registration fail instead.
    """
    for candidate in sorted(package_dir.glob("_C*")):
        if candidate.suffix in {".so", ".pyd", ".dylib"}:
            try:
                torch.ops.load_library(str(candidate))
            except (OSError, RuntimeError, ImportError):
                pass
            return


def ensure_torchvision() -> bool:
    """Make ``import torchvision`` work on a CPU torch; returns True when stand-ins were added.

    Idempotent and cheap after the first call. Does nothing when torchvision is absent,
    already imported, or its native operators load normally.
    """
    global _library
    with _lock:
        if _library is not None or "torchvision" in sys.modules:
            return False
        spec = importlib.util.find_spec("torchvision")
        if spec is None or not spec.submodule_search_locations:
            return False
        if _has_schema("nms"):
            return False
        _try_load_native_ops(Path(next(iter(spec.submodule_search_locations))))
        missing = [name for name in _SCHEMAS if not _has_schema(name)]
        if not missing:
            return False
        library = torch.library.Library("torchvision", "FRAGMENT")
        for name in missing:
            library.define(_SCHEMAS[name])
        _library = library
        return True
