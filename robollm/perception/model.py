"""The CLIP model behind camera perception: an open_clip image tower and a text side.

Two kinds load here:

- the project's own (`robollm-clip`, the default): a small open_clip ResNet image tower
  trained by `robollm train perception` against a frozen all-MiniLM-L6-v2 sentence
  encoder with a learned linear projection. The file holds the tower's architecture,
  both sets of weights, and the prompt embeddings of the default vocabulary, so a run
  with the default words never loads the sentence encoder.
- a user's pretrained open_clip checkpoint (`arch` + `checkpoint`): open_clip builds
  the architecture and loads the file; its own text tower and tokenizer embed the
  prompts, zero-shot.

Both expose `embed_images` (crops to unit vectors, batched) and `embed_texts`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robollm.errors import UserError

FORMAT = "robollm-clip-v1"
TINY_ARCH = "robollm-rn-tiny"
TINY_CONFIG: dict[str, Any] = {
    "embed_dim": 128,
    "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16},
    # open_clip wants a text tower in every config; the project's model replaces it with
    # the sentence encoder and never builds or stores this one.
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1},
}


def open_clip_module():
    from robollm.util.compat import ensure_torchvision

    ensure_torchvision()
    import logging

    import open_clip

    logging.getLogger("root").setLevel(logging.ERROR)  # "no pretrained weights" for a fresh tower
    from open_clip import factory

    factory._MODEL_CONFIGS.setdefault(TINY_ARCH, TINY_CONFIG)
    return open_clip


def build_tower(config: dict[str, Any]) -> torch.nn.Module:
    """A fresh open_clip image tower for `config` (an open_clip model config)."""
    open_clip = open_clip_module()
    from open_clip import factory

    name = "robollm-" + hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]
    factory._MODEL_CONFIGS.setdefault(name, config)
    return open_clip.create_model(name).visual


def text_digest(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]


class TextProjection(torch.nn.Module):
    """Frozen sentence embeddings (384) to the image tower's space."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(in_dim, out_dim)

    def forward(self, sentence: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(self.linear(sentence), dim=-1)


class ClipModel:
    """What perception asks of a model: unit embeddings of crops and prompts, and a scale."""

    image_size: int
    label: str
    logit_scale: float

    def embed_images(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) in [-1, 1] -> (N, D) unit rows."""
        raise NotImplementedError

    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        raise NotImplementedError


def inference_copy(tower: torch.nn.Module) -> torch.nn.Module:
    """A copy of an image tower for inference only: every batch norm folded into the
    convolution before it (open_clip's ResNets name the pairs `convN`/`bnN`, and a
    downsample is a `Sequential` of pool, conv, norm), in channels-last memory. The same
    numbers to 1e-5; measured on the shipped tower with one thread, 64 frames of 3-9
    crops: batched 346 -> 237 ms, one crop at a time 634 -> 542 ms. The tower itself is
    left as it is (it is what is saved)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    out = copy.deepcopy(tower).eval()

    def fold(module: torch.nn.Module) -> None:
        children = module._modules
        for child in children.values():
            if child is not None:
                fold(child)
        names = list(children)
        if isinstance(module, torch.nn.Sequential):
            pairs = list(zip(names, names[1:], strict=False))
        else:
            pairs = [(a, "bn" + a[4:]) for a in names if a.startswith("conv") and "bn" + a[4:] in children]
        for a, b in pairs:
            conv, norm = children[a], children[b]
            if isinstance(conv, torch.nn.Conv2d) and isinstance(norm, torch.nn.BatchNorm2d):
                children[a], children[b] = fuse_conv_bn_eval(conv, norm), torch.nn.Identity()

    fold(out)
    pool = getattr(out, "attnpool", None)
    if pool is not None and type(pool).__name__ == "AttentionPool2d":
        out.attnpool = FirstTokenPool(pool)
    return out.to(memory_format=torch.channels_last)


class FirstTokenPool(torch.nn.Module):
    """open_clip's `AttentionPool2d` (a ModifiedResNet's last layer) as it is used: the
    pool attends from all its tokens (the mean, then every position) but returns only the
    mean token's output, so this asks only that token's query. The same numbers; the
    query and output projections and the attention shrink to one token in HW + 1."""

    def __init__(self, pool: torch.nn.Module) -> None:
        super().__init__()
        self.pool = pool
        self.register_buffer("in_bias", torch.cat([pool.q_proj.bias, pool.k_proj.bias, pool.v_proj.bias]).detach(),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.pool
        x = x.flatten(2).permute(2, 0, 1)  # NCHW -> (HW)NC
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0) + p.positional_embedding[:, None, :].to(x.dtype)
        out, _ = torch.nn.functional.multi_head_attention_forward(
            query=x[:1], key=x, value=x, embed_dim_to_check=x.shape[-1], num_heads=p.num_heads,
            q_proj_weight=p.q_proj.weight, k_proj_weight=p.k_proj.weight, v_proj_weight=p.v_proj.weight,
            in_proj_weight=None, in_proj_bias=self.in_bias, bias_k=None, bias_v=None, add_zero_attn=False,
            dropout_p=0.0, out_proj_weight=p.c_proj.weight, out_proj_bias=p.c_proj.bias,
            use_separate_proj_weight=True, training=False, need_weights=False)
        return out[0]


class ProjectModel(ClipModel):
    """The trained default: small image tower + MiniLM with a learned projection."""

    def __init__(self, tower: torch.nn.Module, projection: TextProjection, config: dict[str, Any],
                 logit_scale: float, cached: dict[str, list[float]] | None = None, label: str = "") -> None:
        self.tower, self.projection, self.config = tower.eval(), projection.eval(), config
        self.image_size = int(config["vision_cfg"]["image_size"])
        self.logit_scale = logit_scale
        self.cached = {k: torch.tensor(v) for k, v in (cached or {}).items()}
        self.label = label
        self._encoder = None
        self._inference = inference_copy(self.tower)

    def embed_images(self, crops: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            x = crops.contiguous(memory_format=torch.channels_last)
            return torch.nn.functional.normalize(self._inference(x), dim=-1)

    def sentence(self, texts: list[str]) -> torch.Tensor:
        missing = [t for t in texts if t not in self.cached]
        if missing:
            if self._encoder is None:
                from robollm.llm.embed import SentenceEncoder

                self._encoder = SentenceEncoder()
            for t, row in zip(missing, self._encoder.encode(missing), strict=True):
                self.cached[t] = row
        return torch.stack([self.cached[t] for t in texts])

    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        with torch.inference_mode():
            return self.projection(self.sentence(texts))

    def save(self, path: Path, record: dict[str, Any], prompts: list[str]) -> None:
        sentences = self.sentence(prompts)
        torch.save({
            "format": FORMAT, "config": self.config, "logit_scale": self.logit_scale,
            "tower": {k: v.half() for k, v in self.tower.state_dict().items()},
            "projection": self.projection.state_dict(),
            "prompts": {t: row.half().tolist() for t, row in zip(prompts, sentences, strict=True)},
            "record": record,
        }, path)


def load_project_model(path: Path) -> ProjectModel:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError) as e:
        raise UserError(f"perception model {str(path)!r} cannot be read ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserError(f"perception model {str(path)!r} is not a robollm CLIP model ({FORMAT}); a "
                        "pretrained open_clip checkpoint is named with 'arch' and 'checkpoint'")
    tower = build_tower(data["config"])
    tower.load_state_dict({k: v.float() for k, v in data["tower"].items()})
    proj_state = data["projection"]
    out_dim, in_dim = proj_state["linear.weight"].shape
    projection = TextProjection(in_dim, out_dim)
    projection.load_state_dict(proj_state)
    return ProjectModel(tower, projection, data["config"], float(data["logit_scale"]), data["prompts"],
                        label=Path(path).name)


class OpenClipCheckpoint(ClipModel):
    """A user's pretrained open_clip model, used zero-shot with open_clip's own text tower."""

    def __init__(self, arch: str, checkpoint: str) -> None:
        open_clip = open_clip_module()
        if arch not in open_clip.list_models():
            import difflib

            close = difflib.get_close_matches(arch, open_clip.list_models(), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UserError(f"perception arch {arch!r} is not an open_clip architecture{hint}")
        path = Path(checkpoint)
        if not path.is_file():
            raise UserError(f"perception checkpoint {checkpoint!r}: no such file")
        model = open_clip.create_model(arch)
        model.load_state_dict(_fitting_state(path, model, arch))
        self.model = model.eval()
        self.tokenizer = open_clip.get_tokenizer(arch)
        size = model.visual.image_size
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        cfg = getattr(model.visual, "preprocess_cfg", {}) or {}
        self.mean = torch.tensor(cfg.get("mean", (0.48145466, 0.4578275, 0.40821073))).view(1, 3, 1, 1)
        self.std = torch.tensor(cfg.get("std", (0.26862954, 0.26130258, 0.27577711))).view(1, 3, 1, 1)
        self.logit_scale = float(model.logit_scale.exp().item())
        self.label = f"{arch} from {path.name}"

    def embed_images(self, crops: torch.Tensor) -> torch.Tensor:
        x = (crops + 1.0) / 2.0
        if x.shape[-1] != self.image_size:
            x = torch.nn.functional.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear",
                                                align_corners=False)
        x = (x - self.mean) / self.std
        with torch.inference_mode():
            return torch.nn.functional.normalize(self.model.encode_image(x), dim=-1)

    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        with torch.inference_mode():
            return torch.nn.functional.normalize(self.model.encode_text(self.tokenizer(texts)), dim=-1)


def _fitting_state(path: Path, model: torch.nn.Module, arch: str) -> dict[str, torch.Tensor]:
    """The checkpoint's weights, checked name by name and shape by shape against `arch`."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - a file that is not a torch checkpoint at all
        raise UserError(f"perception checkpoint {str(path)!r} cannot be read as an open_clip checkpoint "
                        f"({type(e).__name__})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"perception checkpoint {str(path)!r} holds no weights (expected a state dict)")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    wanted = model.state_dict()
    missing = [k for k in wanted if k not in state]
    unexpected = [k for k in state if k not in wanted]
    shaped = [k for k in wanted if k in state and state[k].shape != wanted[k].shape]
    if missing or unexpected or shaped:
        raise UserError(f"perception checkpoint {str(path)!r} does not fit open_clip architecture {arch!r} "
                        f"({len(missing)} weights missing, {len(unexpected)} unexpected, {len(shaped)} of "
                        f"another shape)")
    return state


def as_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
