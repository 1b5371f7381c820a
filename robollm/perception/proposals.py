"""One look at the table: proposals and their measured geometry, before recognition.

The table plane is fitted to the depth points inside the table's extent (from the launch
file); every region standing above it is a proposal, except what lies within reach of a
gripper (the robot's own hand, and anything it holds, are known from the arms' state).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from robollm.perception.geometry import (
    Plane,
    Region,
    deproject,
    fit_plane,
    min_area_rectangle,
    propose,
)
from robollm.perception.shape import hollowness
from robollm.robot.sensors import CameraFrame

TABLE_MARGIN = 0.03  # m around the table's extent still looked at
BASE_SNAP = 0.015  # m: a base this close to the table is on the table
HAND_RADIUS = 0.075  # m around a gripper's axis where points belong to the hand or its load
HAND_BELOW = 0.09  # m below the grasp point that a hand's load may reach


@dataclass(frozen=True)
class Hand:
    """Where a gripper is, so its own pixels (and what it holds) are not taken for objects."""

    position: tuple[float, float, float]
    holding: bool


@dataclass
class Measured:
    region: Region
    centre: tuple[float, float]
    base_z: float
    height: float
    extent: tuple[float, float]  # short side, long side of the footprint
    yaw: float  # direction of the footprint's short side, in (-pi/2, pi/2]
    pixels: int
    on_table: bool = True  # seen down to the table plane: its whole height is in view
    hollow: float | None = None  # how far below its top the footprint's middle lies (`shape.hollowness`)


@dataclass
class Look:
    status: str  # "ok", "no depth", "no table"
    plane: Plane | None = None
    proposals: list[Measured] = field(default_factory=list)
    points: np.ndarray | None = None


def table_mask(points: np.ndarray, low: tuple[float, float], high: tuple[float, float]) -> np.ndarray:
    x, y = points[..., 0], points[..., 1]
    ok = np.isfinite(points).all(axis=-1)
    return ok & (x > low[0] - TABLE_MARGIN) & (x < high[0] + TABLE_MARGIN) & \
        (y > low[1] - TABLE_MARGIN) & (y < high[1] + TABLE_MARGIN)


def hand_mask(points: np.ndarray, hands: list[Hand], table_z: float) -> np.ndarray:
    """Pixels of a hand, and under a holding hand whatever hangs from it."""
    out = np.zeros(points.shape[:2], dtype=bool)
    for hand in hands:
        hx, hy, hz = hand.position
        if hz - table_z > 0.5:
            continue
        near = np.hypot(points[..., 0] - hx, points[..., 1] - hy) < HAND_RADIUS
        floor = hz - (HAND_BELOW if hand.holding else 0.025)
        out |= near & (points[..., 2] > max(floor, table_z + 0.004))
    return out


def measure(region: Region, plane: Plane) -> Measured:
    """Footprint centre, yaw, extent, base and height from the region's 3-D points.

    The footprint is the smallest rectangle around the points seen from above (a block's
    top face covers its footprint, a bowl's rim its circle). The base is the lowest part
    seen, snapped to the table when within 15 mm of it (a plate's
    rim, a tray's floor); the height runs from there to the
    highest points (98th percentile, against stray edge pixels).
    """
    heights = region.heights
    top = float(np.percentile(heights, 98))
    low = float(np.percentile(heights, 2))
    base = 0.0 if low < BASE_SNAP else low
    # Points at the top half of the object give the footprint without the slanted sides.
    fp = min_area_rectangle(region.points[:, :2])
    a, b = fp.extent
    yaw = fp.yaw if a <= b else fp.yaw + math.pi / 2  # yaw of the short side
    yaw = (yaw + math.pi / 2) % math.pi - math.pi / 2
    n = plane.normal
    table_z = (plane.offset - n[0] * fp.centre[0] - n[1] * fp.centre[1]) / n[2]
    base_z = float(table_z + base)
    height = max(top - base, 0.002)
    extent = (min(a, b), max(a, b))
    hollow = hollowness(region.points[:, :2], heights, top, fp.centre, yaw, extent, height)
    return Measured(region, fp.centre, base_z, height, extent, yaw, len(region.pixels), low < BASE_SNAP, hollow)


def look(frame: CameraFrame, low: tuple[float, float], high: tuple[float, float],
         hands: list[Hand] | None = None, seed: int = 0) -> Look:
    depth = frame.depth
    if depth is None or depth.size == 0 or not np.isfinite(depth).any() or float(np.nanmax(depth)) <= 0:
        return Look("no depth")
    depth = np.where(np.isfinite(depth) & (depth > 0), depth, np.nan)
    points = deproject(depth, frame.intrinsics, frame.pose)
    keep = table_mask(points, low, high)
    plane = fit_plane(points[keep]) if keep.any() else None
    if plane is None:
        return Look("no table", points=points)
    # The plane's height at the table's centre stands in for the table's z.
    cx, cy = (low[0] + high[0]) / 2, (low[1] + high[1]) / 2
    table_z = (plane.offset - plane.normal[0] * cx - plane.normal[1] * cy) / plane.normal[2]
    if hands:
        keep &= ~hand_mask(points, hands, table_z)
    regions = propose(frame.rgb, points, plane, keep)
    return Look("ok", plane, [measure(r, plane) for r in regions], points)
