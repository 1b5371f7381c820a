"""From one RGB-D frame to object proposals: points, the table plane, regions above it.

Everything here uses only what a real RGB-D camera gives (colour, depth along the
optical axis, intrinsics, the camera's pose in the world), never a simulator's
segmentation, so the same code runs on a RealSense frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from robollm.geometry import Pose


def rotation_matrix(orientation: tuple[float, float, float, float]) -> np.ndarray:
    """3x3 rotation of a unit quaternion (x, y, z, w)."""
    x, y, z, w = orientation
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def deproject(depth: np.ndarray, intrinsics: tuple[float, float, float, float], pose: Pose) -> np.ndarray:
    """World coordinates (H, W, 3) of every pixel; the camera frame is x right, y down,
    z forward, and `depth` is the distance along z (0 or non-finite: no reading)."""
    fx, fy, cx, cy = intrinsics
    h, w = depth.shape
    u = np.arange(w, dtype=np.float64) + 0.5
    v = np.arange(h, dtype=np.float64) + 0.5
    uu, vv = np.meshgrid(u, v)
    z = depth.astype(np.float64)
    cam = np.stack([(uu - cx) / fx * z, (vv - cy) / fy * z, z], axis=-1)
    rot = rotation_matrix(pose.orientation)
    return cam @ rot.T + np.asarray(pose.position, dtype=np.float64)


def project(points: np.ndarray, intrinsics: tuple[float, float, float, float], pose: Pose) -> np.ndarray:
    """Pixel coordinates (N, 2) of world points (N, 3): the inverse of `deproject`."""
    fx, fy, cx, cy = intrinsics
    rot = rotation_matrix(pose.orientation)
    cam = (np.asarray(points, dtype=np.float64) - np.asarray(pose.position)) @ rot
    z = np.maximum(cam[:, 2], 1e-9)
    return np.stack([cam[:, 0] / z * fx + cx, cam[:, 1] / z * fy + cy], axis=-1)


@dataclass(frozen=True)
class Plane:
    normal: np.ndarray  # unit, pointing up (towards the camera side)
    offset: float  # normal . p = offset on the plane

    def height(self, points: np.ndarray) -> np.ndarray:
        return points @ self.normal - self.offset


def fit_plane(points: np.ndarray, seed: int = 0, iterations: int = 60, tolerance: float = 0.004,
              up: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> Plane | None:
    """The dominant roughly horizontal plane among `points` (N, 3): RANSAC on three-point
    samples whose normal is within 25 degrees of `up`, then a least-squares fit to the
    inliers. None when there are too few points to say."""
    pts = points[np.isfinite(points).all(axis=1)]
    if len(pts) < 50:
        return None
    rng = np.random.default_rng(seed)
    sample = pts[rng.choice(len(pts), size=min(len(pts), 4000), replace=False)]
    up_v = np.asarray(up, dtype=np.float64)
    best, best_count = None, 0
    for _ in range(iterations):
        a, b, c = sample[rng.choice(len(sample), 3, replace=False)]
        n = np.cross(b - a, c - a)
        norm = np.linalg.norm(n)
        if norm < 1e-9:
            continue
        n = n / norm
        if n @ up_v < 0:
            n = -n
        if n @ up_v < math.cos(math.radians(25)):
            continue
        count = int((np.abs(sample @ n - n @ a) < tolerance).sum())
        if count > best_count:
            best, best_count = (n, float(n @ a)), count
    if best is None or best_count < 30:
        return None
    n, d = best
    inliers = pts[np.abs(pts @ n - d) < tolerance]
    centre = inliers.mean(axis=0)
    _, _, vt = np.linalg.svd(inliers - centre, full_matrices=False)
    normal = vt[2] if vt[2] @ up_v > 0 else -vt[2]
    return Plane(normal, float(normal @ centre))


@dataclass
class Region:
    """One connected patch of pixels standing above the table: an object proposal."""

    pixels: np.ndarray  # (N, 2) row, column
    points: np.ndarray  # (N, 3) world coordinates
    colours: np.ndarray  # (N, 3) uint8
    heights: np.ndarray  # (N,) above the table plane

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """row0, col0, row1, col1 (exclusive) in the image."""
        r, c = self.pixels[:, 0], self.pixels[:, 1]
        return int(r.min()), int(c.min()), int(r.max()) + 1, int(c.max()) + 1


GREY_CHROMA = 0.12  # distance of a colour's direction from the grey axis below which it is achromatic


def _components(n: int, edges: np.ndarray) -> np.ndarray:
    """Root of each of `n` nodes' component: roots hook onto the smaller neighbouring root,
    then pointer jumping flattens the trees, until nothing changes (vectorised, so a few
    thousand pixels take milliseconds)."""
    lab = np.arange(n)
    if len(edges) == 0:
        return lab
    a, b = edges[:, 0], edges[:, 1]
    while True:
        la, lb = lab[a], lab[b]
        if (la == lb).all():
            return lab
        np.minimum.at(lab, la, lb)
        np.minimum.at(lab, lb, la)
        while True:
            nxt = lab[lab]
            if (nxt == lab).all():
                break
            lab = nxt


def connected_regions(mask: np.ndarray, heights: np.ndarray, rgb: np.ndarray, max_step: float = 0.015,
                      max_chroma: float = 0.09, max_brightness: float = 2.2) -> np.ndarray:
    """Labels (H, W) of 4-connected regions of `mask`, -1 outside it.

    Two neighbouring pixels belong together when their heights differ by less than
    `max_step` (a block on a block, or a block in a bowl, is split at the step) and their
    colours agree: direction of the RGB vector within `max_chroma` (shading changes its
    length, not its direction) and brightness within a ratio of `max_brightness`. So
    touching objects of different colours come apart even at one height.
    """
    full = -np.ones(mask.shape, dtype=np.int64)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return full
    window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    full[window] = _connected(mask[window], heights[window], rgb[window], max_step, max_chroma, max_brightness)
    return full


def _connected(mask: np.ndarray, heights: np.ndarray, rgb: np.ndarray, max_step: float, max_chroma: float,
               max_brightness: float) -> np.ndarray:
    h, w = mask.shape
    index = -np.ones((h, w), dtype=np.int64)
    idx = np.flatnonzero(mask)
    index.flat[idx] = np.arange(len(idx))
    col = rgb.astype(np.float64) + 8.0
    bright = col.sum(axis=-1)
    chroma = col / np.linalg.norm(col, axis=-1, keepdims=True)
    greyness = np.linalg.norm(chroma - 1 / math.sqrt(3), axis=-1)
    edges = []
    for dr, dc in ((0, 1), (1, 0)):
        a = mask[: h - dr, : w - dc] & mask[dr:, dc:]
        same = a & (np.abs(heights[: h - dr, : w - dc] - heights[dr:, dc:]) < max_step)
        same &= np.linalg.norm(chroma[: h - dr, : w - dc] - chroma[dr:, dc:], axis=-1) < max_chroma
        # Brightness tells white from grey from black; on coloured pixels it is shading.
        ratio = bright[: h - dr, : w - dc] / bright[dr:, dc:]
        grey = np.minimum(greyness[: h - dr, : w - dc], greyness[dr:, dc:]) < GREY_CHROMA
        same &= ~grey | ((ratio < max_brightness) & (ratio > 1.0 / max_brightness))
        rr, cc = np.nonzero(same)
        edges.append(np.stack([index[rr, cc], index[rr + dr, cc + dc]], axis=1))
    roots = _components(len(idx), np.concatenate(edges))
    _, labels = np.unique(roots, return_inverse=True)
    out = -np.ones((h, w), dtype=np.int64)
    out.flat[idx] = labels
    return merge_fragments(out, chroma, bright, max_brightness=max_brightness)


def merge_fragments(labels: np.ndarray, chroma: np.ndarray, bright: np.ndarray | None = None, small: int = 80,
                    max_chroma: float = 0.2, max_brightness: float = 2.2) -> np.ndarray:
    """Fold small regions into the neighbour of like colour they touch most.

    A face seen edge-on (a box's end wall) changes height fast from pixel to pixel and
    so falls apart into strips; a shaded facet of a bowl can fall off its rim. Both are
    small and touch the body they belong to. Black, grey and white share one colour
    direction, so between achromatic regions the brightness (`bright`, per pixel) must
    agree too, as it must between pixels: the black sides of a block peeking out under a
    white one are another object, not a shaded facet of the white one.
    """
    n = int(labels.max()) + 1
    if n <= 1:
        return labels
    inside = labels >= 0
    counts = np.bincount(labels[inside], minlength=n)
    mean = np.zeros((n, 3))
    np.add.at(mean, labels[inside], chroma[inside])
    mean /= np.maximum(counts, 1)[:, None]
    light = np.ones(n)
    if bright is not None:
        light = np.bincount(labels[inside], weights=bright[inside], minlength=n) / np.maximum(counts, 1)
    h, w = labels.shape
    flat = labels.ravel()
    order = np.argsort(flat, kind="stable")
    starts = np.searchsorted(flat[order], np.arange(n))
    # Each region's own pixels, kept up to date as regions merge: a region that took in a
    # fragment and is then merged itself must carry that fragment along, and nothing else.
    members = [order[starts[lab]:starts[lab] + counts[lab]] for lab in range(n)]
    for lab in np.argsort(counts):
        if counts[lab] >= small or counts[lab] == 0:
            continue
        idx = members[lab]
        r, c = np.divmod(idx, w)
        nr = np.concatenate([r - 1, r + 1, r, r])
        nc = np.concatenate([c, c, c - 1, c + 1])
        ok = (nr >= 0) & (nr < h) & (nc >= 0) & (nc < w)
        nb = labels[nr[ok], nc[ok]]
        nb = nb[(nb >= 0) & (nb != lab)]
        if len(nb) == 0:
            continue
        votes = np.bincount(nb, minlength=n)
        for other in np.argsort(-votes):
            if votes[other] == 0:
                break
            if np.linalg.norm(mean[other] - mean[lab]) < max_chroma and \
                    _alike_brightness(mean[other], mean[lab], light[other] / light[lab], max_brightness):
                labels[r, c] = other
                total = counts[other] + counts[lab]
                mean[other] = (mean[other] * counts[other] + mean[lab] * counts[lab]) / total
                light[other] = (light[other] * counts[other] + light[lab] * counts[lab]) / total
                counts[other] += counts[lab]
                counts[lab] = 0
                members[other] = np.concatenate([members[other], idx])
                members[lab] = idx[:0]
                break
    _, relabelled = np.unique(labels, return_inverse=True)
    return relabelled.reshape(h, w) - (1 if (labels < 0).any() else 0)


def _alike_brightness(chroma_a: np.ndarray, chroma_b: np.ndarray, ratio: float, max_ratio: float) -> bool:
    """On coloured regions brightness is shading; where either is achromatic it is the colour."""
    grey_axis = 1 / math.sqrt(3)
    grey = min(np.linalg.norm(chroma_a - grey_axis), np.linalg.norm(chroma_b - grey_axis)) < GREY_CHROMA
    return not grey or 1.0 / max_ratio < ratio < max_ratio


def propose(frame_rgb: np.ndarray, points: np.ndarray, plane: Plane, keep: np.ndarray,
            min_height: float = 0.004, max_height: float = 0.3, min_pixels: int = 12) -> list[Region]:
    """Object proposals: regions of pixels between `min_height` and `max_height` above the
    plane (inside `keep`, the pixels worth looking at), largest first."""
    heights = plane.height(points.reshape(-1, 3)).reshape(points.shape[:2])
    heights = np.where(np.isfinite(heights), heights, -1.0)
    mask = keep & (heights > min_height) & (heights < max_height)
    labels = connected_regions(mask, heights, frame_rgb)
    regions = []
    flat = labels.ravel()
    order = np.argsort(flat, kind="stable")
    counts = np.bincount(flat[flat >= 0]) if (flat >= 0).any() else np.zeros(0, dtype=int)
    start = int((flat < 0).sum())
    for count in counts:
        sel = order[start:start + count]
        start += count
        if count < min_pixels:
            continue
        rows, cols = np.divmod(sel, labels.shape[1])
        regions.append(Region(np.stack([rows, cols], axis=1), points.reshape(-1, 3)[sel],
                              frame_rgb.reshape(-1, 3)[sel], heights.ravel()[sel]))
    regions.sort(key=lambda r: -len(r.pixels))
    return regions


@dataclass(frozen=True)
class Footprint:
    centre: tuple[float, float]
    extent: tuple[float, float]  # along the yaw axis and across it
    yaw: float


def min_area_rectangle(xy: np.ndarray, step_deg: float = 2.0) -> Footprint:
    """The smallest rectangle (over yaws in [0, 90) degrees) around 2-D points."""
    if len(xy) > 3000:  # the extremes of a few thousand points are plenty
        xy = xy[np.linspace(0, len(xy) - 1, 3000).astype(int)]
    angles = np.radians(np.arange(0.0, 90.0, step_deg))
    c, s = np.cos(angles), np.sin(angles)
    u = xy @ np.stack([c, s])  # (N, A)
    v = xy @ np.stack([-s, c])
    lo_u, hi_u, lo_v, hi_v = u.min(0), u.max(0), v.min(0), v.max(0)
    k = int(np.argmin((hi_u - lo_u) * (hi_v - lo_v)))
    mu, mv = (lo_u[k] + hi_u[k]) / 2, (lo_v[k] + hi_v[k]) / 2
    centre = (float(mu * c[k] - mv * s[k]), float(mu * s[k] + mv * c[k]))
    return Footprint(centre, (float(hi_u[k] - lo_u[k]), float(hi_v[k] - lo_v[k])), float(angles[k]))
