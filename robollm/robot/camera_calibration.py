"""Camera extrinsics from a marker the robot holds (hand-to-eye calibration, camera fixed).

One arm carries a coloured ball to N positions spread through the space above the
table. At each, forward kinematics of the measured joints gives the ball's centre in the
world, and the camera sees it (`calibration_marker`): N pairs of the same point in the
world and in the camera frame. The rigid transform between the two point sets (Kabsch's
least-squares rotation through an SVD) is the camera's pose in the world. Residuals
say how well it fits; a pair far off the others (the ball confused with something else,
a bad depth reading) is dropped, one at a time, and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from robollm.config import TableConfig
from robollm.geometry import Pose, quat_from_matrix, rotation_matrix, rpy_from_quat, top_down
from robollm.robot.base import ArmSpec, Robot
from robollm.robot.calibration_marker import Detection, Marker, detect_marker
from robollm.robot.motion import Motion
from robollm.robot.sensors import CameraFrame, Sensor

MIN_POINTS = 4  # pairs a pose needs after outliers are dropped
OUTLIER_FLOOR = 0.01  # m: a residual below this is never an outlier
OUTLIER_FACTOR = 3.0  # ... nor one below this many times the median residual
MIN_SPREAD = 0.02  # m of RMS spread the points need along their thinnest direction
HEIGHTS = (0.10, 0.32)  # m above the table where the ball is shown
MARGIN = 0.05  # m kept inside the table and workspace edges


class CalibrationFailed(Exception):
    """The marker was seen too rarely, or the pairs do not fit one camera pose."""


@dataclass
class CalibrationResult:
    pose: Pose  # the camera in the world (optical axes: x right, y down, z forward)
    residuals: dict[int, float]  # pair index -> m, for the pairs used
    dropped: dict[int, float] = field(default_factory=dict)  # outliers -> their residual (m)
    missed: dict[int, str] = field(default_factory=dict)  # positions without a pair -> why

    def summary(self) -> str:
        r = np.array(list(self.residuals.values())) * 1000
        return (f"{len(self.residuals)} marker positions used ({len(self.dropped)} dropped as outliers, "
                f"{len(self.missed)} not measured); residuals mean {r.mean():.1f} mm, "
                f"max {r.max():.1f} mm")

    def extrinsics_yaml(self) -> str:
        """The block to paste into the launch file, with where it goes."""
        p, q = self.pose.position, self.pose.orientation
        rpy = rpy_from_quat(q)
        return ("robot:\n  options:\n    camera:\n"
                f"      extrinsics:  # robollm calibrate-camera: {self.summary()}\n"
                f"        position: [{p[0]:.4f}, {p[1]:.4f}, {p[2]:.4f}]\n"
                f"        orientation: [{q[0]:.6f}, {q[1]:.6f}, {q[2]:.6f}, {q[3]:.6f}]  # x, y, z, w; "
                f"as rpy: [{rpy[0]:.4f}, {rpy[1]:.4f}, {rpy[2]:.4f}]\n")


def fit_rigid(camera: np.ndarray, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R, t minimising sum |R c_i + t - w_i|^2 over the pairs (Kabsch), R a proper rotation."""
    cc, cw = camera.mean(axis=0), world.mean(axis=0)
    h = (camera - cc).T @ (world - cw)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r, cw - r @ cc


def robust_fit(camera: dict[int, np.ndarray], world: dict[int, np.ndarray]
               ) -> tuple[np.ndarray, np.ndarray, dict[int, float], dict[int, float]]:
    """Fit, then drop the worst pair while it is an outlier; the residuals of those kept
    and of those dropped."""
    keep = sorted(camera)
    dropped: dict[int, float] = {}
    while True:
        if len(keep) < MIN_POINTS:
            raise CalibrationFailed(f"only {len(keep)} marker positions fit together; "
                                    f"at least {MIN_POINTS} are needed")
        c = np.array([camera[i] for i in keep])
        w = np.array([world[i] for i in keep])
        spread = np.linalg.svd(w - w.mean(axis=0), compute_uv=False)[-1] / np.sqrt(len(keep))
        if spread < MIN_SPREAD:
            raise CalibrationFailed(f"the marker positions lie nearly in a plane or on a line "
                                    f"({spread * 1000:.0f} mm thick); use more --points")
        r, t = fit_rigid(c, w)
        res = np.linalg.norm(c @ r.T + t - w, axis=1)
        worst = int(np.argmax(res))
        if res[worst] <= max(OUTLIER_FLOOR, OUTLIER_FACTOR * float(np.median(res))):
            return r, t, {i: float(e) for i, e in zip(keep, res, strict=True)}, dropped
        dropped[keep.pop(worst)] = float(res[worst])


def halton(index: int, base: int) -> float:
    f, out = 1.0, 0.0
    while index > 0:
        f /= base
        out += f * (index % base)
        index //= base
    return out


def calibration_points(arm: ArmSpec, table: TableConfig, count: int) -> list[np.ndarray]:
    """`count` marker positions spread evenly (a Halton sequence) through the part of the
    space above the table that the arm reaches."""
    ws = arm.workspace
    low = np.array([max(ws.low[0], table.low[0]), max(ws.low[1], table.low[1]),
                    max(ws.low[2], table.height + HEIGHTS[0])]) + [MARGIN, MARGIN, 0.0]
    high = np.array([min(ws.high[0], table.high[0]), min(ws.high[1], table.high[1]),
                     min(ws.high[2], table.height + HEIGHTS[1])]) - [MARGIN, MARGIN, 0.0]
    return [low + (high - low) * np.array([halton(i, 2), halton(i, 3), halton(i, 5)])
            for i in range(1, count + 1)]


def marker_in_world(ee: Pose, marker: Marker) -> np.ndarray:
    return np.asarray(ee.position) + rotation_matrix(ee.orientation) @ np.array([0.0, 0.0, marker.offset])


def calibrate(robot: Robot, motion: Motion, camera: Sensor, arm: str, points: list[np.ndarray],
              marker: Marker, *, frames: int = 3, settle: float = 0.3,
              say: Callable[[str], None] = print) -> CalibrationResult:
    """Show the marker (already in the hand) at `points` and fit the camera pose to what it saw."""
    orientation = top_down()
    down = rotation_matrix(orientation) @ np.array([0.0, 0.0, marker.offset])
    camera_pts: dict[int, np.ndarray] = {}
    world_pts: dict[int, np.ndarray] = {}
    missed: dict[int, str] = {}
    for i, target in enumerate(points, 1):
        where = "(" + ", ".join(f"{v:.3f}" for v in target) + ")"
        moved = motion.move({arm: Pose(tuple(float(v) for v in target - down), orientation)}, mode=arm)
        if not moved.ok:
            missed[i] = f"the arm could not get there: {moved.reason}"
            say(f"  {i:2d}/{len(points)}  marker {where}: skipped, {missed[i]}")
            continue
        motion.wait(settle)
        world = marker_in_world(robot.observe().arms[arm].ee_pose, marker)
        shots = [camera.read() for _ in range(frames)]
        seen = [d for d in (detect_marker(s, marker) for s in shots if isinstance(s, CameraFrame))]
        found = [d for d in seen if isinstance(d, Detection)]
        if not found:
            missed[i] = str(seen[0]) if seen else "the sensor gave no camera frame"
            say(f"  {i:2d}/{len(points)}  marker {where}: not seen ({missed[i]})")
            continue
        camera_pts[i] = np.median([d.centre for d in found], axis=0)
        world_pts[i] = world
        best = max(found, key=lambda d: d.pixels)
        say(f"  {i:2d}/{len(points)}  marker {where}: seen {camera_pts[i][2]:.3f} m away "
            f"({best.pixels} px, sphere fit {best.fit_rms * 1000:.1f} mm rms)")
    r, t, residuals, dropped = robust_fit(camera_pts, world_pts)
    pose = Pose(tuple(float(v) for v in t), quat_from_matrix(r))  # type: ignore[arg-type]
    return CalibrationResult(pose, residuals, dropped, missed)
