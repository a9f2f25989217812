"""Token buckets, one per key (an IP, a client id), on an injected clock: the rate limits.

A bucket holds at most ``burst`` tokens and gains ``per_second`` of them a second; a request
takes one. An empty bucket answers how long until the next token, which becomes the 429's
``Retry-After``. No sleeps and no threads: tests move the clock.

Memory is bounded: a full bucket is the same as no bucket, so full ones are dropped first
when there are more than ``max_keys``; if that is not enough, the oldest half goes.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable


class Buckets:
    """Rate limits by key: ``take(key)`` is 0.0 when the request may pass, else seconds to wait."""

    def __init__(self, per_second: float, burst: float, *, clock: Callable[[], float] = time.time,
                 max_keys: int = 10_000):
        if per_second <= 0 or burst < 1:
            raise ValueError("a bucket needs per_second > 0 and burst >= 1")
        self.per_second, self.burst = per_second, float(burst)
        self.clock, self.max_keys = clock, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 if there was one, else the seconds until there is one."""
        now = self.clock()
        with self._lock:
            if key not in self._buckets:
                self._bound(now)
            tokens = self._level(key, now)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.per_second

    def _level(self, key: str, now: float) -> float:
        if key not in self._buckets:
            return self.burst
        tokens, at = self._buckets[key]
        return min(self.burst, tokens + max(0.0, now - at) * self.per_second)

    def _bound(self, now: float) -> None:
        if len(self._buckets) < self.max_keys:
            return
        for key in [k for k in self._buckets if self._level(k, now) >= self.burst]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            for key in list(self._buckets)[: len(self._buckets) // 2 + 1]:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(seconds: float) -> int:
    """A wait as a ``Retry-After`` value: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(seconds - 1e-9))
