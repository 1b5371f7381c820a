"""`robollm perceive`: what perception sees on the table, before any arm moves.

    robollm perceive --config launch/real_panda_bimanual.yaml --save annotated.png
    robollm perceive --perception clip --seed 3            # the simulated default scene

In simulation the launch file's scene is laid out first. It prints one line per object
(name, type, colour, the model's confidence, position in the robot's frame) and what
the look found beyond that (objects that matched no type, an empty table, no depth),
and `--save` writes the camera image with a box and the name on every object.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from robollm.config import load_config
from robollm.errors import UserError
from robollm.launch_check import check_launch
from robollm.session import Session
from robollm.world.state import ObjectInfo, SceneState

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robollm perceive", description=__doc__.splitlines()[0])
    p.add_argument("--config", help="launch file (default: launch/sim_bimanual.yaml)")
    p.add_argument("--seed", type=int, default=0, help="layout of the simulated scene")
    p.add_argument("--perception", help="a perception name instead of the launch file's (ground_truth, clip)")
    p.add_argument("--camera", help="camera to draw on (default: the one perception looks through, "
                                    "else table_camera)")
    p.add_argument("--save", metavar="FILE.png", help="write the camera image with boxes and names")
    p.add_argument("--force", action="store_true", help="overwrite --save's file if it exists")
    return p


def check_image_path(path: str, force: bool) -> Path:
    p = Path(path)
    if p.suffix.lower() not in IMAGE_SUFFIXES:
        raise UserError(f"--save {path!r}: expected a file ending in {', '.join(IMAGE_SUFFIXES)}")
    if p.is_dir():
        raise UserError(f"--save {path!r} is a folder, expected a file")
    if not p.parent.is_dir():
        raise UserError(f"--save {path!r}: folder {str(p.parent)!r} does not exist")
    if p.exists() and not force:
        raise UserError(f"--save {path!r} already exists; pass --force to overwrite it")
    return p


def object_line(obj: ObjectInfo, confidence: float | None, holder: str | None) -> str:
    x, y, z = obj.pose.position
    conf = f"{confidence:.2f}" if confidence is not None else "  - "
    held = f"  held by the {holder} hand" if holder else ""
    return (f"  {obj.name:22} {obj.type:6} {obj.colour:7} {conf:>5}  "
            f"({x:+.3f}, {y:+.3f}, {z:+.3f}) m  size {obj.size * 100:.1f} cm{held}")


def corners(obj: ObjectInfo) -> np.ndarray:
    """The eight corners of the object's box in the world frame."""
    x, y, z = obj.pose.position
    c, s = math.cos(obj.yaw), math.sin(obj.yaw)
    fx, fy = obj.footprint[0] / 2, obj.footprint[1] / 2
    pts = []
    for dx in (-fx, fx):
        for dy in (-fy, fy):
            for dz in (0.0, obj.height):
                pts.append((x + c * dx - s * dy, y + s * dx + c * dy, z + dz))
    return np.array(pts)


def annotate(frame, scene: SceneState, path: Path) -> None:
    from PIL import Image, ImageDraw

    from robollm.perception.geometry import project

    image = Image.fromarray(frame.rgb).convert("RGB")
    draw = ImageDraw.Draw(image)
    for obj in scene.objects.values():
        uv = project(corners(obj), frame.intrinsics, frame.pose)
        (u0, v0), (u1, v1) = uv.min(axis=0), uv.max(axis=0)
        draw.rectangle((u0, v0, u1, v1), outline=(255, 0, 0), width=1)
        draw.text((u0, max(v0 - 11, 0)), obj.name, fill=(255, 255, 255), stroke_width=1, stroke_fill=(0, 0, 0))
    try:
        image.save(path)
    except OSError as e:
        raise UserError(f"--save {str(path)!r}: cannot write ({e.strerror or e})") from None


def perceive_command(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.seed < 0:
        raise UserError(f"--seed must be 0 or more, got {args.seed}")
    save = check_image_path(args.save, args.force) if args.save else None
    config = load_config(args.config, perception=args.perception)
    scene = check_launch(config, planner=False).scene
    with Session(config, scene, args.seed) as session:
        perception = session.perception
        seen = session.scene
        print(f"perception: {perception.name}")
        for obj in sorted(seen.objects.values(), key=lambda o: o.name):
            print(object_line(obj, perception.confidence(obj.name), seen.holder(obj.name)))
        report = perception.report()
        if report:
            print(report)
        else:
            print(f"{len(seen.objects)} object{'s' if len(seen.objects) != 1 else ''}")
        if save is not None:
            camera = args.camera or perception.camera_name() or "table_camera"
            sensors = session.robot.sensors
            if camera not in sensors or sensors[camera].info.kind != "camera":
                cams = sorted(n for n, s in sensors.items() if s.info.kind == "camera")
                raise UserError(f"--camera {camera!r}: the robot has no such camera; its cameras: "
                                f"{', '.join(cams) or 'none'}")
            frame = perception.last_image() if camera == perception.camera_name() else None
            annotate(frame or sensors[camera].read(), seen, save)
            print(f"annotated image: {save}")
    return 0
