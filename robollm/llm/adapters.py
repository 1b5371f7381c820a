"""LoRA adapters for the planner's language model: find them, read their record, and
merge them into the base weights at load time (W += alpha/r * B A), so scoring costs
exactly what the base model costs.

An adapter is a folder with ``adapter_config.json`` and ``adapter_model.safetensors``
in peft's layout, plus ``robollm-adapter.json`` recording the base model and prompt it was
trained with (``robollm train planner-lm`` makes one: :mod:`robollm.training.planner_lm`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from robollm.errors import ConfigError

META = "robollm-adapter.json"
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]



# -- loading ----------------------------------------------------------------------------
def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


def read_meta(folder: Path) -> dict[str, Any]:
    path = folder / META
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from None


def resolve_adapter(value: str | Path) -> Path:
    """An adapter folder: a path, or the name of one in launch/adapters/."""
    from robollm.config import launch_dir

    p = Path(value).expanduser()
    if not p.exists() and len(p.parts) == 1:
        shipped = launch_dir() / "adapters" / str(value)
        if shipped.exists():
            return shipped
    check_adapter_folder(p)
    return p


def check_adapter_folder(folder: Path) -> None:
    missing = [n for n in ("adapter_config.json", "adapter_model.safetensors") if not (folder / n).is_file()]
    if not folder.is_dir() or missing:
        what = "no such folder" if not folder.is_dir() else f"missing {', '.join(missing)}"
        raise ConfigError(f"language-model adapter {str(folder)!r}: {what}; expected a LoRA adapter "
                          "folder (adapter_config.json, adapter_model.safetensors), e.g. from "
                          "`robollm train planner-lm`")


def merge_adapter(model: Any, folder: Path) -> int:
    """Add a LoRA adapter's low-rank updates into `model`'s weights in place; return the
    number of layers changed."""
    check_adapter_folder(folder)
    config = json.loads((folder / "adapter_config.json").read_text())
    if config.get("use_dora") or config.get("use_rslora"):
        raise ConfigError(f"{folder}: DoRA and rsLoRA adapters are not supported; train a plain LoRA")
    scale = float(config["lora_alpha"]) / float(config["r"])
    weights = _read_weights(folder / "adapter_model.safetensors")
    modules = dict(model.named_modules())
    changed = 0
    for key, a in weights.items():
        if ".lora_A." not in key:
            continue
        b = weights[key.replace(".lora_A.", ".lora_B.")]
        path = key.split(".lora_A.")[0]
        for prefix in ("base_model.model.", ""):
            if path.startswith(prefix) and path[len(prefix):] in modules:
                target = modules[path[len(prefix):]]
                break
        else:
            raise ConfigError(f"{folder}: the adapter changes {path!r}, which this model does not have; "
                              "was it trained for another base model?")
        with torch.no_grad():
            w = target.weight
            w += (scale * (b.float() @ a.float())).to(device=w.device, dtype=w.dtype)
        changed += 1
    return changed
