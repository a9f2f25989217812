"""Runs of scenarios: start, play on time, cancel, and know when they are done.

One thread plays every active run: it sleeps until the earliest run has a step due, ticks
the due runs (``scenarios.player.Run``) and hands their events to the outbox. A run is *completed* once
all its steps are played and every delivery it made is delivered or dead, as the log's kept
counts say (never while a step's events are still being written); *failed* if a step
could not be played (the reason is kept); *cancelled* if asked to stop (its deliveries already
made go on). Runs are recorded in the store; a run that was playing when mock-norce stopped
is marked failed at the next start. The thread survives anything one run does.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

from mock_norce import statuses
from mock_norce import limits
from mock_norce.errors import MockNorceError, RunConflict, RunNotFound
from mock_norce.catalogue.payloads import new_seed
from mock_norce.delivery import chaos as chaos_spec
from mock_norce.delivery.chaos import Chaos
from mock_norce.delivery.outbox import Outbox
from mock_norce.storage.runs import RunTable
from mock_norce.scenarios.player import Emitted, Run
from mock_norce.scenarios.library import Library
from mock_norce.scenarios.outline import keys, outline, progress
from mock_norce.delivery.subscriptions import check_url

log = logging.getLogger("mock_norce.playback.runs")

RUNNING, COMPLETED, FAILED, CANCELLED = "running", "completed", "failed", "cancelled"
FINAL = (COMPLETED, FAILED, CANCELLED)


@dataclass
class _Active:
    run: Run
    row: dict
    emitting: bool = False  # a step's events are being written: not complete whatever the counts say
    recheck: bool = False  # a completion check is queued behind the writer
    done: threading.Event = field(default_factory=threading.Event)
    # The latest deliveries of each step (by the step's id()), for the run's page: a few per
    # step, so a 10,000-round repeat does not grow it.
    emitted: dict = field(default_factory=dict)
    chaos: Chaos | None = None  # seeded: wins over the subscriptions'
    chaos_next: int = 0  # the position of its next event in its chaos stream

    STEP_DELIVERIES = 20


class RunManager:
    """Plays scenario runs through an outbox."""

    def __init__(self, outbox: Outbox, library: Library, table: RunTable, clock: Callable[[], float] = time.time):
        self.outbox = outbox
        self.table = table
        self.library = library
        self.clock = clock
        self.on_emit: list[Callable[[str, Emitted, int | None], None]] = []
        self._active: dict[str, _Active] = {}
        self._lock = threading.Condition(threading.RLock())
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._emitting = 0  # steps whose events are being written right now (reset waits for them)
        # Runs that ended in this process, newest last, so their page still shows the steps
        # played and the deliveries of each (a run from before a restart shows its steps only).
        self._ended: OrderedDict[str, _Active] = OrderedDict()
        self.health = getattr(outbox.dispatcher, "health", None)
        outbox.dispatcher.listeners.append(self._on_record)

    # --- control -------------------------------------------------------------------------

    def start_run(self, name: str, *, seed: int | None = None, url: str | None = None,
                  time_scale: float | None = None, run_id: str | None = None, chaos=None) -> dict:
        """Begin playing a scenario now; returns the run. ``chaos`` (a spec, checked here) is
        seeded by the run's seed unless it names its own."""
        scenario = self.library.get(name)
        chaos = chaos_spec.parse(chaos)
        if url is not None:
            check_url(url, self.outbox.subscriptions.allow_link_local)
        if time_scale is not None:
            limits.check_number(time_scale, "time_scale", 0, limits.TIME_SCALE_MAX)
        seed = new_seed() if seed is None else seed
        scale = self.outbox.time_scale if time_scale is None else float(time_scale)
        now = self.clock()
        chaos = chaos.seeded(seed) if chaos is not None else None
        row = {"id": run_id or uuid.uuid4().hex[:12], "scenario": scenario.name, "seed": seed, "status": RUNNING,
               "time_scale": scale, "url": url, "started": now, "finished": None, "events": 0, "error": None,
               "chaos": chaos.to_dict() if chaos is not None else None}
        active = _Active(Run(scenario, self.outbox.factory, seed, scale, now), row, chaos=chaos)
        self.table.save(row)
        with self._lock:
            self._active[row["id"]] = active
            self._lock.notify_all()
        return self.get(row["id"])

    def cancel(self, run_id: str) -> dict:
        """Stop playing a run; deliveries it already made go on. Conflict if it has ended."""
        with self._lock:
            active = self._active.get(run_id)
            if active is None or active.row["status"] != RUNNING:
                current = self.get(run_id)
                raise RunConflict(f"run {run_id} is already {current['status']}")
            self._finish(active, CANCELLED)
        return self.get(run_id)

    EMIT_WAIT = 10.0  # the longest reset waits for a step's events being written (a commit, normally ms)

    def reset(self) -> int:
        """Cancel every run still playing, wait for a step being written, forget every run;
        how many runs were forgotten. After this no event of an earlier run is written."""
        with self._lock:
            for active in list(self._active.values()):
                if active.row["status"] == RUNNING:
                    self._finish(active, CANCELLED)
            # A step already past its status check commits its events: let it, so the caller's
            # clear of the log comes after them (_play checks the status under this lock).
            deadline = time.monotonic() + self.EMIT_WAIT
            while self._emitting and deadline - time.monotonic() > 0:
                self._lock.wait(deadline - time.monotonic())
            self._ended.clear()
            return self.table.clear()

    def get(self, run_id: str) -> dict:
        with self._lock:
            active = self._active.get(run_id)
            row = dict(active.row) if active else self.table.get(run_id)
        if row is None:
            raise RunNotFound(f"no run {run_id!r}")
        row["deliveries"] = self.outbox.store.run_counts(run_id)
        return row

    def wait(self, run_id: str, timeout: float) -> dict:
        """The run once it has ended (completed, failed, cancelled) or when the timeout passes."""
        with self._lock:
            active = self._active.get(run_id)
        if active is not None:
            active.done.wait(timeout)
        return self.get(run_id)

    def list(self, limit: int = 50) -> list[dict]:
        return self.table.latest(limit)

    ENDED_KEPT = 200

    def detail(self, run_id: str) -> dict:
        """The run (as ``get``) with its scenario's steps, the deliveries each step made, and
        where it is: the steps played, the current one and its wait (``progress`` None when
        this process did not play it)."""
        row = self.get(run_id)
        with self._lock:
            active = self._active.get(run_id) or self._ended.get(run_id)
            emitted = {k: list(v) for k, v in active.emitted.items()} if active else {}
        if active is not None:
            scenario = active.run.scenario
        else:
            try:
                scenario = self.library.get(row["scenario"])
            except MockNorceError:  # a scenario since removed: the run is shown without steps
                scenario = None
        steps = outline(scenario) if scenario is not None else []
        index = keys(scenario) if scenario is not None else {}
        by_index = {index[k]: ids for k, ids in emitted.items() if k in index}
        for step in steps:
            step["deliveries"] = by_index.get(step["index"], [])
        row["steps"] = steps
        row["progress"] = progress(active.run, self.clock()) if active is not None else None
        return row

    # --- playing -------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> float | None:
        """Play every step due by `now` in every run; returns when the next one is due."""
        now = self.clock() if now is None else now
        with self._lock:
            due = [a for a in self._active.values() if a.row["status"] == RUNNING and not a.run.done
                   and a.run.next_at <= now]
        for active in due:
            self._play(active, now)
        with self._lock:
            pending = [a.run.next_at for a in self._active.values() if a.row["status"] == RUNNING and not a.run.done]
            return min(pending) if pending else None

    def _play(self, active: _Active, now: float) -> None:
        row = active.row
        with self._lock:
            if row["status"] != RUNNING:
                return  # cancelled (or reset) since tick() chose it
            active.emitting = True
            self._emitting += 1
        emitted, ids, error = [], [], None
        try:
            emitted = active.run.tick(now)
            if emitted:
                ids = self.outbox.emit_many([e.payload for e in emitted], url=row["url"], run_id=row["id"],
                                            scale=row["time_scale"], chaos=active.chaos,
                                            chaos_from=active.chaos_next)
                active.chaos_next += len(emitted)
        except MockNorceError as exc:
            error, ids = exc.message, []
        except Exception as exc:  # noqa: BLE001 - one run's bug fails that run, not the thread
            log.exception("run %s failed unexpectedly", row["id"])
            error, ids = f"mock-norce failed to play it: {type(exc).__name__}: {exc}", []
        with self._lock:
            active.emitting = False
            self._emitting -= 1
            self._lock.notify_all()
            row["events"] += len(ids)
            if row["status"] == RUNNING:
                if error or active.run.error:
                    row["error"] = error or active.run.error
                    self._finish(active, FAILED)
                elif active.run.done:
                    # Its deliveries may all be written already, their listeners not yet run:
                    # decide after the writer has caught up, so the run ends after its attempts.
                    self.outbox.dispatcher.after_writes(lambda: self._recheck(active))
        with self._lock:
            for e, did in zip(emitted, ids):
                if did is None:
                    continue  # its type is OFF: nothing recorded
                kept = active.emitted.setdefault(e.key, [])
                kept.append(did)
                del kept[:-active.STEP_DELIVERIES]
        for e, did in zip(emitted, ids):
            for hook in self.on_emit:
                hook(row["id"], e, did)

    def _complete_if_done(self, active: _Active) -> None:
        """Completed once every step is played and the log has nothing of it left to deliver."""
        if active.emitting or not active.run.done or active.row["status"] != RUNNING:
            return
        counts = self.outbox.store.run_counts(active.row["id"])
        if not any(counts[s] for s in statuses.UNFINISHED):
            self._finish(active, COMPLETED)

    def _recheck(self, active: _Active) -> None:
        with self._lock:
            active.recheck = False
            self._complete_if_done(active)

    def _on_record(self, record) -> None:
        if record.due is not None or record.run_id is None:
            return
        with self._lock:
            active = self._active.get(record.run_id)
            if active is None or active.recheck:
                return
            # After the rest of this batch has been reported: the counts already include it.
            active.recheck = True
        self.outbox.dispatcher.after_writes(lambda: self._recheck(active))

    def _finish(self, active: _Active, status: str) -> None:
        active.row["status"] = status
        active.row["finished"] = self.clock()
        self._active.pop(active.row["id"], None)
        self._ended[active.row["id"]] = active
        while len(self._ended) > self.ENDED_KEPT:
            self._ended.popitem(last=False)
        try:
            self.table.save(active.row)
        finally:
            active.done.set()
            self._lock.notify_all()

    # --- life ----------------------------------------------------------------------------

    def start(self) -> None:
        failed = self.table.fail_unfinished("mock-norce stopped during the run", self.clock())
        if failed:
            print(f"mock-norce: {failed} run(s) interrupted by the last stop were marked failed", flush=True)
        self._thread = threading.Thread(target=self._loop, name="mock-norce-runs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        backoff = 0.05
        while True:
            try:
                next_at = self.tick()
                backoff = 0.05
                if self.health is not None:
                    self.health.clear("runs")
            except Exception as exc:  # noqa: BLE001 - the runs thread must outlive any failure
                if self.health is not None:
                    self.health.report("runs", f"{type(exc).__name__}: {exc}", exc)
                else:
                    log.exception("runs thread")
                next_at = self.clock() + backoff
                backoff = min(backoff * 2, 2.0)
            with self._lock:
                if self._stopping:
                    return
                has_due = any(a.row["status"] == RUNNING and not a.run.done and a.run.next_at <= self.clock()
                              for a in self._active.values())
                if not has_due:
                    self._lock.wait(limits.sleep_for(None if next_at is None else next_at - self.clock()))

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
