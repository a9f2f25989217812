"""Dispatch: due deliveries to worker threads, results to the store.

The database is the queue. Only a short window of it is in memory: the deliveries due in the
next second or so (at most ``window_cap``), in a heap that a timer thread moves into per-origin
*lanes* when they fall due. A delivery scheduled inside the loaded window (an event just
emitted, a retry due soon) joins the heap at once; one due later stays on disk until the timer
loads its window (``Store.due_window``). So memory does not grow with the backlog: a million
deliveries waiting for a subscriber that is down cost disk, not RAM.

Due deliveries go into per-origin lanes sent by a bounded pool of threads (lanes.py); their
results go to the recorder (recorder.py), whose writer thread commits them in batches and
then, here, schedules their retries.

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
import threading
import time
from typing import Callable

from mock_norce import statuses
from mock_norce.delivery import policy
from mock_norce.health import Health
from mock_norce.delivery.lanes import LanePool
from mock_norce.limits import sleep_for
from mock_norce.delivery.recorder import Recorder
from mock_norce.delivery.http_client import Outcome, Sender
from mock_norce.storage.store import AttemptRecord, Job, Store

class Dispatcher:
    """Schedules, sends and records the attempts of every delivery of one store."""

    WINDOW = 1.0  # seconds of the queue loaded ahead into memory
    KEEP_JOB = 0.25  # an emitted delivery due sooner than this keeps its body in memory
    PREFETCH = 64  # jobs read in one query for entries that wait without theirs in a lane

    def __init__(self, store: Store, sender: Sender, *, clock: Callable[[], float] = time.time,
                 per_origin: int = 1, retention_max: int | None = None,
                 retention_age: float | None = None, prune_every: float = 5.0,
                 window_cap: int = 5_000, max_workers: int = 64, health: Health | None = None):
        self.store = store
        self.sender = sender
        self.clock = clock
        self.window_cap = window_cap
        self.health = health or Health()
        self.lanes = LanePool(self._attempt, self._attempt_failed, per_origin=per_origin, max_workers=max_workers,
                              thin=_without_job)
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
        # Jobs read ahead for the next entries of a lane: one query for many, not one each
        # (a point read per attempt cost a sixth of the process's time once a lane backed up).
        self._prefetched: dict[int, Job] = {}
        self._prefetch_lock = threading.Lock()
        self._timer_thread: threading.Thread | None = None
        self._running = False
        self._stopping = False
        self._aborting = False
        self._stopped = threading.Event()
        self.recorder = Recorder(store, self.health, write=self._write_batch, forget=self._forget_batch,
                                 recovered=self._recovered, stopping=lambda: self._stopping, clock=clock,
                                 retention_max=retention_max, retention_age=retention_age, prune_every=prune_every)
        self._storage_down = self.recorder.storage_down

    # --- scheduling ----------------------------------------------------------------------

    def schedule(self, delivery_id: int, due: float, url: str, job: Job | None = None) -> None:
        """A delivery committed as due at `due` (epoch seconds); `job` spares a database read."""
        with self._cond:
            self._schedule_locked(delivery_id, due, url, job, self._generation)

    def schedule_many(self, jobs: list[Job]) -> None:
        """Deliveries just committed (a firing's events), under one lock."""
        with self._cond:
            for job in jobs:
                self._schedule_locked(job.delivery_id, job.due, job.url, job, self._generation)

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
            with self._prefetch_lock:
                self._prefetched.clear()
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
        waiting = sum(self.store.counts()[s] for s in (statuses.PENDING, statuses.RETRYING))
        self._running = True
        self._timer_thread = threading.Thread(target=self._timer, name="mock-norce-timer", daemon=True)
        self._timer_thread.start()
        self.recorder.start()
        return waiting

    def alive(self) -> dict[str, bool]:
        """Whether the timer and the writer threads run (for /healthz)."""
        if not self._running:
            return {}
        return {"timer": self._timer_thread.is_alive(), "writer": self.recorder.alive()}

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
        self._timer_thread.join(10.0)
        self.recorder.stop()
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
        self.lanes.submit_many(due_now)

    # --- one attempt ---------------------------------------------------------------------

    def _attempt(self, entry: tuple) -> None:
        due, _, did, _, job, generation = entry
        if generation != self._generation:
            return  # the log was cleared since it was scheduled
        if job is None:
            job = self._job(entry)
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
        self.recorder.put(record)

    def _job(self, entry: tuple) -> Job | None:
        """The job of an entry that waited without it: read ahead with the next ones of its lane."""
        did = entry[2]
        with self._prefetch_lock:
            job = self._prefetched.pop(did, None)
        if job is not None:
            return job
        ids = [did] + [e[2] for e in self.lanes.upcoming(entry[3], self.PREFETCH - 1) if e[4] is None]
        jobs = self.store.jobs(ids)
        job = jobs.pop(did, None)
        with self._prefetch_lock:
            if len(self._prefetched) > 16 * self.PREFETCH:
                self._prefetched.clear()  # left by entries dropped before their turn: start afresh
            self._prefetched.update(jobs)
        return job

    def _judge(self, job: Job, started: float, outcome: Outcome) -> AttemptRecord:
        """The delivery's new state after an attempt."""
        late = max(0.0, started - job.due)
        if self._aborting and not outcome.ok:
            outcome.error_class, outcome.error = "interrupted", "mock-norce stopped during the attempt"
            status = statuses.RETRYING if job.attempts else statuses.PENDING
            # Not counted against the 17; made again as soon as mock-norce is back.
            return AttemptRecord(job.delivery_id, job.attempts + 1, started, outcome, status, started,
                                 job.run_id, late, job.url)
        number = job.attempts + 1
        if outcome.ok:
            return AttemptRecord(job.delivery_id, number, started, outcome, statuses.DELIVERED, None,
                                 job.run_id, late, job.url)
        delay = policy.retry_delay(number, job.scale)
        if delay is None:
            return AttemptRecord(job.delivery_id, number, started, outcome, statuses.DEAD, None, job.run_id, late,
                                 job.url)
        return AttemptRecord(job.delivery_id, number, started, outcome, statuses.RETRYING, started + delay,
                             job.run_id, late, job.url)

    # --- recording (recorder.py) ---------------------------------------------------------

    def _write_batch(self, batch: list[AttemptRecord]) -> list[AttemptRecord]:
        """Commit a batch of results of this generation, then schedule their retries."""
        with self.gate:
            live = [r for r in batch if r.generation == self._generation]
            written = self.store.record(live)
            with self._cond:
                for r in live:
                    self._claimed.discard(r.delivery_id)
                for r in written:
                    if r.due is not None and r.outcome.error_class != "interrupted":
                        self._schedule_locked(r.delivery_id, r.due, r.url, None, self._generation)
                self._room_freed()
        return written

    def _forget_batch(self, batch: list[AttemptRecord]) -> None:
        with self._cond:
            for r in batch:
                self._claimed.discard(r.delivery_id)
            self._dirty = True

    def _recovered(self) -> None:
        with self._cond:
            self._cond.notify_all()

    @property
    def listeners(self) -> list:
        return self.recorder.listeners

    @property
    def storage_problem(self) -> str | None:
        return self.recorder.storage_problem

    def after_writes(self, callback: Callable[[], None]) -> None:
        self.recorder.after_writes(callback)

    def flush(self) -> int:
        """Write the results waiting (for running without threads)."""
        return self.recorder.flush()

    def wait(self, delivery_id: int, timeout: float) -> bool:
        """Block until the delivery is delivered or dead (True) or the timeout passes (False)."""
        return self.recorder.wait(delivery_id, timeout)

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


def _without_job(entry: tuple) -> tuple:
    """An entry that waits behind others keeps its id, not its body (read again when sent)."""
    return entry if entry[4] is None else entry[:4] + (None,) + entry[5:]
