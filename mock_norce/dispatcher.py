"""Dispatch: due deliveries to worker threads, results to the store.

Every subscriber origin (scheme, host, port) has a *lane*: a FIFO of due deliveries and up
to ``per_origin`` worker threads of its own, started when work arrives and ended after a
minute without any. A slow or hanging subscriber only holds up its own lane. A delivery due
now goes straight into its lane; one due later (a retry) waits in a heap that a timer thread
empties into the lanes on time. One writer thread commits attempt results in batches (group
commit) and then wakes whoever waits for a delivery to finish.

Waking only the threads that can do the work matters here: a notification to a thread that
then finds nothing to do costs a GIL hand-off, and that once cost half the throughput.

The same object runs without threads for tests with a fake clock: ``run_due(now)`` makes the
due attempts in the calling thread and ``flush()`` writes their results.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from . import policy
from .sender import Outcome, Sender
from .store import AttemptRecord, Job, Store

_STOP = object()


class _Lane:
    """The due deliveries of one origin and the threads that send them."""

    __slots__ = ("ready", "cond", "threads", "idle", "inflight")

    def __init__(self):
        self.ready: deque = deque()
        self.cond = threading.Condition(threading.Lock())
        self.threads = 0  # worker threads alive
        self.idle = 0  # of which waiting for work
        self.inflight = 0  # used in the thread-less mode


@dataclass(order=True)
class _Entry:
    due: float
    seq: int
    delivery_id: int = field(compare=False)
    origin: tuple = field(compare=False)
    job: Job | None = field(compare=False, default=None)


class Dispatcher:
    """Schedules, sends and records the attempts of every delivery of one store."""

    IDLE_THREAD_EXIT = 60.0  # seconds a lane's thread waits for work before it ends
    COMMIT_WINDOW = 0.001  # the writer gathers results this long before a commit

    def __init__(self, store: Store, sender: Sender, *, clock: Callable[[], float] = time.time,
                 per_origin: int = 1, retention_max: int | None = None,
                 retention_age: float | None = None, prune_every: float = 5.0):
        self.store = store
        self.sender = sender
        self.clock = clock
        self.per_origin = max(1, per_origin)
        self.retention_max = retention_max
        self.retention_age = retention_age
        self.prune_every = prune_every
        self.listeners: list[Callable[[AttemptRecord], None]] = []  # called after each commit
        self._heap: list[_Entry] = []  # deliveries due later (thread-less mode: all of them)
        self._cond = threading.Condition(threading.Lock())  # guards the heap; wakes the timer
        self._lanes: dict[tuple, _Lane] = {}
        self._lanes_lock = threading.Lock()
        self._seq = itertools.count()
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._waiters: dict[int, list[threading.Event]] = {}
        self._waiters_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._running = False
        self._stopping = False
        self._aborting = False
        self._last_prune = 0.0

    # --- scheduling ----------------------------------------------------------------------

    def schedule(self, delivery_id: int, due: float, url: str, job: Job | None = None) -> None:
        """Make a delivery due at `due` (epoch seconds). `job` spares a database read."""
        entry = _Entry(due, next(self._seq), delivery_id, policy.origin(url), job)
        if self._running and due <= self.clock():
            self._to_lane(entry)
            return
        with self._cond:
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:
                self._cond.notify()  # a new earliest due time: the timer must look again

    def resume(self) -> int:
        """Schedule every unfinished delivery of the store (after a start or a crash)."""
        pending = self.store.unfinished()
        with self._cond:
            for due, delivery_id, url in pending:
                heapq.heappush(self._heap, _Entry(due, next(self._seq), delivery_id, policy.origin(url)))
            self._cond.notify()
        return len(pending)

    def forget_all(self) -> None:
        """Drop every scheduled delivery (the log is being cleared)."""
        with self._cond:
            self._heap.clear()
        for lane in self._all_lanes():
            with lane.cond:
                lane.ready.clear()

    def next_due(self) -> float | None:
        due = [lane.ready[0].due for lane in self._all_lanes() if lane.ready]
        with self._cond:
            if self._heap:
                due.append(self._heap[0].due)
        return min(due) if due else None

    def backlog(self) -> int:
        """Deliveries scheduled but not yet in flight."""
        with self._cond:
            waiting = len(self._heap)
        return waiting + sum(len(lane.ready) for lane in self._all_lanes())

    def _all_lanes(self) -> list[_Lane]:
        with self._lanes_lock:
            return list(self._lanes.values())

    def _lane(self, key: tuple) -> _Lane:
        lane = self._lanes.get(key)
        if lane is None:
            with self._lanes_lock:
                lane = self._lanes.setdefault(key, _Lane())
        return lane

    def _to_lane(self, entry: _Entry) -> None:
        lane = self._lane(entry.origin)
        with lane.cond:
            lane.ready.append(entry)
            if lane.idle:
                lane.cond.notify()
            elif lane.threads < self.per_origin and not self._stopping:
                lane.threads += 1
                t = threading.Thread(target=self._lane_worker, args=(lane,), daemon=True,
                                     name=f"mock-norce-{entry.origin[1]}:{entry.origin[2]}")
                with self._lanes_lock:
                    self._threads = [x for x in self._threads if x.is_alive()] + [t]
                t.start()

    # --- running with threads ------------------------------------------------------------

    def start(self) -> int:
        """Resume unfinished deliveries, then start the timer and the writer."""
        resumed = self.resume()
        self._running = True
        for target, name in ((self._timer, "mock-norce-timer"), (self._write, "mock-norce-writer")):
            t = threading.Thread(target=target, name=name, daemon=True)
            self._threads.append(t)
            t.start()
        return resumed

    def stop(self, grace: float = 6.0) -> None:
        """Let attempts in flight finish (up to `grace` s), interrupt the rest, write everything."""
        self._stopping = True
        with self._cond:
            self._cond.notify_all()
        for lane in self._all_lanes():
            with lane.cond:
                lane.cond.notify_all()
        with self._lanes_lock:
            senders = [t for t in self._threads if t.name != "mock-norce-writer"]
        end = time.monotonic() + grace
        for t in senders:
            t.join(max(0.0, end - time.monotonic()))
        if any(t.is_alive() for t in senders):
            self._aborting = True
            self.sender.abort_in_flight()
            for t in senders:
                t.join(2.0)
        self._results.put(_STOP)
        for t in self._threads:
            if t.name == "mock-norce-writer":
                t.join(10.0)
        self._running = False
        self.sender.close()

    def _timer(self) -> None:
        """Move deliveries from the heap into their lanes when they fall due."""
        while True:
            due_now = []
            with self._cond:
                while not self._stopping:
                    now = self.clock()
                    while self._heap and self._heap[0].due <= now:
                        due_now.append(heapq.heappop(self._heap))
                    if due_now:
                        break
                    self._cond.wait(self._heap[0].due - now if self._heap else None)
                if self._stopping:
                    return
            for entry in due_now:
                self._to_lane(entry)

    def _lane_worker(self, lane: _Lane) -> None:
        while True:
            with lane.cond:
                while not lane.ready:
                    if self._stopping:
                        lane.threads -= 1
                        return
                    lane.idle += 1
                    woke = lane.cond.wait(self.IDLE_THREAD_EXIT)
                    lane.idle -= 1
                    if not woke and not lane.ready:
                        lane.threads -= 1
                        return
                if self._stopping:
                    lane.threads -= 1
                    return
                entry = lane.ready.popleft()
            self._attempt(entry)

    # --- one attempt ---------------------------------------------------------------------

    def _attempt(self, entry: _Entry) -> None:
        job = entry.job or self.store.job(entry.delivery_id)
        if job is None:
            return  # finished or deleted since it was scheduled
        started = self.clock()
        outcome = self.sender.post(job.url, job.body, job.headers)
        record, retry = self._judge(job, started, outcome)
        self._results.put(record)
        if retry is not None and not self._stopping:
            self.schedule(job.delivery_id, retry.due, job.url, retry)

    def _judge(self, job: Job, started: float, outcome: Outcome) -> tuple[AttemptRecord, Job | None]:
        """The delivery's new state after an attempt, and the job of its next attempt if any."""
        if self._aborting and not outcome.ok:
            outcome.error_class, outcome.error = "interrupted", "mock-norce stopped during the attempt"
            status = policy.RETRYING if job.attempts else policy.PENDING
            # Not counted against the 17; made again as soon as mock-norce is back.
            return AttemptRecord(job.delivery_id, job.attempts + 1, started, outcome, status, started,
                                 job.run_id, started - job.due), None
        number = job.attempts + 1
        late = max(0.0, started - job.due)
        if outcome.ok:
            return AttemptRecord(job.delivery_id, number, started, outcome, policy.DELIVERED, None,
                                 job.run_id, late), None
        delay = policy.retry_delay(number, job.scale)
        if delay is None:
            return AttemptRecord(job.delivery_id, number, started, outcome, policy.DEAD, None, job.run_id, late), None
        due = started + delay
        retry = Job(job.delivery_id, job.url, job.headers, job.body, number, job.scale, due, job.run_id)
        return AttemptRecord(job.delivery_id, number, started, outcome, policy.RETRYING, due, job.run_id, late), retry

    # --- recording -----------------------------------------------------------------------

    def _write(self) -> None:
        while True:
            first = self._results.get()
            stop = first is _STOP
            batch = [] if stop else [first]
            if not stop:
                time.sleep(self.COMMIT_WINDOW)  # let a burst gather into one transaction
            while len(batch) < 5000:
                try:
                    item = self._results.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                else:
                    batch.append(item)
            self._commit(batch)
            if stop:
                return

    def flush(self) -> int:
        """Write the results waiting in the queue (for running without threads)."""
        batch = []
        while True:
            try:
                item = self._results.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                batch.append(item)
        self._commit(batch)
        return len(batch)

    def _commit(self, batch: list[AttemptRecord]) -> None:
        if batch:
            self.store.record(batch)
            for record in batch:
                for listener in self.listeners:
                    listener(record)
                if record.due is None:
                    self._wake(record.delivery_id)
        now = self.clock()
        if (self.retention_max is not None or self.retention_age is not None) and \
                now - self._last_prune >= self.prune_every:
            self._last_prune = now
            cutoff = now - self.retention_age if self.retention_age is not None else None
            self.store.prune(self.retention_max, cutoff)

    def run_due(self, now: float | None = None) -> int:
        """Make every attempt due at `now` in this thread (in due order), then write the results."""
        now = self.clock() if now is None else now
        made = 0
        while True:
            with self._cond:
                if not self._heap or self._heap[0].due > now:
                    break
                entry = heapq.heappop(self._heap)
            self._attempt(entry)
            made += 1
        self.flush()
        return made

    # --- waiting -------------------------------------------------------------------------

    def wait(self, delivery_id: int, timeout: float) -> bool:
        """Block until the delivery is delivered or dead (True) or the timeout passes (False)."""
        event = threading.Event()
        with self._waiters_lock:
            self._waiters.setdefault(delivery_id, []).append(event)
        try:
            status = self.store.delivery_status(delivery_id)
            if status is None or status in (policy.DELIVERED, policy.DEAD):
                return status is not None
            return event.wait(timeout)
        finally:
            with self._waiters_lock:
                waiting = self._waiters.get(delivery_id, [])
                if event in waiting:
                    waiting.remove(event)
                if not waiting:
                    self._waiters.pop(delivery_id, None)

    def _wake(self, delivery_id: int) -> None:
        with self._waiters_lock:
            for event in self._waiters.get(delivery_id, ()):
                event.set()
