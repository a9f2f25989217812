"""Schedules with a fake clock (APScheduler driven by hand), and one real-time rate test."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime, timezone

import pytest

from mock_norce.errors import EngineLocked
from mock_norce.storage.enginelock import EngineLock
from mock_norce.errors import ScheduleConflict, ScheduleError
from mock_norce.playback.schedules import crontab

from ..fakesched import clock, world  # noqa: F401 (fixtures)
from ..servers import answer

def test_interval_fires_on_time_and_stops_at_its_count(world):
    w = world()
    s = w.service.create({"event": "JobCompletedEvent", "interval": "30s", "count": 5})
    assert w.emitted(s["id"]) == 0
    w.advance(0.001)
    assert w.emitted(s["id"]) == 1  # first firing at once
    w.advance(90)
    assert w.emitted(s["id"]) == 4  # 0, 30, 60, 90
    w.advance(600)
    assert w.emitted(s["id"]) == 5
    assert w.service.get(s["id"])["status"] == "finished"


def test_cron_fires_at_its_minutes_in_utc(world):
    w = world()
    s = w.service.create({"event": "SkuChangedNotification", "cron": "*/5 * * * *"})
    w.advance(3600, step=10)
    assert w.emitted(s["id"]) == 12  # 00:05 ... 01:00
    bodies = w.outbox.store.deliveries(run_id=s["id"], limit=100)[0]
    minutes = sorted({datetime.fromtimestamp(d["created"], timezone.utc).minute for d in bodies})
    assert minutes == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55]


def test_crontab_weekdays_are_cron_weekdays():
    monday = datetime(2026, 11, 23, tzinfo=timezone.utc)  # a Monday
    nxt = crontab("0 9 * * 1").get_next_fire_time(None, monday)
    assert nxt.weekday() == 0 and nxt.hour == 9  # 1 is Monday, as in cron (APScheduler alone: Tuesday)
    assert crontab("0 9 * * 0").get_next_fire_time(None, monday).weekday() == 6  # 0 is Sunday
    assert crontab("0 9 * * 1-5").get_next_fire_time(None, monday.replace(hour=10)).weekday() == 1


def test_rate_per_second_and_per_minute(world):
    w = world()
    fast = w.service.create({"event": "SkuPriceChangedNotification", "rate": 5, "duration": "10s"})
    slow = w.service.create({"event": "JobCompletedEvent", "rate": 30, "rate_per": "minute", "duration": "1m"})
    w.advance(120)
    assert w.emitted(fast["id"]) == 50
    assert w.emitted(slow["id"]) == 30
    assert w.service.get(fast["id"])["status"] == "finished"
    rows = w.outbox.store._db.execute("SELECT created, due FROM deliveries WHERE run_id=?", (fast["id"],)).fetchall()
    assert len({r[0] for r in rows}) == 10  # below 10/s written once a second, five at a time...
    offsets = sorted(round(r[1] - r[0], 3) for r in rows)
    # ...0.1 s before their second begins, due spread over it
    assert offsets == sorted([0.1, 0.3, 0.5, 0.7, 0.9] * 10)


def test_count_limits_a_rate_to_events(world):
    w = world()
    s = w.service.create({"event": "SkuChangedNotification", "rate": 7, "count": 30})
    w.advance(60)
    assert w.emitted(s["id"]) == 30 and w.service.get(s["id"])["status"] == "finished"


def test_pause_resume_delete(world):
    w = world()
    s = w.service.create({"event": "JobCompletedEvent", "interval": "10s"})
    w.advance(60)
    assert w.emitted(s["id"]) == 7  # 0, 10, ..., 60
    w.service.pause(s["id"])
    with pytest.raises(ScheduleConflict):
        w.service.pause(s["id"])
    w.advance(600)
    assert w.emitted(s["id"]) == 7  # nothing while paused
    w.service.resume(s["id"])
    w.advance(30)
    assert w.emitted(s["id"]) == 7 + 4  # from now on; the 60 missed firings are not caught up
    w.service.delete(s["id"])
    w.advance(100)
    assert w.emitted(s["id"]) == 11
    assert s["id"] not in {x["id"] for x in w.service.list()}


def test_scenario_interval_starts_runs(world):
    w = world()
    s = w.service.create({"scenario": "pos-order", "interval": "1m", "count": 3, "time_scale": 0})
    w.advance(300)
    runs = [r for r in w.runs.table.latest(10) if r["id"].startswith(s["id"])]
    assert len(runs) == 3 and all(r["status"] in ("running", "completed") for r in runs)
    assert w.outbox.store.deliveries(limit=1)[1] == 9  # 3 runs of 3 events


def test_restart_keeps_schedules_without_double_firing(world, tmp_path):
    db = str(tmp_path / "restart.db")
    w = world(db)
    s = w.service.create({"event": "JobCompletedEvent", "interval": "60s"})
    w.advance(150)
    assert w.emitted(s["id"]) == 3  # 0, 60, 120
    w.close()
    again = world(db)  # restarted at +150: the next firing (180) is still ahead
    again.advance(40)
    assert again.emitted(s["id"]) == 4  # 180 only: 120 was not fired again
    again.close()
    again.clock.t += 60  # down until +250, across the 240 firing: 10 s late, within the grace, made up once
    third = world(db)
    third.advance(0.001)
    assert third.emitted(s["id"]) == 5
    third.advance(59)
    assert third.emitted(s["id"]) == 6  # 300: back on the grid
    third.close()
    third.clock.t += 1000  # down for 1,000 s: 16 firings missed...
    fourth = world(db)
    fourth.advance(1)
    assert fourth.emitted(s["id"]) == 7  # ...made up as one (the latest was < 60 s ago), not 16
    fourth.advance(60)
    assert fourth.emitted(s["id"]) == 8  # then the grid again


def test_a_firing_missed_by_more_than_the_grace_is_skipped(world, tmp_path):
    db = str(tmp_path / "skip.db")
    w = world(db)
    s = w.service.create({"event": "JobCompletedEvent", "interval": "10m"})
    w.advance(1)
    assert w.emitted(s["id"]) == 1
    w.close()
    w.clock.t += 900  # down across the 10-minute firing, now 5 minutes late: more than the grace
    again = world(db)
    again.advance(1)
    assert again.emitted(s["id"]) == 1  # skipped
    again.advance(300)
    assert again.emitted(s["id"]) == 2  # the 20-minute firing


def test_a_paused_schedule_stays_paused_after_a_restart(world, tmp_path):
    db = str(tmp_path / "paused.db")
    w = world(db)
    s = w.service.create({"event": "JobCompletedEvent", "interval": "10s", "name": "p"})
    w.advance(5)
    w.service.pause(s["id"])
    w.close()
    again = world(db)
    again.advance(100)
    assert again.emitted(s["id"]) == 1 and again.service.get(s["id"])["status"] == "paused"


@pytest.mark.parametrize("spec,message", [
    ({"event": "JobCompletedEvent", "cron": "61 * * * *"}, "bad cron expression"),
    ({"event": "JobCompletedEvent", "cron": "* * *"}, "needs 5 fields"),
    ({"event": "NoSuchEvent", "rate": 1}, "unknown event type 'NoSuchEvent'"),
    ({"scenario": "no-such", "interval": "1m"}, "unknown scenario 'no-such'"),
    ({"event": "JobCompletedEvent", "rate": 0}, "rate must be a positive number"),
    ({"event": "JobCompletedEvent", "rate": -5}, "rate must be a positive number"),
    ({"event": "JobCompletedEvent", "interval": "soonish"}, "is not a duration"),
    ({"event": "JobCompletedEvent", "rate": 1, "duration": "forever"}, "duration: 'forever' is not a duration"),
    ({"event": "JobCompletedEvent", "interval": "0s"}, "interval must be longer than 0"),
    ({"event": "JobCompletedEvent"}, "exactly one of interval, cron or rate"),
    ({"interval": "1s"}, "exactly one of event, scenario or mix"),
    ({"mix": {"web-order": 0}, "rate": 1}, "must be a positive number"),
    ({"mix": {"web-order": 1}, "interval": "1s"}, "a mix is played at a rate"),
    ({"event": "JobCompletedEvent", "rate": 1, "colour": "red"}, "unknown schedule field"),
])
def test_bad_schedules_are_refused_with_a_reason(world, spec, message):
    w = world()
    with pytest.raises(ScheduleError, match=message):
        w.service.create(spec)


def test_only_one_engine_per_database(tmp_path):
    db = str(tmp_path / "one.db")
    first, second = EngineLock(db), EngineLock(db)
    first.acquire()
    with pytest.raises(EngineLocked, match=r"another mock-norce process \(pid \d+\)"):
        second.acquire()
    first.release()
    second.acquire()  # free again once the holder is gone
    second.release()
    EngineLock(":memory:").acquire()  # nothing to share


def test_config_file_schedules_are_kept_by_name(world, tmp_path):
    from mock_norce.playback.schedule_config import load_config_schedules

    cfg = tmp_path / "config.yaml"
    cfg.write_text("schedules:\n  - {name: jobs, event: JobCompletedEvent, interval: 10s}\n")
    w = world()
    load_config_schedules(w.service, cfg)
    load_config_schedules(w.service, cfg)  # a restart with the same file: still one schedule
    assert [s["name"] for s in w.service.list()] == ["jobs"]
    first_id = w.service.list()[0]["id"]
    cfg.write_text("schedules:\n  - {name: jobs, event: JobCompletedEvent, interval: 20s}\n")
    load_config_schedules(w.service, cfg)  # changed: replaced
    listed = w.service.list()
    assert len(listed) == 1 and listed[0]["id"] != first_id and listed[0]["spec"]["interval"] == 20
    cfg.write_text("schedules:\n  - {event: JobCompletedEvent, interval: 10s}\n")
    with pytest.raises(ScheduleError, match="needs a name"):
        load_config_schedules(w.service, cfg)


@pytest.mark.slow
def test_200_per_second_for_20_seconds_delivers_4000_each_once(settings, factory, serve):
    from mock_norce.app import build_core

    subscriber = serve(answer(204))
    core = build_core(settings.with_(subscriber_url=subscriber.url), database=":memory:")
    core.start()
    try:
        s = core.schedules.create({"event": "SkuPriceChangedNotification", "rate": 200, "duration": "20s"})
        deadline = time.time() + 40
        while time.time() < deadline:
            figures = core.schedules.view(s["id"])["figures"]
            if core.schedules.get(s["id"])["status"] == "finished" and figures["delivered"] == figures["generated"]:
                break
            time.sleep(0.2)
        bodies = [r.body for r in subscriber.requests]
        assert 3920 <= len(bodies) <= 4080, len(bodies)
        # Each exactly once: what arrived is what the log holds, body for body (two events may
        # by chance have equal bodies, so a multiset, not a set).
        logged, _ = core.outbox.store.deliveries(run_id=s["id"], limit=5000, offset=0)
        assert Counter(bodies) == Counter(d["body"].encode() for d in logged)
        figures = core.schedules.view(s["id"])["figures"]
        assert figures["generated"] == figures["delivered"] == len(bodies)
        assert figures["lateness_ms"]["p99"] < 100, figures["lateness_ms"]
        received = sorted(r.received for r in subscriber.requests)
        assert received[-1] - received[0] == pytest.approx(20, abs=1.5)  # paced, not bursted
        assert {json.loads(b)["ClientId"] for b in bodies} == {1042}
    finally:
        core.stop()
