"""Contrastive training of the default perception model on rendered crops.

The image tower (a small open_clip ResNet) learns to put each crop near the projected
sentence embedding of its prompts: "a photo of a red block" (colour and type together),
"a photo of something red" and "a photo of a block". The sentence encoder stays frozen;
only the tower and a linear projection learn. Colour and type prompts on their own teach
the tower what each word looks like apart, which is what lets a pair it never saw (a
pink cup) still land near its prompt. For the same reason half of each batch has its
colour channels shuffled and learns only the type prompt: a type must be recognised by
its shape, not by the colours it happened to come in.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from robollm.perception.crops import to_tensor
from robollm.perception.model import TINY_CONFIG, ProjectModel, TextProjection, build_tower
from robollm.perception.vocabulary import (
    COLOUR_NAMES,
    HELDOUT_COMBOS,
    OTHER,
    TYPES,
    colour_prompt,
    object_prompt,
    type_prompt,
)


@dataclass
class TrainSettings:
    epochs: int = 6
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.05
    seed: int = 0
    valid_fraction: float = 0.08


def vocabulary_prompts() -> tuple[list[tuple[str, str]], list[str], list[str], list[str]]:
    """(training pairs, their prompts, colour prompts, type prompts); held-out pairs excluded."""
    pairs = [(c, t) for t in TYPES for c in COLOUR_NAMES if (c, t) not in HELDOUT_COMBOS]
    return (pairs, [object_prompt(c, t) for c, t in pairs], [colour_prompt(c) for c in COLOUR_NAMES],
            [type_prompt(t) for t in (*TYPES, OTHER)])


def all_prompts() -> list[str]:
    """Every prompt the default vocabulary uses at run time (stored with the model)."""
    return ([object_prompt(c, t) for t in TYPES for c in COLOUR_NAMES]
            + [colour_prompt(c) for c in COLOUR_NAMES] + [type_prompt(t) for t in (*TYPES, OTHER)])


PERMUTATIONS = ((0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))


def recolour(x: torch.Tensor, gen: torch.Generator, fraction: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Shuffle the colour channels of about `fraction` of the crops; returns the crops
    and which ones changed (their colour no longer matches their label)."""
    n = x.shape[0]
    changed = torch.rand(n, generator=gen) < fraction
    which = torch.randint(0, len(PERMUTATIONS), (n,), generator=gen)
    out = x.clone()
    for k, perm in enumerate(PERMUTATIONS):
        sel = changed & (which == k)
        if sel.any():
            out[sel] = x[sel][:, list(perm)]
    return out, changed


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror images, shift by a few pixels, scale brightness: cheap variety on a CPU."""
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    pad = 4
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad), mode="replicate")
    dx, dy = (int(v) for v in torch.randint(0, 2 * pad + 1, (2,), generator=gen))
    x = padded[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]]
    gain = 1.0 + 0.15 * (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1)
    return ((x + 1.0) * gain - 1.0).clamp(-1.0, 1.0)


def train(data: dict[str, np.ndarray], sentence: Callable[[list[str]], torch.Tensor], settings: TrainSettings,
          device: str = "cpu", progress: Callable[[int, int, float], None] | None = None) -> tuple[ProjectModel, dict]:
    torch.manual_seed(settings.seed)
    gen = torch.Generator().manual_seed(settings.seed)
    pairs, pair_prompts, col_prompts, typ_prompts = vocabulary_prompts()
    pair_index = {p: i for i, p in enumerate(pairs)}
    types = [*TYPES, OTHER]
    colours, kinds = data["colours"], data["types"]
    y_pair = torch.tensor([pair_index.get((c, t), -100) for c, t in zip(colours, kinds, strict=True)])
    y_col = torch.tensor([COLOUR_NAMES.index(c) if c in COLOUR_NAMES else -100 for c in colours])
    y_typ = torch.tensor([types.index(t) for t in kinds])
    x_all = to_tensor(data["crops"])
    n = len(x_all)
    order = torch.randperm(n, generator=gen)
    n_valid = max(1, int(n * settings.valid_fraction))
    valid, train_idx = order[:n_valid], order[n_valid:]

    tower = build_tower(TINY_CONFIG).to(device)
    s_pair, s_col, s_typ = (sentence(p).to(device) for p in (pair_prompts, col_prompts, typ_prompts))
    projection = TextProjection(s_pair.shape[1], TINY_CONFIG["embed_dim"]).to(device)
    log_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07), device=device))
    params = [*tower.parameters(), *projection.parameters(), log_scale]
    opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    steps = settings.epochs * math.ceil(len(train_idx) / settings.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=settings.lr, total_steps=steps, pct_start=0.15)
    ce = torch.nn.CrossEntropyLoss(ignore_index=-100)

    def losses(img: torch.Tensor, idx: torch.Tensor, recoloured: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        scale = log_scale.exp().clamp(max=100.0)
        logits = [scale * img @ projection(s).T for s in (s_pair, s_col, s_typ)]
        targets = [y[idx].clone() for y in (y_pair, y_col, y_typ)]
        for t in targets[:2]:  # a recoloured crop's colour is not its label's
            t[recoloured] = -100
        targets = [t.to(device) for t in targets]
        return sum(ce(lg, t) for lg, t in zip(logits, targets, strict=True)), logits

    history, step, started = [], 0, time.time()
    for epoch in range(settings.epochs):
        tower.train()
        perm = train_idx[torch.randperm(len(train_idx), generator=gen)]
        total, batches = 0.0, 0
        for b in range(0, len(perm), settings.batch_size):
            idx = perm[b:b + settings.batch_size]
            x, recoloured = recolour(augment(x_all[idx], gen), gen)
            img = torch.nn.functional.normalize(tower(x.to(device)), dim=-1)
            loss, _ = losses(img, idx, recoloured)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            total, batches = total + loss.item(), batches + 1
            if progress:
                progress(step, steps, loss.item())
        acc = evaluate(tower, projection, log_scale, x_all, valid, y_col, y_typ, s_col, s_typ, device)
        history.append({"epoch": epoch + 1, "train_loss": round(total / batches, 4), **acc,
                        "seconds": round(time.time() - started, 1)})
    tower.eval()
    model = ProjectModel(tower.cpu(), projection.cpu(), TINY_CONFIG, log_scale.exp().clamp(max=100.0).item())
    return model, {"history": history, "train_crops": int(len(train_idx)), "valid_crops": int(n_valid),
                   "pairs_trained": len(pairs), "steps": steps}


def evaluate(tower, projection, log_scale, x_all, idx, y_col, y_typ, s_col, s_typ, device) -> dict[str, float]:
    tower.eval()
    with torch.no_grad():
        img = torch.cat([torch.nn.functional.normalize(tower(x_all[idx[i:i + 256]].to(device)), dim=-1)
                         for i in range(0, len(idx), 256)])
        col = (img @ projection(s_col).T).argmax(1).cpu()
        typ = (img @ projection(s_typ).T).argmax(1).cpu()
    yc, yt = y_col[idx], y_typ[idx]
    has_col = yc >= 0
    return {"valid_colour_acc": round(float((col[has_col] == yc[has_col]).float().mean()), 4),
            "valid_type_acc": round(float((typ == yt).float().mean()), 4)}
