"""Lanes: due deliveries per subscriber origin, and the pool of threads that sends them.

Every subscriber origin (scheme, host, port) has a lane, a FIFO of due deliveries with at
most ``per_origin`` of them in flight, so one subscriber receives events in order by default
and a slow or hanging one holds up only its own lane. A shared pool of at most
``max_workers`` threads takes work from the lanes that may send: a thousand hanging
subscribers cost at most that many threads, not a thousand. Threads start when work comes
and end after a minute without any; an empty lane is forgotten.

Waking only the threads that can do the work matters here: a notification to a thread that
then finds nothing to do costs a GIL hand-off, and that once cost half the throughput.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from typing import Callable


class _Lane:
    __slots__ = ("key", "ready", "inflight", "queued")

    def __init__(self, key: tuple):
        self.key = key
        self.ready: deque = deque()
        self.inflight = 0
        self.queued = False  # in the runnable queue


class LanePool:
    """Runs ``work(entry)`` for each submitted entry, per origin in order, on a bounded pool."""

    IDLE_THREAD_EXIT = 60.0  # seconds a thread waits for work before it ends
    THIN_AFTER = 256  # a lane this far behind is backed up: further entries wait without bodies

    def __init__(self, work: Callable[[tuple], None], on_error: Callable[[tuple, BaseException], None], *,
                 per_origin: int = 1, max_workers: int = 64, origin_of: Callable[[tuple], tuple] = lambda e: e[3],
                 thin: Callable[[tuple], tuple] = lambda e: e):
        self.work = work
        self.thin = thin  # makes an entry that has to wait behind a backed-up lane smaller
        self.on_error = on_error
        self.per_origin = max(1, per_origin)
        self.max_workers = max(1, max_workers)
        self.origin_of = origin_of
        self._cond = threading.Condition(threading.Lock())
        self._lanes: dict[tuple, _Lane] = {}
        self._runnable: deque[_Lane] = deque()
        self._workers = 0
        self._idle = 0
        self._threads: list[threading.Thread] = []
        self._stopping = False

    def submit(self, entry: tuple) -> None:
        self.submit_many((entry,))

    def submit_many(self, entries) -> None:
        """Entries into their lanes, in order, under one lock."""
        with self._cond:
            for entry in entries:
                key = self.origin_of(entry)
                lane = self._lanes.get(key)
                if lane is None:
                    lane = self._lanes[key] = _Lane(key)
                lane.ready.append(self.thin(entry) if len(lane.ready) >= self.THIN_AFTER else entry)
                self._make_runnable(lane)

    def clear(self) -> None:
        """Drop every entry not yet in flight (and the lanes left with nothing to do: a queued
        lane always has an entry waiting, which the threads rely on)."""
        with self._cond:
            for lane in self._lanes.values():
                lane.ready.clear()
                lane.queued = False
            self._runnable.clear()
            self._lanes = {key: lane for key, lane in self._lanes.items() if lane.inflight}

    def upcoming(self, key: tuple, n: int) -> list[tuple]:
        """The next `n` entries waiting in the lane of origin `key`, first first."""
        with self._cond:
            lane = self._lanes.get(key)
            return list(itertools.islice(lane.ready, n)) if lane is not None else []

    def threads(self) -> int:
        """Sender threads of this pool alive now."""
        with self._cond:
            return sum(t.is_alive() for t in self._threads)

    def waiting(self) -> int:
        """Entries in lanes, not yet in flight."""
        with self._cond:
            return sum(len(lane.ready) for lane in self._lanes.values())

    def earliest(self) -> float | None:
        """The due time of the earliest waiting entry (entries start with their due time)."""
        with self._cond:
            due = [lane.ready[0][0] for lane in self._lanes.values() if lane.ready]
        return min(due) if due else None

    def stop(self, grace: float, abort: Callable[[], None]) -> None:
        """No new work; wait up to `grace` s for work in flight, then `abort()` it and wait a little."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            threads = list(self._threads)
        end = time.monotonic() + grace
        for t in threads:
            t.join(max(0.0, end - time.monotonic()))
        if any(t.is_alive() for t in threads):
            abort()
            for t in threads:
                t.join(2.0)

    def _make_runnable(self, lane: _Lane, wake: bool = True) -> None:
        """Queue a lane that has work and room (caller holds _cond); wake or start one thread.

        A thread that has just finished with a lane queues it again without waking another:
        it takes the work itself on its next turn.
        """
        if lane.queued or not lane.ready or lane.inflight >= self.per_origin:
            return
        lane.queued = True
        self._runnable.append(lane)
        if not wake:
            return
        if self._idle:
            self._cond.notify()
        elif self._workers < self.max_workers and not self._stopping:
            self._workers += 1
            t = threading.Thread(target=self._worker, name="mock-norce-sender", daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()

    def _worker(self) -> None:
        while True:
            with self._cond:
                while not self._runnable or self._stopping:
                    if self._stopping:
                        self._workers -= 1
                        return
                    self._idle += 1
                    woke = self._cond.wait(self.IDLE_THREAD_EXIT)
                    self._idle -= 1
                    if not woke and not self._runnable:
                        self._workers -= 1
                        return
                lane = self._runnable.popleft()
                lane.queued = False
                entry = lane.ready.popleft()
                lane.inflight += 1
                self._make_runnable(lane)
            try:
                self.work(entry)
            except BaseException as exc:  # noqa: BLE001 - a thread must outlive any piece of work
                self.on_error(entry, exc)
            finally:
                with self._cond:
                    lane.inflight -= 1
                    if lane.ready:
                        self._make_runnable(lane, wake=False)
                    elif not lane.inflight and not lane.queued and self._lanes.get(lane.key) is lane:
                        del self._lanes[lane.key]
