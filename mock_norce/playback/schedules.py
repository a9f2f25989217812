"""Schedules: fire events or run scenarios on an interval, a cron line or at a rate.

The only module that drives APScheduler (3.x): crontab.py gives it standard cron lines,
firing.py does what one firing does. Schedules are kept in our own table of the outbox
database (the spec, the state: fired, emitted, next fire time), and handed to an APScheduler
scheduler with an in-memory job store at start: the database, not APScheduler's store, is
the record, so nothing is pickled and a restart rebuilds the jobs from it.

- interval / cron: each firing sends one event, or starts one run of a scenario (``sid.N``);
- rate: a firing every 0.1 s (1 s below 10/s) writes the events of a window of time that
  begins 0.1 s later, due times spread over it (pacing.py), and the dispatcher sends each on
  time. Events come from an event type, or from scenarios played back to back without their
  waits (a "mix" of weighted scenarios is a soak); jitter shifts whole stories.

Schedules named in the config file are applied by schedule_config.py.

A firing and its events are one transaction (firing.py), so the counts always match the
log. stop() makes a firing in progress give up and waits for it before the database closes.

Misfires: a firing missed while paused or stopped is never caught up in a burst. At most one
is made up (coalesced), and only if it is less than ``misfire_grace`` seconds late; resuming
a paused schedule starts from now.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from mock_norce.playback.crontab import crontab
from mock_norce.errors import ScheduleConflict, ScheduleError, ScheduleNotFound
from mock_norce.playback.firing import ACTIVE, FINISHED, PAUSED, Finite, Firer, Live, trigger_of, utc
from mock_norce.playback.runs import RunManager
from mock_norce.playback.schedule_spec import parse_spec
from mock_norce.storage.schedules import ScheduleTable
from mock_norce.figures.live import FigureBook

STOP_WAIT = 3.0  # the longest stop() waits for firings in progress (they give up at once)

__all__ = ["ScheduleService", "crontab", "ACTIVE", "PAUSED", "FINISHED"]


class ScheduleService:
    """Schedules of one database, driven by an APScheduler scheduler."""

    def __init__(self, outbox, library, runs: RunManager, table: ScheduleTable, *, clock: Callable[[], float] = time.time,
                 misfire_grace: float = 60.0, scheduler=None, max_backlog: int = 0):
        self.outbox = outbox
        self.library = library
        self.runs = runs
        self.table = table
        self.clock = clock
        self.misfire_grace = misfire_grace
        self.aps = scheduler or BackgroundScheduler(
            timezone=timezone.utc, executors={"default": ThreadPoolExecutor(8)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(misfire_grace)})
        self._rows: dict[str, dict] = {}
        self._live: dict[str, Live] = {}
        self._lock = threading.Condition(threading.RLock())  # guards the rows; stop() waits on it
        self.figures = FigureBook(clock, _schedule_of)
        self.firer = Firer(outbox, library, runs, table, self.figures, clock, self._lock,
                           lambda row: self._rows.get(row["id"]) is row and row["status"] == ACTIVE, max_backlog)
        outbox.emit_listeners.append(self.figures.on_written)
        outbox.dispatcher.listeners.append(self.figures.on_attempt)

    # --- life ----------------------------------------------------------------------------

    def start(self) -> None:
        """Rebuild the jobs of every stored schedule and start firing."""
        # APScheduler logs two lines per job run and a warning per firing it skips (the previous
        # one still running) or misses: at ten firings a second per rate schedule a busy machine
        # would drown the log. Those are said here instead, once a minute per schedule at most.
        for name in ("apscheduler.executors.default", "apscheduler.scheduler"):
            logging.getLogger(name).setLevel(logging.ERROR)
        self.aps.add_listener(self._on_skipped, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        for row in self.table.all():
            self._rows[row["id"]] = row
            self._live[row["id"]] = Live()
            self.figures.track(row["id"])
            if row["status"] == ACTIVE:
                try:
                    self._add_job(row, resume=True)
                except (ValueError, OverflowError) as exc:  # stored by an older version, before the ranges
                    row.update(status=PAUSED, error=f"cannot be scheduled: {exc}; paused")
                    logging.getLogger(__name__).warning("schedule %s: %s", row["id"], row["error"])
        self.aps.start()
        threading.Thread(target=self._housekeeper, name="mock-norce-schedule-ends", daemon=True).start()

    def _housekeeper(self) -> None:
        """Once a second while the scheduler runs: finish what ended unseen (below)."""
        while self.aps.running and not self.firer.stopping:
            try:
                self._finish_ended()
            except Exception:  # noqa: BLE001 - the next round tries again
                logging.getLogger(__name__).exception("finishing ended schedules")
            time.sleep(1.0)

    def stop(self) -> None:
        """Stop firing: a firing in progress abandons (nothing of it is committed) and is
        waited for, so the database is never closed under it."""
        with self._lock:
            self.firer.stopping = True
            deadline = time.monotonic() + STOP_WAIT
            while self.firer.in_progress and deadline - time.monotonic() > 0:
                self._lock.wait(deadline - time.monotonic())
            idle = not self.firer.in_progress
        if self.aps.running:
            self.aps.shutdown(wait=idle)

    # --- control -------------------------------------------------------------------------

    def create(self, data: Any) -> dict:
        """A new schedule, stored and scheduled, or nothing at all and an error."""
        spec = parse_spec(data, self.outbox.factory, self.library, crontab)
        now = self.clock()
        sid = "s-" + uuid.uuid4().hex[:10]
        row = {"id": sid, "name": spec.get("name") or None, "spec": spec, "status": ACTIVE, "created": now,
               "ends_at": now + spec["duration"] if "duration" in spec else None, "fired": 0, "emitted": 0,
               "next_fire": None, "last_fire": None, "carry": 0.0,
               "seed": spec.get("seed", random.SystemRandom().randrange(2**62))}
        try:
            first = self._first_fire(row, resume=False)
        except (OverflowError, ValueError) as exc:  # the ranges of parse_spec should make this unreachable
            raise ScheduleError(f"cannot schedule this: {exc}") from None
        row["next_fire"] = first.timestamp()
        with self._lock:
            if row["name"] and any(r["name"] == row["name"] for r in self._rows.values()):
                raise ScheduleConflict(f"a schedule named {row['name']!r} exists already")
            self.table.save(row)  # first: if the disk refuses, nothing exists
            self._rows[sid], self._live[sid] = row, Live()
            self.figures.track(sid, now)
            try:
                self._schedule(row, first)
            except BaseException:
                self._rows.pop(sid), self._live.pop(sid), self.figures.forget(sid)
                self.table.delete(sid)
                raise
        return self.view(sid)

    def get(self, sid: str) -> dict:
        with self._lock:
            if sid not in self._rows:
                raise ScheduleNotFound(f"no schedule {sid!r}")
            return self._rows[sid]

    def view(self, sid: str) -> dict:
        with self._lock:
            row = dict(self.get(sid))
        figures = self.figures[sid].summary()
        row.setdefault("error", None)
        row.update(throttled=figures["throttled"], skipped_firings=figures["skipped_firings"], figures=figures)
        return row

    def list(self) -> list[dict]:
        with self._lock:
            ids = list(self._rows)
        return [self.view(sid) for sid in ids]

    def pause(self, sid: str) -> dict:
        with self._lock:
            row = self.get(sid)
            if row["status"] != ACTIVE:
                raise ScheduleConflict(f"schedule {sid} is {row['status']}, not active")
            self._save(row, status=PAUSED, next_fire=None)
            self._remove_job(sid)
        return self.view(sid)

    def resume(self, sid: str) -> dict:
        with self._lock:
            row = self.get(sid)
            if row["status"] != PAUSED:
                raise ScheduleConflict(f"schedule {sid} is {row['status']}, not paused")
            self._save(row, status=ACTIVE)
            self._add_job(row, resume=False)  # from now: missed firings are not caught up
        return self.view(sid)

    def delete(self, sid: str) -> None:
        with self._lock:
            self.get(sid)
            self.table.delete(sid)
            self._forget(sid)

    def reset(self) -> int:
        """Delete every schedule (those of the config file too: the caller applies the file
        again); how many were deleted. A firing in progress commits nothing after this: it
        checks, under the same lock, that its schedule still exists before it writes."""
        with self._lock:
            ids = list(self._rows)
            deleted = self.table.clear()
            for sid in ids:
                self._forget(sid)
        return max(deleted, len(ids))

    def _forget(self, sid: str) -> None:
        """A deleted schedule's state in memory: its row, job, live figures (under the lock)."""
        self._rows.pop(sid)  # first: the job's removal must not look like its natural end
        self._remove_job(sid)
        self._live.pop(sid, None)
        self.figures.forget(sid)

    # --- jobs ----------------------------------------------------------------------------

    def _first_fire(self, row: dict, resume: bool) -> datetime | None:
        now = utc(self.clock())
        if resume and row["next_fire"]:
            return utc(row["next_fire"])  # may be in the past: APScheduler's misfire rules apply
        if row["spec"]["trigger"] == "cron" or resume:
            return trigger_of(row).get_next_fire_time(None, now)
        return now  # an interval or a rate fires at once

    def _add_job(self, row: dict, resume: bool) -> None:
        first = self._first_fire(row, resume)
        if first is None:
            self._save(row, status=FINISHED, next_fire=None)
            return
        row["next_fire"] = first.timestamp()
        self._schedule(row, first)

    def _schedule(self, row: dict, first: datetime) -> None:
        sid = row["id"]
        finite = Finite(trigger_of(row), lambda: self._rows.get(sid, {}).get("status") != ACTIVE)
        self.aps.add_job(self._fire, finite, args=[sid], id=sid, next_run_time=first,
                         replace_existing=True, coalesce=True, max_instances=1,
                         misfire_grace_time=int(self.misfire_grace))

    def _remove_job(self, sid: str) -> None:
        try:
            self.aps.remove_job(sid)
        except JobLookupError:
            pass

    def _save(self, row: dict, **changes) -> None:
        """Commit a row with changes, then apply them in memory (a failure changes nothing)."""
        self.table.save(dict(row, **changes))
        row.update(changes)

    # --- firing --------------------------------------------------------------------------

    def _on_skipped(self, event) -> None:
        live = self._live.get(event.job_id)
        if live is None:
            return
        if event.code == EVENT_JOB_MAX_INSTANCES:
            self.firer.note(live, "busy", "schedule %s: a firing was skipped, the previous one was still running "
                            "(a busy machine?); a rate's next window covers it", event.job_id)
        else:
            self.firer.note(live, "missed", "schedule %s: a firing was skipped, more than %g s late",
                            event.job_id, self.misfire_grace)

    def _finish_ended(self) -> None:
        """Finish what has ended without a firing that saw it.

        On a busy machine the last firing of a timed schedule can be skipped (the previous one
        still running); APScheduler then drops the ended job and no firing marks the schedule
        finished. Once a second, an active schedule past its end, with no job left and no
        firing running, is finished here. (APScheduler's own lock is never taken while ours
        is held here: the job lookups come first.)
        """
        now = self.clock()
        with self._lock:
            candidates = [sid for sid, row in self._rows.items()
                          if row["status"] == ACTIVE and row["ends_at"] is not None and row["ends_at"] + 1.0 < now]
        gone = [sid for sid in candidates if self.aps.get_job(sid) is None]
        if not gone:
            return
        with self._lock:
            if self.firer.in_progress:
                return  # the next round decides
            for sid in gone:
                row = self._rows.get(sid)
                if row is not None and row["status"] == ACTIVE:
                    try:
                        self._save(row, status=FINISHED, next_fire=None)
                    except Exception as exc:  # noqa: BLE001 - the next round tries again
                        row["error"] = f"could not record the end: {exc}"

    def _fire(self, sid: str) -> None:
        with self._lock:
            row = self._rows.get(sid)
            if self.firer.stopping or row is None or row["status"] != ACTIVE:
                return
            live = self._live[sid]
            self.firer.in_progress += 1
        try:
            self.firer.fire(row, live)
        finally:
            with self._lock:
                self.firer.in_progress -= 1
                self._lock.notify_all()


def _schedule_of(run_id: str | None) -> str | None:
    if run_id and run_id.startswith("s-"):
        return run_id.split(".", 1)[0]
    return None
