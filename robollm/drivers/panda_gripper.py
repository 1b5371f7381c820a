"""The Franka Hand's worker thread for the `panda` driver: `GripperCommand` and `GripperWorker`.

The hands' SDK calls block for up to seconds, so each hand runs them on a thread of its own.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from robollm.drivers.panda_options import PandaOptions

__all__ = ["GripperCommand", "GripperWorker"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GripperCommand:
    width: float
    force: float | None  # None: Gripper.move; a force: Gripper.grasp


class GripperWorker:
    """Runs one hand's blocking SDK calls on a thread of its own.

    A command that arrives while another runs replaces any queued one, so a controller
    that changes its mind does not build a backlog. After each command the worker reads
    the hand's width for `observe` (not in between: panda-py's `read_once` holds the GIL
    while it waits for the hand, which would stall the arms' streaming). The first
    exception ends the thread and stays in `error` until the driver picks it up.
    """

    def __init__(self, arm: str, gripper: Any, options: PandaOptions, width: float) -> None:
        self.arm = arm
        self.width = width
        self.error: BaseException | None = None
        self.last_result: bool | None = None
        self.gripper = gripper
        self._options = options
        self._cond = threading.Condition()
        self._pending: GripperCommand | None = None
        self._busy = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"panda-hand-{arm}", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, command: GripperCommand) -> None:
        with self._cond:
            if not self._closing:
                self._pending = command
                self._cond.notify_all()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is queued or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self.error is not None or not (self._busy or self._pending), timeout
            )

    def close(self, timeout: float = 2.0) -> None:
        """Drop queued commands, abort the running one and end the thread (best effort)."""
        with self._cond:
            self._closing = True
            self._pending = None
            self._cond.notify_all()
        try:
            self.gripper.stop()
        except Exception as e:  # the hand may be the very thing that failed
            log.warning("stopping the %s hand failed: %s", self.arm, e)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closing)
                if self._closing or self._pending is None:
                    return
                command, self._pending = self._pending, None
                self._busy = True
            try:
                self.last_result = bool(self._execute(command))
                self.width = float(self.gripper.read_once().width)
            except Exception as e:
                with self._cond:
                    if not self._closing:  # an abort during shutdown is expected
                        self.error = e
                    self._busy = False
                    self._cond.notify_all()
                return
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _execute(self, command: GripperCommand) -> bool:
        speed = self._options.gripper_speed
        if command.force is None:
            return self.gripper.move(command.width, speed)
        return self.gripper.grasp(
            command.width,
            speed,
            command.force,
            self._options.grasp_epsilon_inner,
            self._options.grasp_epsilon_outer,
        )
