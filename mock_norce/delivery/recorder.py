"""The recorder: what an attempt's result is (``judge``, by Norce's policy), written into the
database, then handed to whoever waits for it.

One writer thread takes results from a queue, commits them in batches (group commit), and
then, in this order, lets the dispatcher schedule retries (inside ``write``), calls the
listeners (figures, runs, the CLI's printer), wakes whoever waits for a delivery to finish,
and applies retention. A commit that fails because the database cannot be written is
retried with backoff, never dropped: meanwhile ``storage_down`` is set (the dispatcher starts
no new attempts) and ``storage_problem`` says why (the outbox refuses new events at once).
Callbacks queued with ``after_writes`` run once everything queued before them is written and
reported. The writer outlives any failure; a batch it could not write at all is handed back
(``forget``) so its deliveries are attempted again from the disk.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from mock_norce.errors import StorageUnavailable
from mock_norce.health import Health
from mock_norce.limits import sleep_for
from mock_norce import statuses
from mock_norce.delivery import chaos, policy
from mock_norce.storage.deliveries import AttemptRecord, Job, DeliveryLog

log = logging.getLogger("mock_norce.delivery.recorder")

_STOP = object()


class Recorder:
    COMMIT_WINDOW = 0.003  # the writer gathers results this long before a commit (fewer, larger ones)
    BATCH_MAX = 5000
    GIVE_UP_WHEN_STOPPING = 1.0  # seconds a stop waits for a database that cannot be written

    def __init__(self, store: DeliveryLog, health: Health, *, write: Callable[[list], list],
                 forget: Callable[[list], None], recovered: Callable[[], None], stopping: Callable[[], bool],
                 clock: Callable[[], float] = time.time, retention_max: int | None = None,
                 retention_age: float | None = None, prune_every: float = 5.0):
        self.store = store
        self.health = health
        self.write = write  # commits a batch (and schedules its retries); returns the records written
        self.forget = forget  # a batch that could not be written at all
        self.recovered = recovered  # the database can be written again
        self.stopping = stopping
        self.clock = clock
        self.retention_max = retention_max
        self.retention_age = retention_age
        self.prune_every = prune_every
        self.listeners: list[Callable[[AttemptRecord], None]] = []  # called after each commit
        self.pruned: list[Callable[[], None]] = []  # after each retention pass (the world follows it)
        self.storage_down = threading.Event()
        self.storage_problem: str | None = None  # why results cannot be written, while they cannot
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._waiters: dict[int, list[threading.Event]] = {}
        self._waiters_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_prune = 0.0

    # --- feeding -------------------------------------------------------------------------

    def put(self, record: AttemptRecord) -> None:
        self._queue.put(record)

    def after_writes(self, callback: Callable[[], None]) -> None:
        """Call `callback` in the writer once every result queued before it is written and
        its listeners have run (so, e.g., a run ends after its last attempt was reported)."""
        self._queue.put(callback)

    # --- the writer thread ---------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mock-norce-writer", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Write everything queued so far, then end the writer."""
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join(10.0)

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            items = [first]
            if first is not _STOP:
                time.sleep(self.COMMIT_WINDOW)  # let a burst gather into one transaction
            while len(items) < self.BATCH_MAX:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = _STOP in items
            self._write_items([x for x in items if x is not _STOP], final=stop)

    def flush(self) -> int:
        """Write the results waiting in the queue (for running without threads), and what
        their listeners queue in turn."""
        written = 0
        while not self._queue.empty():
            items = []
            while True:
                try:
                    item = self._queue.get_nowait()
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
                # their due time on disk and are attempted again from there.
                self.health.report("writer", f"{type(exc).__name__}: {exc}", exc)
                self.forget(batch)
            batch = []
            if item is not None:
                try:
                    item()
                except Exception as exc:  # noqa: BLE001 - a callback must not stop the recording
                    self.health.incident("listeners", f"{type(exc).__name__}: {exc}", exc)

    def _commit(self, batch: list[AttemptRecord], final: bool = False) -> None:
        """Write a batch, retrying while the database fails; then listeners, waiters, retention."""
        backoff, give_up = 0.05, time.monotonic() + self.GIVE_UP_WHEN_STOPPING
        written: list[AttemptRecord] = []
        while batch:
            try:
                written = self.write(batch)
                break
            except StorageUnavailable as exc:
                self.storage_problem = exc.message
                self.storage_down.set()
                self.health.report("storage", exc.message)
                if (final or self.stopping()) and time.monotonic() > give_up:
                    log.error("stopping with %d attempt result(s) unwritten (%s); those deliveries are attempted "
                              "again at the next start", len(batch), exc.message)
                    return
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
        if self.storage_down.is_set():
            self.storage_problem = None
            self.storage_down.clear()
            self.health.clear("storage")
            self.recovered()
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
            if self.store.prune(self.retention_max, cutoff):
                for follow in self.pruned:  # only when the log lost something (and could write)
                    follow()
        except Exception as exc:  # noqa: BLE001 - retention is tidying; delivery goes on
            self.health.incident("retention", f"{type(exc).__name__}: {exc}", exc)

    # --- waiting -------------------------------------------------------------------------

    def wait(self, delivery_id: int, timeout: float) -> bool:
        """Block until the delivery is delivered or dead (True) or the timeout passes (False)."""
        event = threading.Event()
        with self._waiters_lock:
            self._waiters.setdefault(delivery_id, []).append(event)
        try:
            status = self.store.delivery_status(delivery_id)
            if status is None or status in ("delivered", "dead"):
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


def judge(job: Job, started: float, outcome, interrupted: bool = False) -> AttemptRecord:
    """The result of an attempt to record: the delivery's new status and next due time, by
    the policy the delivery was created under (``job.policy``). An attempt interrupted by a
    stop is not counted against the policy's attempts: it is made again, with the same
    number, as soon as mock-norce is back. A failed attempt the policy does not retry (legacy:
    anything but a 500 or no answer) ends the delivery dead, its error saying why."""
    late = max(0.0, started - job.due)
    if interrupted:
        outcome.error_class, outcome.error = "interrupted", "mock-norce stopped during the attempt"
        status = statuses.RETRYING if job.attempts else statuses.PENDING
        return AttemptRecord(job.delivery_id, job.attempts + 1, started, outcome, status, started,
                             job.run_id, late, job.url)
    number = job.attempts + 1
    if number == 1 and job.chaos_fail and outcome.ok:
        # Chaos: as if Norce lost the answer. The subscriber's real answer stays as evidence.
        outcome.ok, outcome.error_class = False, chaos.ERROR_CLASS
        outcome.error = chaos.failed_on_purpose(f"HTTP {outcome.status}")
    if outcome.ok:
        return AttemptRecord(job.delivery_id, number, started, outcome, statuses.DELIVERED, None,
                             job.run_id, late, job.url)
    rules = policy.named(job.policy)
    if not rules.retried(outcome.status, outcome.error_class):
        outcome.error = f"{outcome.error or 'failed'} ({rules.not_retried()})"
        return AttemptRecord(job.delivery_id, number, started, outcome, statuses.DEAD, None,
                             job.run_id, late, job.url)
    delay = rules.retry_delay(number, job.scale)
    status, due = (statuses.DEAD, None) if delay is None else (statuses.RETRYING, started + delay)
    return AttemptRecord(job.delivery_id, number, started, outcome, status, due, job.run_id, late, job.url)
