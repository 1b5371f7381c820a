"""Image crops around object proposals, the unit the CLIP image tower embeds.

A crop is square around the region's bounding box with a margin, but never smaller
than `min_side` pixels, so small things (a block, a cup) keep their size relative to
the crop while large ones (a tray) still fit. Training and run time crop the same way.
"""

from __future__ import annotations

import numpy as np
import torch

CROP_SIZE = 64
MIN_SIDE = 40
MARGIN = 0.15


def crop_box(bbox: tuple[int, int, int, int], shape: tuple[int, int], min_side: int = MIN_SIDE,
             margin: float = MARGIN) -> tuple[int, int, int, int]:
    """Square (row0, col0, row1, col1) around `bbox`, possibly reaching past the image."""
    r0, c0, r1, c1 = bbox
    side = max(int(round(max(r1 - r0, c1 - c0) * (1 + 2 * margin))), min_side)
    cr, cc = (r0 + r1) / 2, (c0 + c1) / 2
    top, left = int(round(cr - side / 2)), int(round(cc - side / 2))
    return top, left, top + side, left + side


def crop(rgb: np.ndarray, bbox: tuple[int, int, int, int], size: int = CROP_SIZE) -> np.ndarray:
    """(size, size, 3) uint8 crop; pixels past the image edge are black."""
    top, left, bottom, right = crop_box(bbox, rgb.shape[:2])
    h, w = rgb.shape[:2]
    out = np.zeros((bottom - top, right - left, 3), dtype=np.uint8)
    rt, rl = max(top, 0), max(left, 0)
    rb, rr = min(bottom, h), min(right, w)
    if rb > rt and rr > rl:
        out[rt - top:rb - top, rl - left:rr - left] = rgb[rt:rb, rl:rr]
    t = torch.from_numpy(out).permute(2, 0, 1)[None].float()
    t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False,
                                        antialias=True)
    return t[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def to_tensor(crops: np.ndarray | list[np.ndarray]) -> torch.Tensor:
    """(N, 3, S, S) float in [-1, 1] from uint8 crops."""
    arr = np.stack(list(crops)) if not isinstance(crops, np.ndarray) else crops
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
