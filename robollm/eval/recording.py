"""Episode recordings: frames from a camera at a fixed rate of robot time, saved as GIF."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robollm.errors import UserError

FORMATS = (".gif",)


def check_output_path(path: str | Path) -> Path:
    """Fail before the run, not after it, if the recording cannot be written."""
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise UserError(f"--record {str(path)!r}: expected a file ending in {', '.join(FORMATS)}")
    if not p.parent.exists():
        raise UserError(f"--record {str(path)!r}: folder {str(p.parent)!r} does not exist")
    return p


class Recorder:
    def __init__(self, camera, clock, fps: float = 8.0, size: tuple[int, int] = (320, 240)) -> None:
        self.camera, self.clock, self.fps, self.size = camera, clock, fps, size
        self.frames: list[np.ndarray] = []
        self._next = 0.0

    def tick(self) -> None:
        now = self.clock()
        if now + 1e-9 >= self._next:
            self.capture()
            self._next = now + 1.0 / self.fps

    def capture(self) -> None:
        frame = self.camera.read(width=self.size[0], height=self.size[1])
        self.frames.append(frame.rgb)

    def save(self, path: str | Path) -> Path:
        from PIL import Image

        p = Path(path)
        if not self.frames:
            self.capture()
        images = [Image.fromarray(f) for f in self.frames]
        tmp = p.with_name(p.name + ".part")
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=int(1000 / self.fps), loop=0)
        tmp.replace(p)
        return p
