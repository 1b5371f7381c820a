"""Episode recordings: frames from a camera at a fixed rate of robot time, saved as GIF."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from robollm.errors import UserError

FORMATS = (".gif",)


def check_output_path(path: str | Path, force: bool = False) -> Path:
    """Fail before the run, not after it, if the recording cannot be written; an existing
    file is overwritten only with `force`."""
    p = Path(path)
    flag = f"--record {str(path)!r}"
    if p.is_dir():
        raise UserError(f"{flag} is a folder, expected a file")
    if p.suffix.lower() not in FORMATS:
        raise UserError(f"{flag}: expected a file ending in {', '.join(FORMATS)}")
    folder = p.parent
    if not folder.exists():
        raise UserError(f"{flag}: folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise UserError(f"{flag}: {str(folder)!r} is a file, expected a folder")
    if p.exists() and not force:
        raise UserError(f"{flag} already exists; pass --force to overwrite it")
    if not _writable(folder):
        raise UserError(f"{flag}: folder {str(folder)!r} is not writable")
    return p


def _writable(folder: Path) -> bool:
    """Whether a file can be made in `folder` (asked of the file system, which also knows
    about read-only mounts)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".robollm-", suffix=".part"):
            return True
    except OSError:
        return False


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
        try:
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                           duration=int(1000 / self.fps), loop=0)
            tmp.replace(p)
        finally:
            tmp.unlink(missing_ok=True)
        return p

    def save_or_reason(self, path: str | Path) -> str:
        """Save; empty when it worked, else why not (the run's result stays valid)."""
        try:
            self.save(path)
        except (OSError, ValueError) as e:
            return getattr(e, "strerror", None) or str(e)
        return ""
