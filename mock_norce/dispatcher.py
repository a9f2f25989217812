"""Dispatch: due deliveries to worker threads, results to the store.

The database is the queue. Only a short window of it is in memory: the deliveries due in the
next second or so (at most ``window_cap``), in a heap that a timer thread moves into per-origin
*lanes* when they fall due. A delivery scheduled inside the loaded window (an event just
emitted, a retry due soon) joins the heap at once; one due later stays on disk until the timer
loads its window (``Store.due_window``). So memory does not grow with the backlog: a million
deliveries waiting for a subscriber that is down cost disk, not RAM.

Due deliveries go into per-origin lanes sent by a bounded pool of threads (lanes.py). One
writer thread commits attempt results in batches (group commit), then schedules retries,
tells listeners and wakes whoever waits for a delivery to finish.

No thread can die silently: an unexpected exception in an attempt becomes a failed attempt
(``internal_error``) that the policy retries; a commit that fails is retried with backoff
(nothing is dropped, and no new attempts start while the database cannot record them); a
failure anywhere is reported to ``health``, which /healthz and /metrics show.

``forget_all`` (the log is cleared) starts a new generation: work of the old one is dropped
before it is sent, and the result of an attempt already on the wire is discarded.

The same object runs without threads for tests with a fake clock: ``run_due(now)`` makes the
due attempts in the calling thread and ``flush()`` writes their results.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from typing import Callable

from . import policy
from .health import Health
from .lanes import LanePool
from .limits import sleep_for
from .sender import Outcome, Sender
from .store import AttemptRecord, Job, Store

log = logging.getLogger("mock_norce.dispatcher")

_STOP = object()


class Dispatcher:
    """Schedules, sends and records the attempts of every delivery of one store."""

    COMMIT_WINDOW = 0.003  # the writer gathers results this long before a commit (fewer, larger ones)
    WINDOW = 1.0  # seconds of the queue loaded ahead into memory
    KEEP_JOB = 0.25  # an emitted delivery due sooner than this keeps its body in memory

    def __init__(self, store: Store, sender: Sender, *, clock: Callable[[], float] = time.time,
                 per_origin: int = 1, retention_max: int | None = None,
                 retention_age: float | None = None, prune_every: float = 5.0,
                 window_cap: int = 20_000, max_workers: int = 64, health: Health | None = None):
        self.store = store
        self.sender = sender
        self.clock = clock
        self.retention_max = retention_max
        self.retention_age = retention_age
        self.prune_every = prune_every
        self.window_cap = window_cap
        self.health = health or Health()
        self.lanes = LanePool(self._attempt, self._attempt_failed, per_origin=per_origin, max_workers=max_workers,
                              thin=_without_job)
        self.listeners: list[Callable[[AttemptRecord], None]] = []  # called after each commit
        # The gate orders emits, commits and clears: an event is scheduled in the generation
        # it was committed in, and a clear cannot fall between a commit and its retry.
        self.gate = threading.RLock()
        self._cond = threading.Condition(threading.Lock())  # heap, claims, window; wakes the timer
        self._heap: list[tuple] = []  # (due, seq, delivery id, origin, job or None, generation)
        self._claimed: set[int] = set()  # in the heap, a lane, on the wire or awaiting commit
        self._loaded: tuple[float, float] = (float("-inf"), float("-inf"))  # (due, id) loaded up to
        self._dirty = True  # something at or before _loaded may be on disk only: rescan
        self._full = False  # the timer waits for room in the window
        self._generation = 0
        self._seq = itertools.count()
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._waiters: dict[int, list[threading.Event]] = {}
        self._waiters_lock = threading.Lock()
        self._threads: list[threading.Thread] = []  # the timer and the writer
        self._running = False
        self._stopping = False
        self._aborting = False
        self._storage_down = threading.Event()
        self.storage_problem: str | None = None  # why results cannot be written, while they cannot
        self._stopped = threading.Event()
        self._last_prune = 0.0

    # --- scheduling ----------------------------------------------------------------------

    def schedule(self, delivery_id: int, due: float, url: str, job: Job | None = None) -> None:
        """A delivery committed as due at `due` (epoch seconds); `job` spares a database read."""
        with self._cond:
            self._schedule_locked(delivery_id, due, url, job, self._generation)

    def _schedule_locked(self, delivery_id, due, url, job, generation) -> None:
        if delivery_id in self._claimed:
            return  # the window already holds it
        if (due, delivery_id) > self._loaded:
            return  # on disk; the timer loads it with its window
        if len(self._claimed) >= self.window_cap:
            self._dirty = True  # no room: it waits on disk, the timer rescans when there is
            return
        self._claimed.add(delivery_id)
        now = self.clock()
        if job is not None and due - now > self.KEEP_JOB:
            job = None  # read again when due: memory holds ids, not bodies
        entry = (due, next(self._seq), delivery_id, policy.origin(url), job, generation)
        if self._running and due <= now and not self._storage_down.is_set() \
                and not (self._heap and self._heap[0][0] <= due):
            self.lanes.submit(entry)  # due, and nothing due before it waits: straight to its lane
            return
        heapq.heappush(self._heap, entry)
        if self._heap[0] is entry:
            self._cond.notify()  # a new earliest due time: the timer must look again

    def _load(self, until: float) -> int:
        """Move the queue's window up to `until` from disk into the heap (caller holds _cond).

        Invariant afterwards: every unfinished delivery at or before ``_loaded`` (due, id) is
        in memory; ``schedule`` keeps it so for what is committed later. A load that runs
        out of room stops at the last delivery it took, and the rest waits on disk.
        """
        room = self.window_cap - len(self._claimed)
        if room <= 0:
            return 0
        after = None if self._dirty or self._loaded[0] == float("-inf") else self._loaded
        # A rescan from the start reads past what is claimed; a load of the next range meets
        # only the few retries still awaiting their commit.
        limit = room + (len(self._claimed) if after is None else 64)
        rows = self.store.due_window(after, until, limit)
        pushed, last, full = 0, None, False
        for due, did, url in rows:
            if did not in self._claimed:
                if pushed >= room:
                    full = True
                    break
                self._claimed.add(did)
                heapq.heappush(self._heap, (due, next(self._seq), did, policy.origin(url), None, self._generation))
                pushed += 1
            last = (due, did)
        if full or len(rows) >= limit:
            self._loaded = last if last is not None else self._loaded
        else:
            self._loaded = (until, float("inf"))
        self._dirty = False
        return pushed

    def next_due(self) -> float | None:
        """When the earliest delivery is due, in memory or on disk."""
        with self._cond:
            due = [self._heap[0][0]] if self._heap else []
        in_lanes = self.lanes.earliest()
        if in_lanes is not None:
            due.append(in_lanes)
        on_disk = self.store.next_due()
        if on_disk is not None:
            due.append(on_disk)
        return min(due) if due else None

    def backlog(self) -> int:
        """Deliveries loaded and due soon or now but not yet in flight."""
        with self._cond:
            waiting = len(self._heap)
        return waiting + self.lanes.waiting()

    def forget_all(self) -> int:
        """Clear the log: drop every delivery, in memory and on disk (a new generation)."""
        with self.gate:
            with self._cond:
                self._generation += 1
                self._heap.clear()
                self._claimed.clear()
                self._loaded = (float("-inf"), float("-inf"))
                self._dirty = True
            self.lanes.clear()
            return self.store.clear()

    # --- running with threads ------------------------------------------------------------

    def _attempt_failed(self, entry: tuple, exc: BaseException) -> None:
        self.health.incident("sender", f"unexpected {type(exc).__name__} in an attempt: {exc}", exc)
        self._release(entry[2])

    def _release(self, delivery_id: int) -> None:
        with self._cond:
            self._claimed.discard(delivery_id)
            self._dirty = True
            self._room_freed()

    def _room_freed(self) -> None:
        """Wake the timer if it waits for room in the window (caller holds _cond)."""
        if self._full and len(self._claimed) < self.window_cap * 0.9:
            self._full = False
            self._cond.notify()

    def start(self) -> int:
        """Start the timer and the writer; returns how many deliveries were waiting on disk."""
        waiting = sum(self.store.counts()[s] for s in (policy.PENDING, policy.RETRYING))
        self._running = True
        for target, name in ((self._timer, "mock-norce-timer"), (self._write, "mock-norce-writer")):
            t = threading.Thread(target=target, name=name, daemon=True)
            self._threads.append(t)
            t.start()
        return waiting

    def alive(self) -> dict[str, bool]:
        """Whether the timer and the writer threads run (for /healthz)."""
        if not self._running:
            return {}
        names = {t.name for t in self._threads if t.is_alive()}
        return {"timer": "mock-norce-timer" in names, "writer": "mock-norce-writer" in names}

    def stop(self, grace: float = 6.0) -> None:
        """Let attempts in flight finish (up to `grace` s), interrupt the rest, write everything."""
        self._stopping = True
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()

        def abort():
            self._aborting = True
            self.sender.abort_in_flight()
        self.lanes.stop(grace, abort)
        self._results.put(_STOP)
        for t in self._threads:
            t.join(10.0)
        self._running = False
        self.sender.close()

    REAP_EVERY = 10.0  # seconds between closing the sender's expired idle connections

    def _timer(self) -> None:
        """Load the queue's next window from disk; move deliveries into lanes when due."""
        backoff, reaped = 0.05, time.monotonic()
        while not self._stopping:
            try:
                self._timer_round()
                backoff = 0.05
                self.health.clear("timer")
                if time.monotonic() - reaped >= self.REAP_EVERY:
                    reaped = time.monotonic()
                    self.sender.reap()  # idle sockets do not outlive their use in quiet times
                if "storage" in self.health.down() and not self._storage_down.is_set():
                    # A write refused at a door left the storage marked down, and the writer
                    # has nothing to retry: find out when it can be written again.
                    self.store.database.probe()
            except BaseException as exc:  # noqa: BLE001 - the timer must outlive any failure
                self.health.report("timer", f"{type(exc).__name__}: {exc}", exc)
                self._stopped.wait(backoff)
                backoff = min(backoff * 2, 2.0)

    def _timer_round(self) -> None:
        due_now = []
        with self._cond:
            while not self._stopping:
                now = self.clock()
                if self._storage_down.is_set():
                    self._cond.wait(0.1)  # no new attempts while their results cannot be written
                    continue
                if self._dirty or now + self.WINDOW / 2 >= self._loaded[0]:
                    self._load(now + self.WINDOW)
                while self._heap and self._heap[0][0] <= now:
                    due_now.append(heapq.heappop(self._heap))
                if due_now:
                    break
                wake = now + (1.0 if "storage" in self.health.down() else self.REAP_EVERY)
                if len(self._claimed) < self.window_cap:
                    wake = min(wake, self._loaded[0] - self.WINDOW / 2)
                else:
                    self._full = True  # a commit or release that frees room wakes us
                if self._heap:
                    wake = min(wake, self._heap[0][0])
                self._cond.wait(sleep_for(wake - now))
                if wake <= self.clock():
                    break
        for entry in due_now:
            self.lanes.submit(entry)

    # --- one attempt ---------------------------------------------------------------------

    def _attempt(self, entry: tuple) -> None:
        due, _, did, _, job, generation = entry
        if generation != self._generation:
            return  # the log was cleared since it was scheduled
        if job is None:
            job = self.store.job(did)
            if job is None or job.due != due:
                self._release(did)  # finished, deleted or moved since it was loaded
                return
        started = self.clock()
        try:
            outcome = self.sender.post(job.url, job.body, job.headers)
        except Exception as exc:  # noqa: BLE001 - a bug in the sender is a failed attempt, not a dead lane
            self.health.incident("sender", f"unexpected {type(exc).__name__} in the sender: {exc}", exc)
            outcome = Outcome(False, None, "internal_error", f"mock-norce failed to send: {type(exc).__name__}: {exc}",
                              url=job.url)
        record = self._judge(job, started, outcome)
        record.generation = generation
        self._results.put(record)

    def _judge(self, job: Job, started: float, outcome: Outcome) -> AttemptRecord:
        """The delivery's new state after an attempt."""
        late = max(0.0, started - job.due)
        if self._aborting and not outcome.ok:
            outcome.error_class, outcome.error = "interrupted", "mock-norce stopped during the attempt"
            status = policy.RETRYING if job.attempts else policy.PENDING
            # Not counted against the 17; made again as soon as mock-norce is back.
            return AttemptRecord(job.delivery_id, job.attempts + 1, started, outcome, status, started,
                                 job.run_id, late, job.url)
        number = job.attempts + 1
        if outcome.ok:
            return AttemptRecord(job.delivery_id, number, started, outcome, policy.DELIVERED, None,
                                 job.run_id, late, job.url)
        delay = policy.retry_delay(number, job.scale)
        if delay is None:
            return AttemptRecord(job.delivery_id, number, started, outcome, policy.DEAD, None, job.run_id, late,
                                 job.url)
        return AttemptRecord(job.delivery_id, number, started, outcome, policy.RETRYING, started + delay,
                             job.run_id, late, job.url)

    # --- recording -----------------------------------------------------------------------

    def after_writes(self, callback: Callable[[], None]) -> None:
        """Call `callback` in the writer once every result queued before it is written and
        its listeners have run (so, e.g., a run ends after its last attempt was reported)."""
        self._results.put(callback)

    def _write(self) -> None:
        stop = False
        while not stop:
            first = self._results.get()
            items = [first]
            if first is not _STOP:
                time.sleep(self.COMMIT_WINDOW)  # let a burst gather into one transaction
            while len(items) < 5000:
                try:
                    items.append(self._results.get_nowait())
                except queue.Empty:
                    break
            stop = _STOP in items
            self._write_items([x for x in items if x is not _STOP], final=stop)

    def flush(self) -> int:
        """Write the results waiting in the queue (for running without threads), and what
        their listeners queue in turn."""
        written = 0
        while not self._results.empty():
            items = []
            while True:
                try:
                    item = self._results.get_nowait()
                except queue.Empty:
                    break
                if item is not _STOP:
                    items.append(item)
            self._write_items(items, final=True)
            written += sum(1 for x in items if isinstance(x, AttemptRecord))
        return written

    def _write_items(self, items: list, final: bool) -> None:
        """Commit the records, calling each callback once the records before it are written."""
        batch: list[AttemptRecord] = []
        for item in items + [None]:
            if isinstance(item, AttemptRecord):
                batch.append(item)
                continue
            try:
                self._commit(batch, final=final)
                self.health.clear("writer")
            except BaseException as exc:  # noqa: BLE001 - the writer must outlive any failure
                # Results of this batch are lost to this process only: their deliveries keep
                # their due time on disk and the window's rescan attempts them again.
                self.health.report("writer", f"{type(exc).__name__}: {exc}", exc)
                with self._cond:
                    for r in batch:
                        self._claimed.discard(r.delivery_id)
                    self._dirty = True
            batch = []
            if item is not None:
                try:
                    item()
                except Exception as exc:  # noqa: BLE001 - a callback must not stop the recording
                    self.health.incident("listeners", f"{type(exc).__name__}: {exc}", exc)

    def _commit(self, batch: list[AttemptRecord], final: bool = False) -> None:
        """Write a batch, retrying while the database fails; then retries, listeners, waiters."""
        from .errors import StorageUnavailable

        backoff, give_up = 0.05, time.monotonic() + 1.0
        while batch:
            try:
                with self.gate:
                    live = [r for r in batch if r.generation == self._generation]
                    written = self.store.record(live)
                    with self._cond:
                        for r in live:
                            self._claimed.discard(r.delivery_id)
                        for r in written:
                            if r.due is not None and not r.outcome.error_class == "interrupted":
                                self._schedule_locked(r.delivery_id, r.due, r.url, None, self._generation)
                        self._room_freed()
                break
            except StorageUnavailable as exc:
                self.storage_problem = exc.message
                self._storage_down.set()
                self.health.report("storage", exc.message)
                if (final or self._stopping) and time.monotonic() > give_up:
                    log.error("stopping with %d attempt result(s) unwritten (%s); those deliveries are attempted "
                              "again at the next start", len(batch), exc.message)
                    return
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
        else:
            written = []
        if self._storage_down.is_set():
            self.storage_problem = None
            self._storage_down.clear()
            self.health.clear("storage")
            with self._cond:
                self._cond.notify_all()
        for record in written:
            for listener in self.listeners:
                try:
                    listener(record)
                except Exception as exc:  # noqa: BLE001 - a listener must not stop the recording
                    self.health.incident("listeners", f"{type(exc).__name__}: {exc}", exc)
            if record.due is None:
                self._wake(record.delivery_id)
        self._prune()

    def _prune(self) -> None:
        now = self.clock()
        if (self.retention_max is None and self.retention_age is None) or now - self._last_prune < self.prune_every:
            return
        self._last_prune = now
        cutoff = now - self.retention_age if self.retention_age is not None else None
        try:
            self.store.prune(self.retention_max, cutoff)
        except Exception as exc:  # noqa: BLE001 - retention is tidying; delivery goes on
            self.health.incident("retention", f"{type(exc).__name__}: {exc}", exc)

    def run_due(self, now: float | None = None) -> int:
        """Make every attempt due at `now` in this thread (in due order), writing results as it goes."""
        now = self.clock() if now is None else now
        made = 0
        while True:
            with self._cond:
                self._dirty = True
                self._load(now)
                due = []
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap))
            if not due:
                return made
            for entry in due:
                self._attempt(entry)
                made += 1
            self.flush()

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
            return event.wait(sleep_for(timeout))
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


def _without_job(entry: tuple) -> tuple:
    """An entry that waits behind others keeps its id, not its body (read again when sent)."""
    return entry if entry[4] is None else entry[:4] + (None,) + entry[5:]
