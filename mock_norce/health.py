"""Health: which part of the engine is down, and what went wrong unexpectedly.

Background threads report here instead of dying: a part that cannot do its work (the
database cannot be written, the timer keeps failing) is *down* until it recovers, and
/healthz answers 503 naming it; an unexpected error that was turned into an outcome (a bug
in one attempt, a failing listener) is an *incident*, counted for /metrics. Each is logged
the first time and then at most once a minute while it lasts, so a full disk writes one
line a minute, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

log = logging.getLogger("mock_norce.health")

LOG_EVERY = 60.0


class Health:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._down: dict[str, tuple[str, float]] = {}
        self.incidents: Counter = Counter()
        self._logged: dict[str, float] = {}
        self._lock = threading.Lock()

    def report(self, part: str, message: str, exc: BaseException | None = None) -> None:
        """`part` cannot work: down until ``clear(part)``."""
        with self._lock:
            since = self._down.get(part, (None, time.time()))[1]
            self._down[part] = (message, since)
        self._log(part, message, exc)

    def incident(self, part: str, message: str, exc: BaseException | None = None) -> None:
        """An unexpected error in `part` that was turned into an outcome; the part goes on."""
        with self._lock:
            self.incidents[part] += 1
        self._log(part, message, exc)

    def clear(self, part: str) -> None:
        if part not in self._down:
            return
        with self._lock:
            found = self._down.pop(part, None)
        if found is not None:
            log.warning("%s recovered (down since %s)", part, time.strftime("%H:%M:%S", time.localtime(found[1])))
            self._logged.pop(part, None)

    def down(self) -> dict[str, str]:
        """Every part that is down, with the reason."""
        with self._lock:
            return {part: message for part, (message, _) in self._down.items()}

    def _log(self, part: str, message: str, exc: BaseException | None) -> None:
        now = self.clock()
        if now - self._logged.get(part, -1e18) < LOG_EVERY:
            return
        self._logged[part] = now
        log.error("%s: %s (logged at most once a minute while it lasts)", part, message, exc_info=exc)
