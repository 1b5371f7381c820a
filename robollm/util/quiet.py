"""Silence C libraries that print to the process's stdout and stderr (PyBullet's banner)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


@contextlib.contextmanager
def quiet_stdout():
    """Keep CLI output, `--json` above all, free of C-level prints made inside the block."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
    except (OSError, ValueError):
        yield
        return
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            _flush_c_stdio()
            for fd, target in zip(saved, (1, 2), strict=True):
                os.dup2(fd, target)
                os.close(fd)


def import_pybullet():
    """Import pybullet without its banner reaching the terminal."""
    with quiet_stdout():
        import pybullet
        from pybullet_utils import bullet_client
    return pybullet, bullet_client
