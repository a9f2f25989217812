"""One engine per database: a lock file held for the life of the process.

Two processes on one database would each run a dispatcher and a scheduler, so every event
would go out twice and every schedule fire twice (the classic APScheduler double start, by
a second container, a reloader or a multi-worker server). ``flock`` on ``<database>.lock``
is released by the kernel when the holder dies, even by ``kill -9``: no stale locks.
"""

from __future__ import annotations

import fcntl
import os

from mock_norce.errors import EngineLocked


class EngineLock:
    def __init__(self, database: str):
        self.database = database
        self.path = None if database == ":memory:" else database + ".lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or EngineLocked naming the process that holds it."""
        if self.path is None or self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise EngineLocked(
                f"another mock-norce process (pid {holder}) runs the delivery engine and scheduler on "
                f"{self.database}; only one may per database, or events and schedules would fire twice. "
                "Stop it, or give this one its own MOCK_NORCE_DATABASE.") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
