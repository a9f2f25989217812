"""One firing of a schedule: its events (or its run) and its new state, committed together.

A firing commits the schedule's new state and its events in ONE transaction
(``outbox.emit_many(..., also=...)``) and changes the state in memory only once that
commit succeeded, so ``emitted`` is always the number of the schedule's events in the log,
across a failed write, a stop in the middle of a firing or a ``kill -9``. While stopping, a
firing in progress gives up before it commits anything. A failed write leaves the counts
alone, is shown in the schedule's ``error`` (logged at most once a minute), and the next
firing tries again. Over ``max_backlog`` unfinished deliveries a firing is skipped (counted)
until the backlog falls: generation pauses instead of filling the disk.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from mock_norce.delivery import chaos as chaos_spec
from mock_norce.playback.crontab import CronTab
from mock_norce.errors import MockNorceError
from mock_norce.playback.pacing import Pace, Window, events_in, passed, spread, window, window_of
from mock_norce.scenarios.player import MixStream
from mock_norce.figures.live import FigureBook

ACTIVE, PAUSED, FINISHED = "active", "paused", "finished"
LOG_EVERY = 60.0  # one log line per schedule and kind of problem per minute at most
log = logging.getLogger("mock_norce.playback.schedules")


def utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, timezone.utc)


def trigger_of(row: dict) -> BaseTrigger:
    """The APScheduler trigger of a schedule: its cron line, its interval, or its rate's windows."""
    spec = row["spec"]
    end = utc(row["ends_at"] - 0.001) if row["ends_at"] else None
    if spec["trigger"] == "cron":
        return CronTab(spec["cron"], end_date=end)
    seconds = spec["interval"] if spec["trigger"] == "interval" else window_of(spec)
    return IntervalTrigger(seconds=seconds, start_date=utc(row["created"]), end_date=end, timezone=timezone.utc)


class Finite(BaseTrigger):
    """A trigger that ends when its schedule has finished (count reached).

    APScheduler then removes the job itself; removing it from inside the job's own run
    would race with the scheduler updating that job.
    """

    def __init__(self, inner: BaseTrigger, finished: Callable[[], bool]):
        self.inner = inner
        self.finished = finished

    def get_next_fire_time(self, previous_fire_time, now):
        if self.finished():
            return None
        return self.inner.get_next_fire_time(previous_fire_time, now)


class Stopping(Exception):
    """The service is stopping: the firing in progress gives up, committing nothing."""


@dataclass
class Live:
    """What an active schedule keeps in memory beside its row (a restart starts afresh)."""

    stream: Iterator[tuple[Any, Any]] | None = None  # (story key, payload)
    pace: Pace = field(default_factory=Pace)
    logged: dict = field(default_factory=dict)  # kind of problem -> when it was last logged


class Firer:
    """Fires schedules for a ScheduleService, which owns the rows and shares its lock."""

    def __init__(self, outbox, library, runs, table, figures: FigureBook, clock: Callable[[], float],
                 lock: threading.Condition, current: Callable[[dict], bool], max_backlog: int = 0):
        self.outbox, self.library, self.runs, self.figures = outbox, library, runs, figures
        self.table = table  # the schedules table (storage.schedules.ScheduleTable)
        self.clock = clock
        self.lock = lock
        self.current = current  # whether a row is still stored and active (not paused/deleted)
        self.max_backlog = max_backlog  # 0: no bound
        self.stopping = False
        self.in_progress = 0
        self._backlog, self._backlog_until = 0, float("-inf")  # the latest count of unfinished deliveries

    def fire(self, row: dict, live: Live) -> None:
        """One firing; whatever goes wrong is recorded on the schedule, never raised."""
        try:
            self._fire(row, live)
        except Stopping:
            pass  # nothing was committed
        except (sqlite3.Error, MockNorceError) as exc:
            self._problem(row, live, "write", f"firing not written, nothing of it counted: {_reason(exc)}")
        except Exception as exc:  # a bug: recorded and logged with its traceback; the next firing tries again
            self._problem(row, live, "bug", f"firing failed: {exc!r}", exc)

    def _fire(self, row: dict, live: Live) -> None:
        now = self.clock()
        spec, sid = row["spec"], row["id"]
        following = trigger_of(row).get_next_fire_time(None, utc(now + 0.0005))
        new = dict(row, last_fire=now, next_fire=following.timestamp() if following else None)
        if following is None:
            new["status"] = FINISHED
        rate = spec["trigger"] == "rate"
        win = None
        if rate:  # the time this firing stands for: the latest on its grid (coalesced firings: the last)
            width, last = window_of(spec), now if row["ends_at"] is None else min(now, row["ends_at"] - 0.001)
            scheduled = row["created"] + math.floor((last - row["created"]) / width + 1e-6) * width
            win = window(live.pace, spec, scheduled, now)
        if self.max_backlog and self._throttled(row, live, now):
            self.figures.firing_skipped(sid)
            self._skip(row, live, new, win)
            return
        n, new["carry"] = events_in(spec, win.span, row["carry"], row["emitted"]) if rate else (1, row["carry"])
        new["fired"] = row["fired"] + (1 if n else 0)
        if spec["source"] == "scenario" and not rate:
            _finish_at_count(new, new["fired"])
            with self.lock:
                if self._gone(row):
                    return
                # Its run row is written by start_run, apart from the schedule's: a crash between
                # the two leaves run sid.N without the firing; the next firing replaces that run.
                self.runs.start_run(spec["scenario"], seed=(row["seed"] + new["fired"]) % 2**62,
                                    url=spec.get("url"), time_scale=spec.get("time_scale"),
                                    run_id=f"{sid}.{new['fired']}", chaos=_run_chaos(spec, new["fired"]))
                self.table.save(new)
                row.update(new, error=None)
            return
        if not n:  # an empty window of a slow rate: the fraction carries, in memory only
            self._skip(row, live, new, win)
            return
        stories, payloads = self._generate(row, live, n)
        enabled: dict[str, bool] = {}
        for p in payloads:  # an event of a type switched OFF is not recorded: not counted either
            if p.event_type not in enabled:
                enabled[p.event_type] = self.outbox.subscriptions.get(p.event_type).enabled
        new["emitted"] = row["emitted"] + sum(enabled[p.event_type] for p in payloads)
        _finish_at_count(new, new["emitted"] if rate else new["fired"])
        dues, pace = None, live.pace
        if rate:
            rng = random.Random((row["seed"] << 20) ^ row["fired"])
            dues, pace = spread(live.pace, win, stories, spec.get("jitter", 0.0), rng)
        with self.lock:
            if self._gone(row):
                return
            chaos = chaos_spec.parse(spec.get("chaos"))
            self.outbox.emit_many(payloads, url=spec.get("url"), run_id=sid, dues=dues,
                                  also=lambda db: self.table.write(db, new),
                                  chaos=chaos.seeded(row["seed"]) if chaos is not None else None,
                                  chaos_stream="schedule", chaos_from=row["emitted"])
            row.update(new, error=None)  # only now: the commit succeeded
            live.pace = pace

    def _skip(self, row: dict, live: Live, new: dict, win: Window | None) -> None:
        """A firing that writes nothing on purpose: on to the next time; only an ending is committed."""
        with self.lock:
            if self._gone(row):
                return
            if new["status"] == FINISHED:
                self.table.save(dict(row, status=FINISHED, next_fire=None, carry=new["carry"]))
            row.update(status=new["status"], carry=new["carry"], next_fire=new["next_fire"])
            if win is not None:
                live.pace = passed(live.pace, win)

    def _gone(self, row: dict) -> bool:
        """Under the lock, just before committing: stopping (abandon), or paused/deleted meanwhile."""
        if self.stopping:
            raise Stopping
        return not self.current(row)

    def _generate(self, row: dict, live: Live, n: int) -> tuple[list, list]:
        spec = row["spec"]
        if live.stream is None:
            seed = (row["seed"] + row["fired"]) % 2**62  # fresh after a restart, still reproducible
            if spec["source"] == "event":
                rng, factory = random.Random(seed), self.outbox.factory
                live.stream = ((i, factory.generate(spec["event"], rng=rng, market=spec.get("market"),
                                                    overrides=spec.get("overrides"))) for i in itertools.count())
            else:
                mix = spec.get("mix") or {spec["scenario"]: 1}
                live.stream = MixStream([(self.library.get(name), w) for name, w in mix.items()],
                                        self.outbox.factory, seed).stories()
        stories, payloads = [], []
        for _ in range(n):
            if self.stopping:
                raise Stopping
            try:
                key, payload = next(live.stream)
            except Exception:
                live.stream = None  # a generator that raised is over: the next firing starts a new one
                raise
            stories.append(key)
            payloads.append(payload)
        return stories, payloads

    def _throttled(self, row: dict, live: Live, now: float) -> bool:
        """Whether the backlog is over the bound (at most one count per firing); says so when it changes."""
        if now >= self._backlog_until:
            began = time.perf_counter()
            self._backlog = self.outbox.unfinished()
            # While counting is a scan of the log (not O(1)), a count that took a while is reused
            # for a hundred times as long: counting stays under 1% of the time, at ten firings a
            # second per schedule.
            self._backlog_until = now + (time.perf_counter() - began) * 100
        backlog = self._backlog
        over = backlog > self.max_backlog
        if over != self.figures[row["id"]].throttled:
            self.figures.set_throttled(row["id"], over)
            state = "pauses its generation" if over else "resumes"
            self._log(live, "throttle", now, "schedule %s %s: %d unfinished deliveries, bound %d",
                      row["id"], state, backlog, self.max_backlog)
        return over

    def _problem(self, row: dict, live: Live, kind: str, message: str, bug: Exception | None = None) -> None:
        with self.lock:
            row["error"] = message
            self.figures.firing_failed(row["id"])
            over = trigger_of(row).get_next_fire_time(None, utc(self.clock() + 0.0005)) is None
            if over and row["status"] == ACTIVE:
                row["status"], row["next_fire"] = FINISHED, None  # its time is over: the job ends too
                try:
                    self.table.save(row)
                except (sqlite3.Error, MockNorceError):
                    pass  # the next start finds it over and finishes it
        self._log(live, kind, self.clock(), "schedule %s: %s", row["id"], message, bug=bug)

    def note(self, live: Live, kind: str, fmt: str, *args) -> None:
        """Log a warning about a schedule, once a minute at most for each kind."""
        self._log(live, kind, self.clock(), fmt, *args)

    def _log(self, live: Live, kind: str, now: float, fmt: str, *args, bug: Exception | None = None) -> None:
        if now - live.logged.get(kind, -LOG_EVERY) >= LOG_EVERY:
            live.logged[kind] = now
            log.warning(fmt, *args, exc_info=bug)


def _run_chaos(spec: dict, fired: int) -> dict | None:
    """The chaos of a schedule's n-th run: its own seed moved on by n (each run's chaos differs,
    and is the same again for the same schedule seed), or, with none, the run's seed."""
    chaos = spec.get("chaos")
    if chaos is None or chaos.get("seed") is None:
        return chaos
    return dict(chaos, seed=(chaos["seed"] + fired) % 2**62)


def _finish_at_count(new: dict, counted: int) -> None:
    if "count" in new["spec"] and counted >= new["spec"]["count"]:
        new["status"], new["next_fire"] = FINISHED, None


def _reason(exc: BaseException) -> str:
    return exc.message if isinstance(exc, MockNorceError) else f"{type(exc).__name__}: {exc}"
