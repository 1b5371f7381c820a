"""Camera extrinsics calibration: marker detection, the rigid fit, and the whole procedure
in simulation with a camera whose pose the procedure is not told."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml

from robollm.cli import main
from robollm.config import load_config
from robollm.geometry import Pose, quat_from_matrix, quat_from_rpy, rotation_matrix
from robollm.robot.calibration_marker import Detection, Marker, detect_marker, parse_colour
from robollm.robot.camera_calibration import (
    CalibrationFailed,
    calibrate,
    calibration_points,
    fit_rigid,
    robust_fit,
)
from robollm.robot.motion import RobotMotion
from robollm.robot.sensors import CameraFrame
from robollm.sim.robot import PyBulletRobot
from robollm.sim.sensors import FRONT, CameraSpec, SimCamera, _look_at_quat
from robollm.world.scene import SceneSpec

MAGENTA = Marker(0.02, (1.0, 0.0, 1.0))


def angle_between(a: tuple, b: tuple) -> float:
    """Degrees of rotation between two orientations."""
    return math.degrees(2 * math.acos(min(1.0, abs(float(np.dot(a, b))))))


def sphere_frame(centre, radius=0.02, size=(320, 240), f=300.0, hide_left=0) -> CameraFrame:
    """An RGB-D frame of a magenta ball in front of a grey wall, drawn by ray casting, with
    the `hide_left` leftmost columns of the ball covered by a grey finger."""
    w, h = size
    cx, cy = w / 2 - 0.5, h / 2 - 0.5
    v, u = np.mgrid[0:h, 0:w]
    rays = np.stack([(u - cx) / f, (v - cy) / f, np.ones_like(u, float)], axis=-1)
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    c = np.asarray(centre, float)
    b = rays @ c
    disc = b * b - (c @ c - radius ** 2)
    t = np.where(disc >= 0, b - np.sqrt(np.maximum(disc, 0)), np.inf)
    hit = np.isfinite(t)
    cols = np.nonzero(hit.any(axis=0))[0]
    if hide_left and len(cols):
        hit[:, cols[0]:cols[0] + hide_left] = False
    depth = np.where(hit, t * rays[..., 2], 2.0).astype(np.float32)
    shade = np.clip(0.4 + 0.6 * -(rays @ np.array([0.3, 0.5, -0.8])), 0.3, 1.0)
    rgb = np.full((h, w, 3), 128, np.uint8)
    rgb[hit] = (np.stack([shade, 0 * shade, shade], -1)[hit] * 255).astype(np.uint8)
    return CameraFrame(rgb, depth, None, {}, (f, f, cx, cy), Pose((0.0, 0.0, 0.0)), 0.0)


@pytest.mark.parametrize("hide_left", [0, 4])
def test_the_ball_centre_is_found_to_a_millimetre(hide_left) -> None:
    centre = (0.08, -0.05, 0.9)
    found = detect_marker(sphere_frame(centre, hide_left=hide_left), MAGENTA)
    assert isinstance(found, Detection)
    assert np.linalg.norm(found.centre - centre) < 0.001


def test_no_ball_in_view_says_so() -> None:
    frame = sphere_frame((0.0, 0.0, 0.9))
    reason = detect_marker(frame, Marker(0.02, parse_colour("green")))
    assert isinstance(reason, str) and "colour" in reason
    frame.depth[:] = 0.0  # a camera that returned no depth
    assert "no depth" in detect_marker(frame, MAGENTA)


def test_the_rigid_fit_recovers_a_known_pose_and_drops_an_outlier() -> None:
    rng = np.random.default_rng(0)
    r = rotation_matrix(quat_from_rpy(-2.0, 0.15, 1.4))  # a camera looking down across the table
    t = np.array([1.4, 0.1, 0.8])
    world = {i: rng.uniform([0.3, -0.3, 0.1], [0.7, 0.4, 0.35]) for i in range(10)}
    camera = {i: r.T @ (w - t) + rng.normal(scale=0.0005, size=3) for i, w in world.items()}
    camera[3] = camera[3] + [0.05, 0.0, 0.0]  # the ball confused with something else
    r_fit, t_fit, residuals, dropped = robust_fit(camera, world)
    assert list(dropped) == [3] and dropped[3] > 0.04
    assert np.linalg.norm(t_fit - t) < 0.004  # 0.5 mm noise, levered over the 1.2 m to the camera
    assert angle_between(quat_from_matrix(r_fit), quat_from_matrix(r)) < 0.2
    assert max(residuals.values()) < 0.003
    exact_r, exact_t = fit_rigid(np.array([r.T @ (w - t) for w in world.values()]), np.array(list(world.values())))
    assert np.allclose(exact_r, r) and np.allclose(exact_t, t)


def test_points_in_a_plane_or_too_few_fail() -> None:
    world = {i: np.array([0.3 + 0.05 * i, 0.1 * (i % 3), 0.2]) for i in range(8)}
    with pytest.raises(CalibrationFailed, match="nearly in a plane"):
        robust_fit({i: w - 1 for i, w in world.items()}, world)
    with pytest.raises(CalibrationFailed, match="at least 4"):
        robust_fit({0: np.zeros(3)}, {0: np.zeros(3)})


def test_calibration_points_stay_over_the_table_in_reach() -> None:
    config = load_config()
    from robollm.robot.rig import arm_specs

    arm = arm_specs(config.robot)["right"]
    points = np.array(calibration_points(arm, config.table, 12))
    assert points.shape == (12, 3) and len({tuple(p) for p in points}) == 12
    assert np.all(points >= np.asarray(arm.workspace.low)) and np.all(points <= np.asarray(arm.workspace.high))
    assert np.all(points[:, 2] >= 0.1) and np.all(points[:, :2] >= config.table.low)


def test_a_moved_camera_is_found_in_simulation() -> None:
    """The camera stands 6 cm and several degrees away from the front camera; nothing but
    the marker positions and what it sees tells the procedure where."""
    config = copy.deepcopy(load_config())
    robot = PyBulletRobot(config)
    spec = CameraSpec(eye=(1.40, 0.12, 0.85), target=(0.35, -0.06, 0.16), up=(0.05, 0.0, 1.0), fov=55.0)
    robot.sensors["moved_camera"] = SimCamera("moved_camera", robot.world, spec, 320, 240)
    try:
        robot.load_scene(SceneSpec([]), 0)
        robot.connect()
        robot.hold_marker("right", MAGENTA.radius, MAGENTA.rgb)
        motion = RobotMotion(robot, config)
        points = calibration_points(robot.arms["right"], config.table, 8)
        result = calibrate(robot, motion, robot.sensors["moved_camera"], "right", points, MAGENTA,
                           frames=1, say=lambda _: None)
    finally:
        robot.disconnect()
    truth = Pose(spec.eye, _look_at_quat(spec))
    assert result.pose.distance_to(truth) < 0.004
    assert angle_between(result.pose.orientation, truth.orientation) < 0.5
    assert max(result.residuals.values()) < 0.003 and not result.missed


def test_the_command_writes_the_block_for_the_launch_file(tmp_path, capsys) -> None:
    out = tmp_path / "extrinsics.yaml"
    assert main(["calibrate-camera", "--camera", "front_camera", "--points", "6", "--frames", "1",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "robot.options.camera.extrinsics" in text and "residuals mean" in text
    ext = yaml.safe_load(out.read_text())["robot"]["options"]["camera"]["extrinsics"]
    assert np.linalg.norm(np.subtract(ext["position"], FRONT.eye)) < 0.005
    assert angle_between(ext["orientation"], _look_at_quat(FRONT)) < 0.5
    # the block loads as a camera's extrinsics
    from robollm.drivers.camera_options import Extrinsics, check_extrinsics

    check_extrinsics(Extrinsics(**ext), "x.yaml", "robot.options.camera.extrinsics")


@pytest.mark.parametrize("argv, message", [
    (["--points", "3"], "--points must be at least 6"),
    (["--marker-colour", "beige"], "--marker-colour 'beige'"),
    (["--marker-colour", "#808080"], "too grey"),
    (["--camera", "wrist_camera"], "--camera wrist_camera: the robot has no such camera (its cameras: "
                                   "front_camera, "),
])
def test_mistakes_are_one_line_before_anything_moves(capsys, argv, message) -> None:
    assert main(["calibrate-camera", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_an_existing_out_file_is_kept_without_force(tmp_path, capsys) -> None:
    out = tmp_path / "extrinsics.yaml"
    out.write_text("keep me\n")
    assert main(["calibrate-camera", "--out", str(out)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert out.read_text() == "keep me\n"
