"""Finding a coloured ball in an RGB-D frame, for camera calibration.

The ball's pixels are those near its hue and saturated enough (so shading and the camera's
white balance matter little); the largest connected region of them with depth is the
ball. Its depth pixels lie on the visible cap of a sphere of known radius, so a
least-squares sphere fit gives the centre in the camera frame to a millimetre or two
even when fingers hide part of it, with no image-processing library.

Pixel coordinates follow RealSense and OpenCV: the centre of pixel (u, v) is at (u, v),
and a pixel deprojects to ((u - cx) z / fx, (v - cy) z / fy, z).
"""

from __future__ import annotations

import colorsys
from collections import deque
from dataclasses import dataclass

import numpy as np

from robollm.errors import UserError
from robollm.robot.sensors import CameraFrame

MARKER_COLOURS: dict[str, tuple[float, float, float]] = {
    "magenta": (1.0, 0.0, 1.0), "red": (0.9, 0.1, 0.1), "orange": (1.0, 0.5, 0.0),
    "yellow": (1.0, 0.9, 0.0), "green": (0.1, 0.8, 0.1), "cyan": (0.0, 0.85, 0.9),
    "blue": (0.1, 0.2, 0.95),
}
HUE_TOLERANCE = 0.06  # of a full turn (about 22 degrees)
MIN_SATURATION = 0.45
MIN_VALUE = 0.12
MIN_PIXELS = 12


@dataclass(frozen=True)
class Marker:
    radius: float  # m
    rgb: tuple[float, float, float]  # 0..1
    offset: float = 0.0  # m beyond the grasp point along the hand's approach axis

    @property
    def hue(self) -> float:
        return colorsys.rgb_to_hsv(*self.rgb)[0]


def parse_colour(text: str) -> tuple[float, float, float]:
    """A marker colour: a name (magenta, red, ...) or #rrggbb; it must be a saturated colour."""
    value = text.strip().lower()
    if value in MARKER_COLOURS:
        return MARKER_COLOURS[value]
    if value.startswith("#") and len(value) == 7:
        try:
            rgb = tuple(int(value[i:i + 2], 16) / 255 for i in (1, 3, 5))
        except ValueError:
            rgb = None
        if rgb is not None:
            if colorsys.rgb_to_hsv(*rgb)[1] < 0.5:
                raise UserError(f"--marker-colour {text}: too grey to find; use a strongly coloured ball")
            return rgb  # type: ignore[return-value]
    raise UserError(f"--marker-colour {text!r}: expected one of {', '.join(MARKER_COLOURS)} or #rrggbb")


@dataclass(frozen=True)
class Detection:
    centre: np.ndarray  # (3,) metres in the camera frame
    pixels: int  # coloured pixels with depth in the ball's region
    fit_rms: float  # m: distance of those points from the fitted sphere


def hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rgb.astype(np.float32) / 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    value = x.max(axis=-1)
    chroma = value - x.min(axis=-1)
    sat = np.where(value > 0, chroma / np.maximum(value, 1e-6), 0.0)
    c = np.maximum(chroma, 1e-6)
    hue = np.where(value == r, ((g - b) / c) % 6, np.where(value == g, (b - r) / c + 2, (r - g) / c + 4))
    return hue / 6.0, sat, value


def colour_mask(rgb: np.ndarray, marker: Marker) -> np.ndarray:
    hue, sat, value = hsv(rgb)
    diff = np.abs(hue - marker.hue)
    diff = np.minimum(diff, 1.0 - diff)
    return (diff <= HUE_TOLERANCE) & (sat >= MIN_SATURATION) & (value >= MIN_VALUE)


def largest_region(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected region of `mask` (a breadth-first fill over its pixels only)."""
    seen = np.zeros_like(mask, dtype=bool)
    best: list[tuple[int, int]] = []
    h, w = mask.shape
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        seen[start] = True
        region, queue = [], deque([start])
        while queue:
            v, u = queue.popleft()
            region.append((v, u))
            for dv, du in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                nv, nu = v + dv, u + du
                if 0 <= nv < h and 0 <= nu < w and mask[nv, nu] and not seen[nv, nu]:
                    seen[nv, nu] = True
                    queue.append((nv, nu))
        if len(region) > len(best):
            best = region
    out = np.zeros_like(mask, dtype=bool)
    if best:
        vs, us = zip(*best, strict=True)
        out[list(vs), list(us)] = True
    return out


def deproject(frame: CameraFrame, mask: np.ndarray) -> np.ndarray:
    """(N, 3) camera-frame points of the pixels in `mask` that have a depth reading."""
    fx, fy, cx, cy = frame.intrinsics
    v, u = np.nonzero(mask & np.isfinite(frame.depth) & (frame.depth > 0))
    z = frame.depth[v, u].astype(float)
    return np.stack([(u - cx) * z / fx, (v - cy) * z / fy, z], axis=1)


def fit_sphere(points: np.ndarray, radius: float, iterations: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Centre of a sphere of known radius through visible surface points (Gauss-Newton),
    and each point's distance from that sphere. It starts behind the points' mean, where
    the centre of a cap seen from the camera lies."""
    mean = points.mean(axis=0)
    centre = mean + (2.0 / 3.0) * radius * mean / np.linalg.norm(mean)
    for _ in range(iterations):
        d = points - centre
        dist = np.linalg.norm(d, axis=1)
        residual = dist - radius
        jac = -d / np.maximum(dist, 1e-9)[:, None]
        step, *_ = np.linalg.lstsq(jac, -residual, rcond=None)
        centre = centre + step
        if np.linalg.norm(step) < 1e-7:
            break
    return centre, np.linalg.norm(points - centre, axis=1) - radius


def detect_marker(frame: CameraFrame, marker: Marker) -> Detection | str:
    """The marker's centre in the camera frame, or why it was not found."""
    mask = colour_mask(frame.rgb, marker)
    if mask.sum() < MIN_PIXELS:
        return f"no {MIN_PIXELS} pixels of the marker's colour in view"
    points = deproject(frame, largest_region(mask))
    if len(points) < MIN_PIXELS:
        return "the marker's pixels have no depth"
    # pixels at the ball's rim may carry the background's depth: keep those near its front
    near = np.abs(points[:, 2] - np.median(points[:, 2])) <= 2.0 * marker.radius
    points = points[near]
    centre, residual = fit_sphere(points, marker.radius)
    spread = max(3.0 * 1.4826 * float(np.median(np.abs(residual))), 0.002)
    keep = np.abs(residual) <= spread
    if keep.sum() >= MIN_PIXELS and not keep.all():
        points = points[keep]
        centre, residual = fit_sphere(points, marker.radius)
    if len(points) < MIN_PIXELS:
        return "too few of the marker's pixels fit a sphere"
    return Detection(centre, int(len(points)), float(np.sqrt(np.mean(residual ** 2))))
