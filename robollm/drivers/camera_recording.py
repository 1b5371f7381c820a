"""A small file format for RGB-D frames as a RealSense camera delivers them.

It lets the camera driver be exercised without hardware (tests play simulator renders
through a fake of the SDK) and lets frames from a real camera be kept and looked at
later. One `.npz` file (NumPy's zip of arrays) holds:

| key | shape, type | meaning |
|---|---|---|
| `format` | `()` int | 1, this layout |
| `color` | `(N, H, W, 3)` uint8 | colour frames, RGB order (`rs.format.rgb8`) |
| `depth` | `(N, H, W)` uint16 | depth in device units (`rs.format.z16`), aligned to colour; 0 = no reading |
| `depth_scale` | `()` float | metres per depth unit (0.001 on most D400 cameras) |
| `intrinsics` | `(4,)` float | fx, fy, cx, cy of the colour stream, in pixels |
| `timestamps` | `(N,)` float | capture times in milliseconds (the device's clock) |
| `serial` | `()` str | the camera's serial number |
| `pose` | `(7,)` float | camera pose in the world, x y z qx qy qz qw (optical axes: x right, y down, z forward); NaN when unknown |

Depth along the optical axis is stored, as the SDK gives it; a frame converts back to
metres as `depth * depth_scale`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robollm.errors import UserError
from robollm.robot.sensors import CameraFrame

FORMAT = 1
UINT16_MAX = 65535


@dataclass
class CameraRecording:
    color: np.ndarray
    depth: np.ndarray
    depth_scale: float
    intrinsics: tuple[float, float, float, float]
    timestamps: np.ndarray
    serial: str
    pose: tuple[float, ...] = (float("nan"),) * 7

    def __len__(self) -> int:
        return int(self.color.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of every frame."""
        return int(self.color.shape[2]), int(self.color.shape[1])

    def depth_m(self, index: int) -> np.ndarray:
        return self.depth[index].astype(np.float32) * np.float32(self.depth_scale)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path, format=np.int64(FORMAT), color=self.color, depth=self.depth,
            depth_scale=np.float64(self.depth_scale), intrinsics=np.asarray(self.intrinsics, float),
            timestamps=np.asarray(self.timestamps, float), serial=np.str_(self.serial),
            pose=np.asarray(self.pose, float))


def load_recording(path: str | Path) -> CameraRecording:
    """Read and check a recording; a file that is not one is a one-line user error."""
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as e:
        raise UserError(f"{p}: not a camera recording ({e})") from None
    missing = {"format", "color", "depth", "depth_scale", "intrinsics", "timestamps", "serial"} - set(arrays)
    if missing:
        raise UserError(f"{p}: not a camera recording (missing {', '.join(sorted(missing))})")
    if int(arrays["format"]) != FORMAT:
        raise UserError(f"{p}: recording format {int(arrays['format'])}, this robollm reads {FORMAT}")
    color, depth = arrays["color"], arrays["depth"]
    if color.dtype != np.uint8 or color.ndim != 4 or color.shape[3] != 3:
        raise UserError(f"{p}: 'color' should be (N, H, W, 3) uint8, got {color.shape} {color.dtype}")
    if depth.dtype != np.uint16 or depth.shape != color.shape[:3]:
        raise UserError(f"{p}: 'depth' should be (N, H, W) uint16 like 'color', got {depth.shape} {depth.dtype}")
    if len(color) == 0:
        raise UserError(f"{p}: the recording holds no frames")
    fx, fy, cx, cy = (float(v) for v in arrays["intrinsics"])
    pose = tuple(float(v) for v in arrays.get("pose", np.full(7, np.nan)))
    return CameraRecording(color, depth, float(arrays["depth_scale"]), (fx, fy, cx, cy),
                           arrays["timestamps"], str(arrays["serial"]), pose)


def recording_from_frames(frames: list[CameraFrame], *, depth_scale: float = 0.001,
                          serial: str = "000000000000") -> CameraRecording:
    """Camera frames (e.g. simulator renders) as the device would have delivered them:
    depth quantised to `depth_scale` units, out-of-range or non-finite depth as 0."""
    if not frames:
        raise ValueError("no frames to record")
    first = frames[0]
    color = np.stack([f.rgb for f in frames]).astype(np.uint8)
    metres = np.stack([f.depth for f in frames]).astype(np.float64)
    units = np.rint(np.where(np.isfinite(metres), metres, 0.0) / depth_scale)
    depth = np.where((units > 0) & (units <= UINT16_MAX), units, 0).astype(np.uint16)
    stamps = np.array([1000.0 * f.timestamp for f in frames])
    pose = (*first.pose.position, *first.pose.orientation)
    return CameraRecording(color, depth, depth_scale, first.intrinsics, stamps, serial, pose)
