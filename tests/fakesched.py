"""Schedules on a fake clock: APScheduler driven by hand, a real outbox database, no threads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler


from mock_norce.app import build_library, build_outbox, build_runs, build_schedules

from .servers import answer

START = datetime(2026, 11, 23, 0, 0, 30, tzinfo=timezone.utc).timestamp()


class FakeClock:
    def __init__(self, t: float = START):
        self.t = t

    def __call__(self) -> float:
        return self.t


class ManualScheduler(BaseScheduler):
    """APScheduler without a thread: the test calls run_pending() after moving the clock."""

    def shutdown(self, wait=True):
        super().shutdown(wait)

    def wakeup(self):
        pass

    def run_pending(self):
        return self._process_jobs()


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(fake(), tz)
    # APScheduler asks datetime.now() when it looks for due jobs and checks misfires.
    monkeypatch.setattr("apscheduler.schedulers.base.datetime", FakeDatetime)
    monkeypatch.setattr("apscheduler.executors.base.datetime", FakeDatetime)
    return fake


class World:
    """A schedule service over a real outbox database, on the fake clock, without threads:
    the dispatcher sends only when asked (``deliver``)."""

    def __init__(self, settings, factory, clock, database, url, max_backlog=0):
        self.clock = clock
        self.outbox = build_outbox(settings.with_(subscriber_url=url, time_scale=0), database=database,
                                           clock=clock, factory=factory)
        self.library = build_library(settings, factory.catalog)
        self.runs = build_runs(self.outbox, self.library, clock=clock)
        self.aps = ManualScheduler(timezone=timezone.utc, executors={"default": DebugExecutor()})
        self.service = build_schedules(settings.with_(misfire_grace=60, max_backlog=max_backlog), self.outbox,
                                       self.library, self.runs, clock=clock, scheduler=self.aps)
        self.service.start()

    def advance(self, seconds: float, step: float = 1.0) -> None:
        end = self.clock.t + seconds
        self.aps.run_pending()  # what is due now, as the real scheduler's thread would at once
        while self.clock.t < end - 1e-9:
            self.clock.t = min(end, round(self.clock.t + step, 6))  # no float drift off the grid
            self.aps.run_pending()
            self.runs.tick(self.clock.t)

    def emitted(self, sid: str) -> int:
        """The schedule's events in the log."""
        return self.outbox.store.deliveries(run_id=sid, limit=1)[1]

    def deliver(self) -> int:
        """Make every attempt due by now (to the test's subscriber)."""
        return self.outbox.dispatcher.run_due(self.clock.t)

    def close(self):
        if self.aps.running:
            self.aps.shutdown()
            self.outbox.store.close()


@pytest.fixture
def world(settings, factory, clock, tmp_path, serve):
    made = []
    url = serve(answer(200)).url

    def make(database=str(tmp_path / "sched.db"), **options):
        w = World(settings, factory, clock, database, url, **options)
        made.append(w)
        return w
    yield make
    for w in made:
        w.close()
