"""Dispatch: due deliveries to worker threads, results to the store.

The database is the queue. Only a short window of it is in memory (window.py: the deliveries
due in the next second or so, at most ``window_cap``), which a timer thread moves into
per-origin *lanes* when they fall due. A delivery scheduled inside the loaded window (an event
just emitted, a retry due soon) joins it at once; one due later stays on disk until the timer
loads that far. So memory does not grow with the backlog: a million deliveries waiting for a
subscriber that is down cost disk, not RAM.

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

Longer than 300 lines on purpose: the timer, the attempt and the hand-over of results share
one condition and one generation (the order of emit, commit and clear rests on them); the
window (window.py), the lanes (lanes.py) and the writer (recorder.py) are already apart.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from mock_norce import statuses
from mock_norce.health import Health
from mock_norce.delivery.lanes import LanePool
from mock_norce.limits import sleep_for
from mock_norce.delivery.recorder import Recorder, judge
from mock_norce.delivery.window import DueWindow
from mock_norce.delivery.http_client import Outcome, Sender
from mock_norce.storage.deliveries import AttemptRecord, Job, DeliveryLog

class Dispatcher:
    """Schedules, sends and records the attempts of every delivery of one store."""

    WINDOW = 1.0  # seconds of the queue loaded ahead into memory
    KEEP_JOB = 0.25  # an emitted delivery due sooner than this keeps its body in memory
    PREFETCH = 64  # jobs read in one query for entries that wait without theirs in a lane

    def __init__(self, store: DeliveryLog, sender: Sender, *, clock: Callable[[], float] = time.time,
                 per_origin: int = 1, retention_max: int | None = None,
                 retention_age: float | None = None, prune_every: float = 5.0,
                 window_cap: int = 5_000, max_workers: int = 64, health: Health | None = None):
        self.store = store
        self.sender = sender
        self.clock = clock
        self.health = health or Health()
        self.lanes = LanePool(self._attempt, self._attempt_failed, per_origin=per_origin, max_workers=max_workers,
                              thin=_without_job)
        # The gate orders emits, commits and clears: an event is scheduled in the generation
        # it was committed in, and a clear cannot fall between a commit and its retry.
        self.gate = threading.RLock()
        self._cond = threading.Condition(threading.Lock())  # guards the window; wakes the timer
        self.window = DueWindow(store, window_cap)
        # Jobs read ahead for the next entries of a lane: one query for many, not one each
        # (a point read per attempt cost a sixth of the process's time once a lane backed up).
        self._prefetched: dict[int, Job] = {}
        self._prefetch_lock = threading.Lock()
        # Attempts on the wire, per generation: a reset waits for those of the cleared log to
        # end, so that nothing sent before it reaches a subscriber (the built-in sink) after it.
        self._on_wire: dict[int, int] = {}
        self._on_wire_cond = threading.Condition(threading.Lock())
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
            self._schedule_locked(delivery_id, due, url, job)

    def schedule_many(self, jobs: list[Job]) -> None:
        """Deliveries just committed (a firing's events), under one lock."""
        with self._cond:
            for job in jobs:
                self._schedule_locked(job.delivery_id, job.due, job.url, job)

    def _schedule_locked(self, delivery_id, due, url, job) -> None:
        now = self.clock()
        if job is not None and due - now > self.KEEP_JOB:
            job = None  # read again when due: memory holds ids, not bodies
        entry = self.window.claim(delivery_id, due, url, job)
        if entry is None:
            return  # already in memory, or waits on disk
        earliest = self.window.earliest()
        if self._running and due <= now and not self._storage_down.is_set() \
                and not (earliest is not None and earliest <= due):
            self.lanes.submit(entry)  # due, and nothing due before it waits: straight to its lane
            return
        if self.window.push(entry):
            self._cond.notify()  # a new earliest due time: the timer must look again

    def retry_now(self, delivery_id: int) -> str | None:
        """Make a delivery waiting for its next attempt due now instead of at its backoff time.

        Returns its status (unchanged for one delivered or dead, which has nothing to retry),
        or None when there is no such delivery. The attempt counts as the next of the policy's,
        and the backoff goes on from it. One already in a lane or on the wire is left alone: its
        attempt is being made now anyway (the database's due time moved, so an entry waiting
        in a lane finds itself out of date and is loaded again at once)."""
        with self.gate:  # no commit of its attempt's result between the move and the scheduling
            now = self.clock()
            status = self.store.move_due(delivery_id, now)
            if status is None or status not in statuses.UNFINISHED:
                return status
            job = self.store.job(delivery_id)
            if job is None:
                return status
            with self._cond:
                if delivery_id in self.window.claimed and not self.window.drop(delivery_id):
                    self.window.dirty = True
                    return status
                self._schedule_locked(delivery_id, job.due, job.url, job)
                self._cond.notify()
        return status

    def next_due(self) -> float | None:
        """When the earliest delivery is due, in memory or on disk."""
        with self._cond:
            earliest = self.window.earliest()
        due = [earliest] if earliest is not None else []
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
            waiting = len(self.window.heap)
        return waiting + self.lanes.waiting()

    def forget_all(self) -> int:
        """Clear the log: drop every delivery, in memory and on disk (a new generation)."""
        with self.gate:
            with self._cond:
                self.window.reset()
                self._cond.notify()  # the timer loads the (now empty) window again at once
            self.lanes.clear()
            with self._prefetch_lock:
                self._prefetched.clear()
            return self.store.clear()

    def settle(self, timeout: float) -> bool:
        """Wait until no attempt made before the last ``forget_all`` is on the wire (each ends
        within the sender's own deadline), at most `timeout` s; True when none is left."""
        deadline = time.monotonic() + timeout
        with self._on_wire_cond:
            while any(g != self.window.generation for g in self._on_wire):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._on_wire_cond.wait(left)
        return True

    # --- running with threads ------------------------------------------------------------

    def _attempt_failed(self, entry: tuple, exc: BaseException) -> None:
        self.health.incident("sender", f"unexpected {type(exc).__name__} in an attempt: {exc}", exc)
        self._release(entry[2])

    def _release(self, delivery_id: int) -> None:
        with self._cond:
            self.window.release(delivery_id)
            self._room_freed()

    def _room_freed(self) -> None:
        """Wake the timer if it waits for room in the window (caller holds _cond)."""
        if self.window.room_freed():
            self._cond.notify()

    def start(self) -> int:
        """Start the timer and the writer; returns how many deliveries were waiting on disk."""
        waiting = sum(self.store.counts()[s] for s in statuses.UNFINISHED)
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
                window = self.window
                if window.dirty or now + self.WINDOW / 2 >= window.loaded[0]:
                    window.load(now + self.WINDOW)
                due_now = window.pop_due(now)
                if due_now:
                    break
                wake = now + (1.0 if "storage" in self.health.down() else self.REAP_EVERY)
                if len(window.claimed) < window.cap:
                    wake = min(wake, window.loaded[0] - self.WINDOW / 2)
                else:
                    window.full = True  # a commit or release that frees room wakes us
                if window.heap:
                    wake = min(wake, window.heap[0][0])
                self._cond.wait(sleep_for(wake - now))
                if wake <= self.clock():
                    break
        self.lanes.submit_many(due_now)

    # --- one attempt ---------------------------------------------------------------------

    def _attempt(self, entry: tuple) -> None:
        due, _, did, _, job, generation = entry
        if generation != self.window.generation:
            return  # the log was cleared since it was scheduled
        if job is None:
            job = self._job(entry)
            if job is None or job.due != due:
                self._release(did)  # finished, deleted or moved since it was loaded
                return
        started = self.clock()
        with self._on_wire_cond:
            self._on_wire[generation] = self._on_wire.get(generation, 0) + 1
        try:
            outcome = self.sender.post(job.url, job.body, job.headers, content_type=job.content_type,
                                       redirect_headers=job.redirect_headers)
        except Exception as exc:  # noqa: BLE001 - a bug in the sender is a failed attempt, not a dead lane
            self.health.incident("sender", f"unexpected {type(exc).__name__} in the sender: {exc}", exc)
            outcome = Outcome(False, None, "internal_error", f"mock-norce failed to send: {type(exc).__name__}: {exc}",
                              url=job.url)
        finally:
            with self._on_wire_cond:
                left = self._on_wire[generation] = self._on_wire[generation] - 1
                if not left:
                    del self._on_wire[generation]
                    self._on_wire_cond.notify_all()
        record = judge(job, started, outcome, interrupted=self._aborting and not outcome.ok)
        record.generation = generation
        self.recorder.put(record)

    def _job(self, entry: tuple) -> Job | None:
        """The job of an entry that waited without it: read ahead with the next ones of its lane.

        None when the log was cleared meanwhile: a read that began before a clear must not
        bring deleted deliveries back (another sender thread of the lane would post them).
        """
        did, generation = entry[2], entry[5]
        with self._prefetch_lock:
            job = self._prefetched.pop(did, None)
        if job is not None:
            return job
        ids = [did] + [e[2] for e in self.lanes.upcoming(entry[3], self.PREFETCH - 1) if e[4] is None]
        jobs = self.store.jobs(ids)
        job = jobs.pop(did, None)
        with self._prefetch_lock:
            if generation != self.window.generation:
                return None  # forget_all ran during the read (it bumps the generation first)
            if len(self._prefetched) > 16 * self.PREFETCH:
                self._prefetched.clear()  # left by entries dropped before their turn: start afresh
            self._prefetched.update(jobs)
        return job

    # --- recording (recorder.py) ---------------------------------------------------------

    def _write_batch(self, batch: list[AttemptRecord]) -> list[AttemptRecord]:
        """Commit a batch of results of this generation, then schedule their retries."""
        with self.gate:
            live = [r for r in batch if r.generation == self.window.generation]
            written = self.store.record(live)
            with self._cond:
                for r in live:
                    self.window.release(r.delivery_id, rescan=False)
                for r in written:
                    if r.due is not None and r.outcome.error_class != "interrupted":
                        self._schedule_locked(r.delivery_id, r.due, r.url, None)
                self._room_freed()
        return written

    def _forget_batch(self, batch: list[AttemptRecord]) -> None:
        with self._cond:
            for r in batch:
                self.window.release(r.delivery_id)

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
                self.window.dirty = True
                self.window.load(now)
                due = self.window.pop_due(now)
            if not due:
                return made
            for entry in due:
                self._attempt(entry)
                made += 1
            self.flush()


def _without_job(entry: tuple) -> tuple:
    """An entry that waits behind others keeps its id, not its body (read again when sent)."""
    return entry if entry[4] is None else entry[:4] + (None,) + entry[5:]
