"""The due window: the part of the queue held in memory.

The database is the queue (``DeliveryLog.due_window`` reads it in due order). Only the deliveries
due in the next second or so are held here, at most ``cap`` of them, in a heap ordered by due
time. A delivery is *claimed* from the moment it enters the window until its attempt's result
is committed (in the heap, in a lane, on the wire or awaiting its commit): claims are what
``cap`` bounds, so memory does not grow with the backlog.

Invariant: every unfinished delivery at or before ``loaded`` (due, id) is claimed; one due
later stays on disk until the window is loaded that far. ``dirty`` says that something at
or before ``loaded`` may be on disk only (a release, a full window), so the next load rescans
from the start. Not thread-safe on its own: the dispatcher calls it under its condition.
"""

from __future__ import annotations

import heapq
import itertools

from mock_norce.delivery import policy
from mock_norce.storage.deliveries import Job, DeliveryLog

NOWHERE = (float("-inf"), float("-inf"))


class DueWindow:
    """Heap entries are (due, seq, delivery id, origin, job or None, generation)."""

    def __init__(self, store: DeliveryLog, cap: int):
        self.store = store
        self.cap = cap
        self.heap: list[tuple] = []
        self.claimed: set[int] = set()
        self.loaded: tuple[float, float] = NOWHERE
        self.dirty = True
        self.full = False  # the timer waits for room
        self.generation = 0
        self._seq = itertools.count()

    def claim(self, delivery_id: int, due: float, url: str, job: Job | None) -> tuple | None:
        """An entry for a delivery just committed as due at `due`, claimed; None when it is
        already claimed, due beyond the loaded window, or there is no room (it waits on disk)."""
        if delivery_id in self.claimed:
            return None
        if (due, delivery_id) > self.loaded:
            return None
        if len(self.claimed) >= self.cap:
            self.dirty = True  # the timer rescans when there is room
            return None
        self.claimed.add(delivery_id)
        return (due, next(self._seq), delivery_id, policy.origin(url), job, self.generation)

    def push(self, entry: tuple) -> bool:
        """Into the heap; True when it is the new earliest (the timer must look again)."""
        heapq.heappush(self.heap, entry)
        return self.heap[0] is entry

    def earliest(self) -> float | None:
        return self.heap[0][0] if self.heap else None

    def pop_due(self, now: float) -> list[tuple]:
        due = []
        while self.heap and self.heap[0][0] <= now:
            due.append(heapq.heappop(self.heap))
        return due

    def drop(self, delivery_id: int) -> bool:
        """Take a delivery's entry out of the heap and release it (it is to be scheduled
        anew); False when it is not in the heap (not loaded, or already in a lane or on the wire)."""
        for i, entry in enumerate(self.heap):
            if entry[2] == delivery_id:
                self.heap[i] = self.heap[-1]
                self.heap.pop()
                heapq.heapify(self.heap)
                self.claimed.discard(delivery_id)
                return True
        return False

    def load(self, until: float) -> int:
        """Claim the queue's deliveries up to `until` from disk into the heap; how many.

        A load that runs out of room stops at the last delivery it took, and the rest waits
        on disk.
        """
        room = self.cap - len(self.claimed)
        if room <= 0:
            return 0
        after = None if self.dirty or self.loaded[0] == float("-inf") else self.loaded
        # A rescan from the start reads past what is claimed; a load of the next range meets
        # only the few retries still awaiting their commit.
        limit = room + (len(self.claimed) if after is None else 64)
        rows = self.store.due_window(after, until, limit)
        pushed, last, full = 0, None, False
        for due, did, url in rows:
            if did not in self.claimed:
                if pushed >= room:
                    full = True
                    break
                self.claimed.add(did)
                heapq.heappush(self.heap, (due, next(self._seq), did, policy.origin(url), None, self.generation))
                pushed += 1
            last = (due, did)
        if full or len(rows) >= limit:
            self.loaded = last if last is not None else self.loaded
        else:
            self.loaded = (until, float("inf"))
        self.dirty = False
        return pushed

    def release(self, delivery_id: int, rescan: bool = True) -> None:
        """A delivery leaves the window (its result is committed, or it was dropped)."""
        self.claimed.discard(delivery_id)
        if rescan:
            self.dirty = True

    def room_freed(self) -> bool:
        """Whether the timer, waiting for room, should be woken now."""
        if self.full and len(self.claimed) < self.cap * 0.9:
            self.full = False
            return True
        return False

    def reset(self) -> None:
        """Forget everything (the log was cleared): a new generation."""
        self.generation += 1
        self.heap.clear()
        self.claimed.clear()
        self.loaded = NOWHERE
        self.dirty = True
