"""The sender's idle keep-alive connections, bounded per origin, in total and in age.

With one idle connection kept per subscriber origin, 1,000 origins held 1,000 sockets open
for good. Here at most ``total`` idle connections are kept over all origins (a new one
pushes out the least recently used), at most ``per_origin`` per origin, and none idle for
longer than ``max_age`` seconds: subscribers' servers drop idle connections after 5 to 120 s
anyway, so an old one is more likely stale than useful. Age is checked cheaply whenever a
connection is taken or given back; ``reap()`` closes old ones when nothing is being sent
(the engine calls it now and then).
"""

from __future__ import annotations

import select
import threading
import time
from collections import OrderedDict

from mock_norce.delivery.framing import Conn, close

# A connection given back less than this long ago is trusted without a system call (a stale
# one is retried anyway); an older one is checked for having been closed by the server.
_TRUST_FOR = 1.0


class Pool:
    """Idle connections by origin (scheme, host, port). Thread-safe."""

    def __init__(self, per_origin: int = 8, total: int = 64, max_age: float = 30.0):
        self.per_origin = per_origin
        self.total = total
        self.max_age = max_age
        self._by_origin: dict[tuple, list[Conn]] = {}
        # Every idle connection, least recently given back first: (origin, conn) by id(conn).
        self._lru: OrderedDict[int, tuple[tuple, Conn]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._lru)

    def take(self, key: tuple) -> Conn | None:
        """An idle connection to the origin that still looks alive, or None."""
        doomed: list[Conn] = []
        found = None
        with self._lock:
            now = time.monotonic()
            doomed += self._expired(now)
            conns = self._by_origin.get(key)
            while conns:
                conn = conns.pop()  # the most recently used: the likeliest to be alive
                self._lru.pop(id(conn), None)
                # A pooled socket that is readable has been closed by the server (or sent junk).
                if now - conn.idle_since > _TRUST_FOR and select.select([conn.sock], [], [], 0)[0]:
                    doomed.append(conn)
                    continue
                found = conn
                break
            if not conns:
                self._by_origin.pop(key, None)
        _close_all(doomed)
        if found is not None:
            found.reused = True
        return found

    def give(self, key: tuple, conn: Conn) -> None:
        """Keep a connection for reuse (or close it when the origin has enough idle ones)."""
        doomed: list[Conn] = []
        with self._lock:
            now = time.monotonic()
            conn.idle_since = now
            doomed += self._expired(now)
            conns = self._by_origin.get(key, [])
            if len(conns) >= self.per_origin or self.total <= 0:
                doomed.append(conn)
            else:
                self._by_origin[key] = conns
                conns.append(conn)
                self._lru[id(conn)] = (key, conn)
                while len(self._lru) > self.total:
                    doomed.append(self._evict_oldest())
        _close_all(doomed)

    def reap(self) -> int:
        """Close the connections idle for longer than max_age; returns how many."""
        with self._lock:
            doomed = self._expired(time.monotonic())
        _close_all(doomed)
        return len(doomed)

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            doomed = [conn for _, conn in self._lru.values()]
            self._lru.clear()
            self._by_origin.clear()
        _close_all(doomed)

    # --- under the lock ------------------------------------------------------------------

    def _expired(self, now: float) -> list[Conn]:
        # The LRU order is the order of idle_since: the old ones are at its head.
        doomed = []
        while self._lru:
            _, conn = next(iter(self._lru.values()))
            if now - conn.idle_since <= self.max_age:
                break
            doomed.append(self._evict_oldest())
        return doomed

    def _evict_oldest(self) -> Conn:
        _, (key, conn) = self._lru.popitem(last=False)
        conns = self._by_origin.get(key, [])
        conns.remove(conn)
        if not conns:
            self._by_origin.pop(key, None)
        return conn


def _close_all(conns: list[Conn]) -> None:
    for conn in conns:
        close(conn.sock)
