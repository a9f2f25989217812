"""Schedules: fire events or run scenarios on an interval, a cron expression or at a rate.

The only module that imports APScheduler (3.x). Schedules are kept in our own table of the
outbox database (the spec, the state: fired, emitted, next fire time), and handed to an
APScheduler scheduler with an in-memory job store at start: the database, not APScheduler's
store, is the record, so nothing is pickled and a restart rebuilds the jobs from it.

- interval / cron: each firing sends one event, or starts one run of a scenario;
- rate: a job every second writes that second's events at once (one transaction) with due
  times spread over the second (plus jitter), and the dispatcher sends each on time. Events
  come from an event type, or from scenarios played back to back without their waits
  (a "mix" of weighted scenarios is a soak).

Misfires: a firing missed while paused or stopped is never caught up in a burst. At most one
is made up (coalesced), and only if it is less than ``misfire_grace`` seconds late; resuming
a paused schedule starts from now. A firing's state is committed before its events, so a
crash cannot fire it twice (it can, at worst, lose that one firing).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .errors import MockNorceError
from .runner import MixStream
from .runs import RunManager
from .schedule_spec import ScheduleError, parse_spec
from .stats import FigureBook

ACTIVE, PAUSED, FINISHED = "active", "paused", "finished"
_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ScheduleNotFound(MockNorceError):
    code = "not_found"


class ScheduleConflict(MockNorceError):
    code = "conflict"


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, timezone.utc)


def crontab(expr: str) -> CronTrigger:
    """A CronTrigger from a standard 5-field crontab line (0 and 7 are Sunday, as in cron).

    APScheduler 3 numbers weekdays from Monday; day numbers are turned into names first.
    """
    fields = expr.split() if isinstance(expr, str) else []
    if len(fields) != 5:
        raise ScheduleError(f"bad cron expression {expr!r}: needs 5 fields (minute hour day month weekday)")

    def day_name(token: str) -> str:
        return _WEEKDAYS[int(token)] if token.isdigit() and int(token) <= 7 else token
    dow = ",".join("-".join(day_name(t) for t in part.split("-")) if "/" not in part else part
                   for part in fields[4].split(","))
    try:
        return CronTrigger(minute=fields[0], hour=fields[1], day=fields[2], month=fields[3], day_of_week=dow,
                           timezone=timezone.utc)
    except (ValueError, TypeError) as exc:
        raise ScheduleError(f"bad cron expression {expr!r}: {exc}") from None


class _Finite(BaseTrigger):
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


class ScheduleService:
    """Schedules of one database, driven by an APScheduler scheduler."""

    def __init__(self, outbox, library, runs: RunManager, *, clock: Callable[[], float] = time.time,
                 misfire_grace: float = 60.0, scheduler=None):
        self.outbox = outbox
        self.library = library
        self.runs = runs
        self.clock = clock
        self.misfire_grace = misfire_grace
        self.aps = scheduler or BackgroundScheduler(
            timezone=timezone.utc, executors={"default": ThreadPoolExecutor(8)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(misfire_grace)})
        self._rows: dict[str, dict] = {}
        self._streams: dict[str, Any] = {}
        self._lock = threading.RLock()
        self.figures = FigureBook(clock, _schedule_of)
        outbox.emit_listeners.append(self.figures.on_written)
        outbox.dispatcher.listeners.append(self.figures.on_attempt)

    # --- life ----------------------------------------------------------------------------

    def start(self) -> None:
        """Rebuild the jobs of every stored schedule and start firing."""
        for row in self.outbox.store.schedules():
            self._rows[row["id"]] = row
            self.figures.track(row["id"])
            if row["status"] == ACTIVE:
                self._add_job(row, resume=True)
        self.aps.start()

    def stop(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)

    # --- control -------------------------------------------------------------------------

    def create(self, data: Any) -> dict:
        spec = parse_spec(data, self.outbox.factory.catalog, self.library, crontab)
        now = self.clock()
        sid = "s-" + uuid.uuid4().hex[:10]
        row = {"id": sid, "name": spec.get("name") or None, "spec": spec, "status": ACTIVE, "created": now,
               "ends_at": now + spec["duration"] if "duration" in spec else None, "fired": 0, "emitted": 0,
               "next_fire": None, "last_fire": None, "carry": 0.0,
               "seed": spec.get("seed", random.SystemRandom().randrange(2**62))}
        with self._lock:
            if row["name"] and any(r["name"] == row["name"] for r in self._rows.values()):
                raise ScheduleConflict(f"a schedule named {row['name']!r} exists already")
            self._rows[sid] = row
            self.figures.track(sid, now)
            self._add_job(row, resume=False)
            self.outbox.store.save_schedule(row)
        return self.view(sid)

    def get(self, sid: str) -> dict:
        with self._lock:
            if sid not in self._rows:
                raise ScheduleNotFound(f"no schedule {sid!r}")
            return self._rows[sid]

    def view(self, sid: str) -> dict:
        row = dict(self.get(sid))
        row["figures"] = self.figures[sid].summary()
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
            row["status"], row["next_fire"] = PAUSED, None
            self._remove_job(sid)
            self.outbox.store.save_schedule(row)
        return self.view(sid)

    def resume(self, sid: str) -> dict:
        with self._lock:
            row = self.get(sid)
            if row["status"] != PAUSED:
                raise ScheduleConflict(f"schedule {sid} is {row['status']}, not paused")
            row["status"] = ACTIVE
            self._add_job(row, resume=False)  # from now: missed firings are not caught up
            self.outbox.store.save_schedule(row)
        return self.view(sid)

    def delete(self, sid: str) -> None:
        with self._lock:
            self.get(sid)
            self._remove_job(sid)
            self._rows.pop(sid)
            self._streams.pop(sid, None)
            self.figures.forget(sid)
            self.outbox.store.delete_schedule(sid)

    def load_config(self, specs: list) -> None:
        """Schedules from the config file, by name: kept if unchanged, replaced if changed."""
        if not isinstance(specs, list):
            raise ScheduleError("config 'schedules' must be a list")
        for i, data in enumerate(specs):
            if not isinstance(data, dict) or not data.get("name"):
                raise ScheduleError(f"config schedules[{i}] needs a name (it identifies it across restarts)")
            spec = parse_spec(data, self.outbox.factory.catalog, self.library, crontab)
            existing = next((r for r in self._rows.values() if r["name"] == data["name"]), None)
            if existing is not None:
                if existing["spec"] == spec:
                    continue
                self.delete(existing["id"])
            self.create(data)

    # --- firing --------------------------------------------------------------------------

    def _trigger(self, row: dict):
        spec = row["spec"]
        start = _utc(row["created"])
        end = _utc(row["ends_at"] - 0.001) if row["ends_at"] else None
        if spec["trigger"] == "cron":
            trigger = crontab(spec["cron"])
            trigger.end_date = end
            return trigger
        seconds = spec["interval"] if spec["trigger"] == "interval" else 1.0
        return IntervalTrigger(seconds=seconds, start_date=start, end_date=end, timezone=timezone.utc)

    def _add_job(self, row: dict, resume: bool) -> None:
        trigger = self._trigger(row)
        now = _utc(self.clock())
        if resume and row["next_fire"]:
            first = _utc(row["next_fire"])  # may be in the past: APScheduler's misfire rules apply
        elif row["spec"]["trigger"] == "cron":
            first = trigger.get_next_fire_time(None, now)
        else:
            first = trigger.get_next_fire_time(None, now) if resume else now
        if first is None:
            row["status"] = FINISHED
            self.outbox.store.save_schedule(row)
            return
        row["next_fire"] = first.timestamp()
        sid = row["id"]
        finite = _Finite(trigger, lambda: self._rows.get(sid, {}).get("status") != ACTIVE)
        self.aps.add_job(self._fire, finite, args=[sid], id=sid, next_run_time=first,
                         replace_existing=True, coalesce=True, max_instances=1,
                         misfire_grace_time=int(self.misfire_grace))

    def _remove_job(self, sid: str) -> None:
        try:
            self.aps.remove_job(sid)
        except JobLookupError:
            pass

    def _fire(self, sid: str) -> None:
        with self._lock:
            row = self._rows.get(sid)
            if row is None or row["status"] != ACTIVE:
                return
            now = self.clock()
            spec = row["spec"]
            n = self._how_many(row)
            row["fired"] += 1
            row["emitted"] += n
            row["last_fire"] = now
            trigger = self._trigger(row)
            following = trigger.get_next_fire_time(_utc(now), _utc(now + 0.0005))
            done = following is None or ("count" in spec and
                                         (row["emitted"] if spec["trigger"] == "rate" else row["fired"]) >= spec["count"])
            row["next_fire"] = None if done else following.timestamp()
            if done:
                row["status"] = FINISHED  # the job's trigger ends with it
            # Committed before anything is sent: a crash now loses this firing, never repeats it.
            self.outbox.store.save_schedule(row)
        try:
            self._send(row, n, now)
        except MockNorceError as exc:
            row["error"] = exc.message  # shown with the schedule; the next firing tries again

    def _how_many(self, row: dict) -> int:
        spec = row["spec"]
        if spec["trigger"] != "rate":
            return 1
        per_tick = spec["rate"] / (60.0 if spec["rate_per"] == "minute" else 1.0)
        total = row["carry"] + per_tick
        n = int(total + 1e-9)
        row["carry"] = total - n
        if "count" in spec:
            n = min(n, spec["count"] - row["emitted"])
        return max(0, n)

    def _send(self, row: dict, n: int, now: float) -> None:
        spec, sid = row["spec"], row["id"]
        if spec["source"] == "scenario" and spec["trigger"] != "rate":
            self.runs.start_run(spec["scenario"], seed=(row["seed"] + row["fired"]) % 2**62, url=spec.get("url"),
                                time_scale=spec.get("time_scale"), run_id=f"{sid}.{row['fired']}")
            return
        if n <= 0:
            return
        payloads = [self._next_payload(row) for _ in range(n)]
        dues = None
        if spec["trigger"] == "rate":
            rng = random.Random(row["seed"] ^ row["fired"])
            jitter = spec.get("jitter", 0.0)
            dues = [now + i / n + (rng.uniform(-jitter, jitter) if jitter else 0.0) for i in range(n)]
            dues = [max(now, d) for d in dues]
        self.outbox.emit_many(payloads, url=spec.get("url"), run_id=sid, dues=dues)

    def _next_payload(self, row: dict):
        spec, sid = row["spec"], row["id"]
        stream = self._streams.get(sid)
        if stream is None:
            seed = (row["seed"] + row["fired"]) % 2**62  # fresh after a restart, still reproducible
            if spec["source"] == "event":
                rng = random.Random(seed)
                factory = self.outbox.factory
                stream = (factory.generate(spec["event"], rng=rng, market=spec.get("market"),
                                           overrides=spec.get("overrides")) for _ in iter(int, 1))
            else:
                mix = spec.get("mix") or {spec["scenario"]: 1}
                stream = MixStream([(self.library.get(name), w) for name, w in mix.items()],
                                   self.outbox.factory, seed).payloads()
            self._streams[sid] = stream
        return next(stream)


def _schedule_of(run_id: str | None) -> str | None:
    if run_id and run_id.startswith("s-"):
        return run_id.split(".", 1)[0]
    return None


def load_config_schedules(service: ScheduleService, path) -> None:
    """Apply the ``schedules:`` list of the config file (MOCK_NORCE_CONFIG), if it has one."""
    import yaml

    try:
        data = yaml.safe_load(open(path, encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ScheduleError(f"cannot read schedules from {path}: {exc}") from None
    if isinstance(data, dict) and data.get("schedules"):
        try:
            service.load_config(data["schedules"])
        except MockNorceError as exc:
            raise ScheduleError(f"config {path}: {exc.message}") from None
