"""`robollm calibrate-camera`: measure a camera's extrinsics with a marker held by the robot.

See `robollm.robot.camera_calibration` for the method and docs/real_robot.md for the
procedure on hardware. A simulator puts the marker in the hand itself (`MarkerHolder`);
on hardware the command opens the hand, asks for the ball and closes the hand on it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from robollm.commands.parser import Parser
from robollm.config import load_config
from robollm.errors import UserError
from robollm.launch_check import check_launch
from robollm.robot.calibration_marker import Marker, parse_colour
from robollm.robot.camera_calibration import CalibrationFailed, calibrate, calibration_points
from robollm.robot.capabilities import MarkerHolder, SceneLoader
from robollm.robot.sensors import Sensor
from robollm.world.scene import SceneSpec

HOLD_FORCE = 20.0  # N: enough to hold a light ball without crushing it


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="robollm calibrate-camera",
               description="measure where a camera is (its extrinsics) from a marker the robot holds")
    p.add_argument("--config", help="launch file (default: launch/sim_bimanual.yaml)")
    p.add_argument("--camera", help="camera sensor name (default: the robot's only camera, else "
                   "table_camera, the one camera perception looks through by default)")
    p.add_argument("--arm", choices=("left", "right"), default="left", help="the arm that holds the marker")
    p.add_argument("--points", type=int, default=12, help="marker positions to measure (at least 6)")
    p.add_argument("--frames", type=int, default=3, help="camera frames looked at per position")
    p.add_argument("--marker-radius", type=float, default=0.02, help="the ball's radius in m")
    p.add_argument("--marker-colour", default="magenta", help="the ball's colour: a name or #rrggbb")
    p.add_argument("--marker-offset", type=float, default=0.0,
                   help="m from the grasp point between the fingertips to the ball's centre, along the "
                        "fingers (positive: beyond the fingertips)")
    p.add_argument("--marker-in-hand", action="store_true",
                   help="the ball is already in the hand: do not open the hand and ask for it")
    p.add_argument("--out", help="also write the extrinsics block to this YAML file")
    p.add_argument("--force", action="store_true", help="let --out overwrite an existing file")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p


def _check(args: argparse.Namespace) -> Marker:
    if args.points < 6:
        raise UserError(f"--points must be at least 6, got {args.points}")
    if args.frames < 1:
        raise UserError(f"--frames must be at least 1, got {args.frames}")
    if not 0.005 <= args.marker_radius <= 0.05:
        raise UserError(f"--marker-radius should be 0.005 to 0.05 m, got {args.marker_radius}")
    if not -0.05 <= args.marker_offset <= 0.1:
        raise UserError(f"--marker-offset should be -0.05 to 0.1 m, got {args.marker_offset}")
    return Marker(args.marker_radius, parse_colour(args.marker_colour), args.marker_offset)


def check_out(path: str, force: bool) -> Path:
    """Refuse before the robot moves what could not be written afterwards."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"--out {path}: is a folder, expected a file")
    if p.suffix.lower() not in (".yaml", ".yml"):
        raise UserError(f"--out {path}: expected a file ending in .yaml or .yml")
    if not p.parent.is_dir():
        raise UserError(f"--out {path}: folder {str(p.parent)!r} does not exist")
    if p.exists() and not force:
        raise UserError(f"--out {path} already exists; pass --force to overwrite it")
    return p


def find_camera(sensors: dict[str, Sensor], name: str | None) -> Sensor:
    cameras = {n: s for n, s in sensors.items() if s.info.kind == "camera"}
    if name is not None:
        if name not in cameras:
            raise UserError(f"--camera {name}: the robot has no such camera (its cameras: "
                            f"{', '.join(sorted(cameras)) or 'none'})")
        return cameras[name]
    if len(cameras) > 1 and "table_camera" in cameras:
        return cameras["table_camera"]
    if len(cameras) != 1:
        raise UserError(f"the robot has {len(cameras)} cameras ({', '.join(sorted(cameras)) or 'none'}); "
                        "name one with --camera")
    return next(iter(cameras.values()))


def calibrate_command(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    marker = _check(args)
    out = check_out(args.out, args.force) if args.out else None
    config = load_config(args.config)
    check_launch(config, planner=False)
    from robollm.drivers import robot_registry
    from robollm.robot.motion import RobotMotion

    say = (lambda _text: None) if args.json else print
    robot = robot_registry().make(config.robot.driver, config=config, gui=False)
    try:
        camera = find_camera(robot.sensors, args.camera)
        if isinstance(robot, SceneLoader):
            robot.load_scene(SceneSpec([], "<empty table>"), 0)  # nothing to mistake for the ball
        robot.connect()
        motion = RobotMotion(robot, config)
        holder = robot if isinstance(robot, MarkerHolder) else None
        if holder is not None:
            holder.hold_marker(args.arm, marker.radius, marker.rgb, marker.offset)
        elif not args.marker_in_hand:
            motion.open_gripper(args.arm)
            try:
                input(f"Clear the table. Put the {args.marker_colour} ball ({marker.radius * 200:.0f} cm "
                      f"across) between the {args.arm} hand's fingertips, hold it there and press Enter; "
                      "the hand will close on it. ")
            except EOFError:
                raise UserError("no answer on standard input; put the ball in the hand first and pass "
                                "--marker-in-hand") from None
            width = motion.close_gripper(args.arm, force=HOLD_FORCE)
            if width < marker.radius:
                raise UserError(f"the {args.arm} hand closed to {width * 100:.1f} cm: it holds no "
                                f"{marker.radius * 200:.0f} cm ball")
        points = calibration_points(robot.arms[args.arm], config.table, args.points)
        say(f"robollm calibrate-camera: camera {camera.name} | {args.arm} arm | {len(points)} positions")
        try:
            result = calibrate(robot, motion, camera, args.arm, points, marker, frames=args.frames, say=say)
        finally:
            motion.home(args.arm)
            if holder is not None:
                holder.drop_marker()
    except CalibrationFailed as e:
        message = f"calibration failed: {e}"
        print(json.dumps({"ok": False, "error": message}) if args.json else f"robollm: {message}")
        return 1
    finally:
        robot.disconnect()
    block = result.extrinsics_yaml()
    if out is not None:
        out.write_text(block)
    if args.json:
        print(json.dumps({"ok": True, "camera": camera.name, "position": list(result.pose.position),
                          "orientation": list(result.pose.orientation),
                          "residuals_mm": {str(k): round(v * 1000, 2) for k, v in result.residuals.items()},
                          "dropped_mm": {str(k): round(v * 1000, 2) for k, v in result.dropped.items()},
                          "missed": {str(k): v for k, v in result.missed.items()},
                          "out": str(out) if out else None}))
    else:
        print(f"\n{result.summary()}")
        for i, residual in result.dropped.items():
            print(f"  dropped position {i}: {residual * 1000:.1f} mm off the others' fit")
        print(f"\nPaste into {config.source} (robot.options.camera.extrinsics):\n\n{block}")
        if out is not None:
            print(f"written to {out}")
    return 0
