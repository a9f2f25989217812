"""The built-in sink: a subscriber inside mock-norce, so events flow on a fresh machine.

It remembers the last requests it received and answers as its URL asks: ``status=503``
answers 503, ``delay=2.5`` waits 2.5 s first (at most 30), ``fail_rate=0.3`` answers 500 to
30% of requests. So ``http://127.0.0.1:8080/sink/flaky?fail_rate=0.5`` as a subscription URL
shows Norce's retry policy at work.

``wait(count, path, timeout)`` blocks a reader until that many requests are kept (woken by
each arrival through a condition, never by polling); the kept requests are counted per path
as they come and go, so each wake-up is a lookup, not a scan of the last thousand.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from mock_norce.errors import BadSinkParameter

MAX_DELAY = 30.0


@dataclass
class SinkRecord:
    id: int
    received: float
    path: str
    query: str
    method: str
    headers: list
    body: str
    status: int
    delay: float = 0.0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": self.id, "received": self.received, "path": self.path, "query": self.query,
                "method": self.method, "headers": self.headers, "body": self.body, "status": self.status,
                "delay": self.delay}


class Sink:
    """Records requests and decides the answer for each."""

    def __init__(self, keep: int = 1000, rng: random.Random | None = None):
        # 0 keeps none (the sink only counts); maxlen=None would have meant "keep everything".
        self.keep = keep
        self._records: deque[SinkRecord] = deque(maxlen=keep)
        self._by_path: Counter = Counter()  # kept requests per path
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # notified on every arrival (and at close)
        self._rng = rng or random.Random()
        self._closed = False
        self.received = 0  # since start: a clear or a reset does not go back (it is a /metrics counter)

    @staticmethod
    def behaviour(args) -> tuple[int, float, float]:
        """(status, delay, fail_rate) from the query parameters; BadSinkParameter when malformed."""
        try:
            status = int(args.get("status", 200))
            delay = float(args.get("delay", 0))
            fail_rate = float(args.get("fail_rate", 0))
        except ValueError:
            raise BadSinkParameter("sink parameters: status is an integer, delay and fail_rate are numbers") from None
        if not 200 <= status <= 599:
            raise BadSinkParameter("sink parameter status must be between 200 and 599")
        if not 0 <= delay <= MAX_DELAY:
            raise BadSinkParameter(f"sink parameter delay must be between 0 and {MAX_DELAY:g} seconds")
        if not 0 <= fail_rate <= 1:
            raise BadSinkParameter("sink parameter fail_rate must be between 0 and 1")
        return status, delay, fail_rate

    def receive(self, path: str, query: str, method: str, headers: list, body: bytes,
                status: int, delay: float, fail_rate: float) -> SinkRecord:
        """Record one request and return it with the status to answer."""
        with self._lock:
            if fail_rate and self._rng.random() < fail_rate:
                status = 500
            record = SinkRecord(next(self._ids), time.time(), path, query, method, headers,
                                body.decode("utf-8", errors="replace"), status, delay)
            if self.keep:
                if len(self._records) == self.keep:
                    self._forget(self._records[0])  # the deque drops it on the append below
                self._records.append(record)
                self._by_path[path] += 1
            self.received += 1
            self._arrived.notify_all()
        return record

    def _forget(self, record: SinkRecord) -> None:
        self._by_path[record.path] -= 1
        if not self._by_path[record.path]:
            del self._by_path[record.path]

    def _matched(self, path: str | None) -> int:
        return len(self._records) if path is None else self._by_path[path]

    def wait(self, count: int, path: str | None, timeout: float) -> bool:
        """Block until at least `count` requests (with that path, when given) are kept, or
        `timeout` s pass; whether they are."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while self._matched(path) < count and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            return self._matched(path) >= count

    def matched(self, path: str | None = None) -> int:
        """How many kept requests have this path (all kept requests without one)."""
        with self._lock:
            return self._matched(path)

    def matching(self, path: str | None = None) -> list[SinkRecord]:
        """The kept requests with this path (all without one), oldest first."""
        with self._lock:
            return [r for r in self._records if path is None or r.path == path]

    def close(self) -> None:
        """Wake every waiting reader with what is kept now (the server is stopping)."""
        with self._arrived:
            self._closed = True
            self._arrived.notify_all()

    def get(self, record_id: int) -> SinkRecord | None:
        """The kept request with this id, if it is still kept."""
        with self._lock:
            return next((r for r in reversed(self._records) if r.id == record_id), None)

    def recent(self, limit: int = 100, path: str | None = None) -> list[SinkRecord]:
        with self._lock:
            items = list(self._records)
        if path:
            items = [r for r in items if r.path == path]
        return items[::-1][:limit]

    def clear(self) -> int:
        """Forget the kept requests; how many there were. A reader waiting goes on waiting for new ones."""
        with self._lock:
            n = len(self._records)
            self._records.clear()
            self._by_path.clear()
            return n
