"""Issue 10, the schedules part: one test (or a few) per observation, named after it.

Where real time is not the thing under test the schedule runs on the fake clock with
APScheduler driven by hand (tests/fakesched.py); the tests that need a real process or real
time bound themselves and leave generous margins for a busy 2-core machine.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import sqlite3
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mock_norce.durations import parse_duration
from mock_norce.errors import BadDuration, ScheduleError, StorageUnavailable
from mock_norce.figures.prometheus import Readings, metrics_registry, render
from mock_norce.playback.schedules import crontab
from mock_norce.figures.live import Figures
from mock_norce.storage.deliveries import AttemptRecord

from ..conftest import ROOT, skip_or_fail
from ..fakesched import clock, world  # noqa: F401 (fixtures)
from ..servers import Server, answer, http

PRICE = "SkuPriceChangedNotification"
STORY = ["OrderReceivedEvent", "OrderConfirmedEvent", "OrderPaymentReceivedEvent", "OrderPartlyDeliveredEvent",
         "OrderDeliveredEvent"]  # web-order's events that carry the order's ClientOrderRef, in story order


def disk_counts(db: str, sid: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """((fired, emitted) of the schedule's row, (its events, distinct commit times)) read from the file."""
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT fired, emitted FROM schedules WHERE id=?", (sid,)).fetchone()
        log = con.execute("SELECT count(*), count(DISTINCT created) FROM deliveries WHERE run_id=?", (sid,)).fetchone()
    finally:
        con.close()
    return tuple(row), tuple(log)


# --- 5. a clean stop never loses a firing that was counted ---------------------------------

def test_5_a_stop_during_a_firing_commits_none_of_it(world, tmp_path):
    db = str(tmp_path / "stop.db")
    w = world(db)
    s = w.service.create({"mix": {"web-order": 1}, "rate": 2000})
    real, calls = w.outbox.factory.generate, [0]
    reached, go = threading.Event(), threading.Event()

    def slow_generate(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 50:  # in the middle of the firing's payloads
            reached.set()
            go.wait(10)
        return real(*args, **kwargs)
    w.outbox.factory.generate = slow_generate
    firing = threading.Thread(target=w.aps.run_pending)
    firing.start()
    assert reached.wait(10)
    stopper = threading.Thread(target=w.service.stop)
    began = time.monotonic()
    stopper.start()
    time.sleep(0.2)  # SIGTERM arrives while the firing generates
    go.set()
    stopper.join(10)
    w.outbox.store.close()  # what Core.stop does next
    firing.join(10)
    assert time.monotonic() - began < 3
    assert disk_counts(db, s["id"]) == ((0, 0), (0, 0))  # nothing of the firing, neither state nor events
    assert w.service.get(s["id"])["emitted"] == 0


def test_5_b_sigterm_and_kill_9_mid_soak_keep_the_counts_equal_to_the_log(served, serve, tmp_path):
    subscriber = serve(answer(204))
    db = str(tmp_path / "data" / "mock-norce.db")
    first = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url)
    status, s = http("POST", first.url + "/api/schedules", {"event": PRICE, "rate": 5000})
    assert status == 201, s
    deadline = time.time() + 10
    while disk_counts(db, s["id"])[0][1] < 1200 and time.time() < deadline:  # well over the 1000 below
        time.sleep(0.05)
    took = first.stop()  # SIGTERM, most likely in the middle of a firing
    assert first.proc.returncode == 0 and took < 5, (took, first.output()[-2000:])
    (fired, emitted), (events, commits) = disk_counts(db, s["id"])
    assert emitted > 1000 and (fired, emitted) == (commits, events)
    second = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url)  # the schedule goes on...
    deadline = time.time() + 10
    while disk_counts(db, s["id"])[0][1] < emitted + 1000 and time.time() < deadline:
        time.sleep(0.1)
    second.proc.kill()  # ...until kill -9
    second.proc.wait(5)
    (fired2, emitted2), (events2, commits2) = disk_counts(db, s["id"])
    assert emitted2 > emitted and (fired2, emitted2) == (commits2, events2)


# --- 6. every number of a schedule has a range ---------------------------------------------

@pytest.mark.parametrize("spec,message", [
    ({"event": PRICE, "rate": 10, "jitter": "1000000d"}, "jitter: '1000000d' is too long: a duration is at most 60 s"),
    ({"event": PRICE, "interval": "10000000d"}, "interval: '10000000d' is too long: a duration is at most 3.16224e+07"),
    ({"event": PRICE, "rate": 10, "duration": "10000000d"}, "duration: '10000000d' is too long"),
    ({"event": PRICE, "rate": 10, "duration": 1e12}, "duration: 1000000000000.0 is too long"),
    ({"event": PRICE, "interval": "9" * 400 + "s"}, "is too long"),
    ({"event": PRICE, "interval": "1e400"}, "is too long"),
    ({"event": PRICE, "interval": "1ms"}, "interval must be between 0.01 s and 3.16224e+07 s"),
    ({"event": PRICE, "rate": 1e9}, "rate must be a positive number of events per second, above 0 and at most 20000"),
    ({"event": PRICE, "rate": 1e9, "rate_per": "minute"}, "per minute, above 0 and at most 1.2e+06"),
    ({"event": PRICE, "interval": "1s", "count": 10**13}, "count must be between 1 and 1000000000000"),
    ({"event": PRICE, "interval": "1s", "seed": 2**63}, "seed must be between -9223372036854775808 and 9223372036854775807"),
    ({"scenario": "web-order", "interval": "1m", "time_scale": 1e6}, "time_scale must be between 0 and 100"),
    ({"mix": {"web-order": 1e300}, "rate": 10}, "at most 1e+06"),
])
def test_6_huge_numbers_are_refused_with_their_range_before_anything_exists(world, spec, message):
    w = world()
    with pytest.raises(ScheduleError, match=message.replace("+", r"\+").replace("(", r"\(")):
        w.service.create(spec)
    assert w.service.list() == [] and w.service.table.all() == [] and w.aps.get_jobs() == []


def test_6_durations_have_a_ceiling_and_never_overflow():
    for text in ("1e400", "9" * 400 + "s", 10**400, float("inf"), "400d", "1000000d"):
        with pytest.raises(BadDuration, match="too long"):
            parse_duration(text)
    with pytest.raises(BadDuration, match="not a duration"):
        parse_duration(float("nan"))
    assert parse_duration("400d", maximum=None) == 400 * 86400  # a caller may allow more
    assert parse_duration("1h30m") == 5400 and parse_duration(0) == 0


def test_6_the_api_answers_422_naming_the_range(settings):
    from mock_norce.app import build_core, create_app

    core = build_core(settings.with_(subscriber_url="http://127.0.0.1:9/hook"), database=":memory:")
    client = create_app(core=core).test_client()
    resp = client.post("/api/schedules", json={"event": PRICE, "rate": 1e9})
    # The published request schema or the schedule's own check: either way a 422 with the range.
    message = resp.get_json()["message"]
    assert resp.status_code == 422 and ("at most 20000" in message or "<= 1200000" in message), message
    resp = client.post("/api/schedules", json={"event": PRICE, "rate": 10, "jitter": "1000000d"})
    assert resp.status_code == 422 and "at most 60 s" in resp.get_json()["message"]
    assert client.get("/api/schedules").get_json() == []


# --- 11. create() is atomic; market and overrides are checked at once ------------------------

def test_11_a_huge_duration_leaves_no_half_created_schedule(world):
    w = world()
    with pytest.raises(ScheduleError, match="duration"):
        w.service.create({"event": PRICE, "rate": 1, "duration": 10**12})
    assert w.service.list() == [] and w.service.table.all() == [] and w.aps.get_jobs() == []


def test_11_b_a_refused_write_creates_nothing(world):
    w = world()

    def full(row):
        raise StorageUnavailable("the database cannot be written: disk full")
    w.service.table.save = full
    with pytest.raises(StorageUnavailable):
        w.service.create({"event": PRICE, "interval": "1s", "name": "n"})
    assert w.service.list() == [] and w.aps.get_jobs() == []
    del w.service.table.save  # the disk has room again
    assert w.service.create({"event": PRICE, "interval": "1s", "name": "n"})["name"] == "n"  # the name is free


@pytest.mark.parametrize("extra,message", [
    ({"market": "xx"}, "unknown market 'xx'; the tenant has SE, NO, FI, DK"),
    ({"overrides": {"NoSuchField": 1}}, "has no field 'NoSuchField'"),
    ({"overrides": {"ClientId": "abc"}}, r"\$.ClientId: 'abc' is not of type 'integer'"),
])
def test_11_c_market_and_overrides_are_tried_at_create(world, extra, message):
    w = world()
    with pytest.raises(ScheduleError, match=message):
        w.service.create({"event": PRICE, "interval": "1s", **extra})
    assert w.service.list() == []
    good = w.service.create({"event": PRICE, "interval": "1s", "market": "fi", "overrides": {"PriceSaleValue": 5}})
    w.advance(9)
    bodies = [json.loads(d["body"]) for d in w.outbox.store.deliveries(run_id=good["id"])[0]]
    assert len(bodies) == 10 and all(b["PriceSaleValue"] == 5 for b in bodies)
    assert {b["PricelistCode"][:3] for b in bodies if "PricelistCode" in b} == {"FI-"}


def test_11_d_a_stored_schedule_that_cannot_be_scheduled_is_paused_not_fatal(world, tmp_path):
    db = str(tmp_path / "old.db")
    w = world(db)
    s = w.service.create({"event": PRICE, "interval": "1s"})
    w.close()
    con = sqlite3.connect(db)
    con.execute("UPDATE schedules SET ends_at=1e300, next_fire=NULL WHERE id=?", (s["id"],))  # an older version
    con.commit()
    con.close()
    again = world(db)
    view = again.service.view(s["id"])
    assert view["status"] == "paused" and "cannot be scheduled" in view["error"]
    assert again.service.create({"event": PRICE, "interval": "1s"})["status"] == "active"  # the rest works


# --- 12. cron lines are crontab ------------------------------------------------------------

MONDAY = datetime(2026, 11, 23, tzinfo=timezone.utc)


def fires(expr: str, n: int = 5, start: datetime = MONDAY) -> list[str]:
    trigger, out, t = crontab(expr), [], None
    for _ in range(n):
        t = trigger.get_next_fire_time(t, t or start)
        out.append(t.strftime("%a %d %H:%M"))
    return out


def test_12_a_weekday_steps_and_ranges_count_from_sunday():
    assert fires("0 9 * * */2") == ["Tue 24 09:00", "Thu 26 09:00", "Sat 28 09:00", "Sun 29 09:00", "Tue 01 09:00"]
    assert fires("0 9 * * 0-2") == ["Mon 23 09:00", "Tue 24 09:00", "Sun 29 09:00", "Mon 30 09:00", "Tue 01 09:00"]
    assert fires("0 9 * * 7", 2) == fires("0 9 * * sun", 2) == ["Sun 29 09:00", "Sun 06 09:00"]
    assert fires("30 8 * * mon-fri", 6)[-1] == "Mon 30 08:30"


def test_12_b_day_of_month_or_day_of_week():
    # Both restricted: either matches (Mondays, and the 1st).
    assert fires("0 9 1 * 1") == ["Mon 23 09:00", "Mon 30 09:00", "Tue 01 09:00", "Mon 07 09:00", "Mon 14 09:00"]
    # One of them starts with '*': both must match (odd days that are Mondays), as Debian's cron.
    assert fires("0 9 */2 * 1", 3) == ["Mon 23 09:00", "Mon 07 09:00", "Mon 21 09:00"]


@pytest.mark.parametrize("expr,why", [
    ("0 9 L * *", "not a number"), ("0 9 * * mon#2", "not crontab"), ("0 9 ? * 1", "not crontab"),
    ("H * * * *", "not a number"), ("@daily", "needs 5 fields"), ("0 0 * * * *", "needs 5 fields"),
    ("5-1 * * * *", "reversed range"), ("0 9 * * fri-sun", "reversed range"), ("0 9 * * 8", "out of range"),
    ("*/0 * * * *", "step of 0"), ("0 0 30 2 *", "never fires"), ("0 9 * * monday", "not a number or a name"),
])
def test_12_c_what_crontab_does_not_know_is_refused(expr, why):
    with pytest.raises(ScheduleError, match=why):
        crontab(expr)


def _random_line(rng: random.Random) -> str:
    spans = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    names = {3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
             4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]}

    def part(i: int) -> str:
        lo, hi = spans[i]
        kind = rng.choice(["*", "n", "n", "range", "step", "rangestep", "name"])
        a = rng.randint(lo, hi)
        b = rng.randint(a, hi)
        if kind == "*":
            return "*"
        if kind == "range":
            return f"{a}-{b}"
        if kind == "step":
            return f"*/{rng.randint(1, 8)}"
        if kind == "rangestep" and a < b:  # (cronsim reads "0-0/3" as 0,3,6; cron and we as 0)
            return f"{a}-{b}/{rng.randint(1, 5)}"
        if kind == "name" and i in names:
            x, y = sorted(rng.sample(range(len(names[i])), 2))
            return rng.choice([names[i][x], f"{names[i][x]}-{names[i][y]}", f"{names[i][x]}-{names[i][y]}/2"])
        return str(a)

    fields = []
    for i in range(5):
        parts = [part(i) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        fields.append("*" if "*" in parts else ",".join(parts))
    if rng.random() < 0.5:
        fields[0] = str(rng.randint(0, 59))  # keep most lines sparse enough to compare over months
    return " ".join(fields)


# 600 lines in the suite (~2 s); the change that brought croniter in was checked with 30,000.
CRON_LINES = int(os.environ.get("MOCK_NORCE_TEST_CRON_LINES", "600"))


def test_12_d_fire_times_agree_with_debian_cron_over_many_lines():
    try:
        from cronsim import CronSim, CronSimError
    except ImportError:
        skip_or_fail("cronsim (Debian cron's semantics, the test oracle) is not installed")
    rng = random.Random(2026)
    compared = 0
    for _ in range(CRON_LINES):
        line = _random_line(rng)
        start = MONDAY + timedelta(days=rng.randint(0, 700), minutes=rng.randint(0, 1440))
        try:
            expected = CronSim(line, start)
            theirs = [next(expected) for _ in range(8)]
        except (CronSimError, StopIteration):
            with pytest.raises(ScheduleError):
                crontab(line)  # e.g. 31 in a month that never has one
            continue
        trigger, ours, t = crontab(line), [], None
        for _ in range(8):
            t = trigger.get_next_fire_time(t, t or start + timedelta(microseconds=1))
            ours.append(t)
        assert ours == theirs, line
        compared += 1
    assert compared > 500


def test_12_f_every_cron_line_of_the_readme_is_accepted():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Cron lines", 1)[1].split("Refused with the reason", 1)[0]
    lines = [cell for row in table.splitlines() if row.startswith("| `")
             for cell in re.findall(r"`([^`]+)`", row.split("|")[1])]
    assert len(lines) >= 10
    for line in lines:
        crontab(line if len(line.split()) == 5 else "0 9 * * " + line)  # "(or `7`)": a weekday alone


def test_12_e_a_cron_schedule_fires_on_sunday_in_utc(world):
    w = world()
    s = w.service.create({"event": PRICE, "cron": "0 9 * * 0"})
    w.advance(8 * 86400, step=3600)
    created = [datetime.fromtimestamp(d["created"], timezone.utc) for d in w.outbox.store.deliveries(run_id=s["id"])[0]]
    assert [(c.strftime("%a %H:%M")) for c in created] == ["Sun 09:00"]


# --- 13. jitter never reorders one order's story ------------------------------------------

def story_positions(typed_bodies) -> dict[str, list[int]]:
    """Per order (ClientOrderRef), the story positions of its events in the order given."""
    out = defaultdict(list)
    for etype, body in typed_bodies:
        data = json.loads(body)
        if etype in STORY and "ClientOrderRef" in data:
            out[data["ClientOrderRef"]].append(STORY.index(etype))
    return out


def test_13_a_jitter_shifts_whole_stories_so_due_times_keep_story_order(world):
    w = world()
    s = w.service.create({"mix": {"web-order": 1}, "rate": 40, "jitter": "50ms", "duration": "60s", "seed": 7})
    w.advance(61, step=0.1)
    rows = w.outbox.store._db.execute("SELECT id, type, body, due FROM deliveries WHERE run_id=?",
                                      (s["id"],)).fetchall()
    assert len(rows) == 2400
    orders = story_positions((r[1], r[2]) for r in sorted(rows, key=lambda r: (r[3], r[0])))  # the sending order
    assert len(orders) > 350
    assert [ref for ref, seen in orders.items() if seen != sorted(seen)] == []
    offsets = {round(r[3] % 0.025, 4) for r in rows}
    assert len(offsets) > 10  # the jitter is really there


def test_13_b_the_subscriber_receives_every_order_in_story_order(settings):
    from mock_norce.app import build_core

    subscriber = Server(answer(200))
    core = build_core(settings.with_(subscriber_url=subscriber.url, concurrency=1), database=":memory:")
    # One URL per type, as in Norce's admin: the path tells the subscriber which event it got
    # (Confirmed, PartlyDelivered and Delivered of one order have the same body).
    core.outbox.subscriptions.apply({"subscriptions": {t: {"url": f"{subscriber.url}/{t}"} for t in STORY}})
    core.start()
    try:
        s = core.schedules.create({"mix": {"web-order": 1}, "rate": 300, "jitter": "50ms", "duration": "2s"})
        deadline = time.time() + 30
        while time.time() < deadline:
            figures = core.schedules.view(s["id"])["figures"]
            if core.schedules.get(s["id"])["status"] == "finished" and figures["delivered"] == figures["generated"]:
                break
            time.sleep(0.1)
        assert figures["generated"] == 600 and figures["delivered"] == 600
        orders = story_positions((r.path.strip("/"), r.body) for r in subscriber.requests)  # as they arrived
        assert len(orders) >= 93
        # An event whose first attempt failed (on a starved machine the 5 s deadline can pass) is
        # retried later, out of story order, as Norce would (it promises no order): those orders
        # are left out, and must stay rare.
        retried = {json.loads(body).get("ClientOrderRef") for (body,) in core.outbox.store._db.execute(
            "SELECT body FROM deliveries WHERE attempts > 1").fetchall()}
        assert len(retried) < len(orders) // 4, retried
        assert [ref for ref, seen in orders.items() if seen != sorted(seen) and ref not in retried] == []
    finally:
        core.stop()
        subscriber.close()


# --- 14. a failed write advances nothing and is said ---------------------------------------

@pytest.mark.parametrize("failure", [sqlite3.OperationalError("database or disk is full"),
                                     StorageUnavailable("the database cannot be written: disk is full")])
def test_14_a_failed_write_counts_nothing_says_why_and_the_next_firing_tries_again(world, caplog, failure):
    w = world()
    s = w.service.create({"event": PRICE, "rate": 20, "count": 100})
    w.advance(1, step=0.1)
    before = w.service.view(s["id"])
    assert before["emitted"] == w.emitted(s["id"]) > 0

    def disk_full(*args, **kwargs):
        raise failure
    w.outbox.store.add_events = disk_full
    with caplog.at_level(logging.WARNING, logger="mock_norce.playback.schedules"):
        w.advance(3, step=0.1)  # 30 firings, each failing
    during = w.service.view(s["id"])
    assert (during["fired"], during["emitted"]) == (before["fired"], before["emitted"]) == \
        (during["fired"], w.emitted(s["id"]))
    assert "disk is full" in during["error"] and during["status"] == "active"
    assert during["figures"]["failed_firings"] >= 25
    assert len([r for r in caplog.records if "disk is full" in r.getMessage()]) == 1  # once a minute at most
    del w.outbox.store.add_events  # the disk has room again
    w.advance(10, step=0.1)
    after = w.service.view(s["id"])
    assert after["status"] == "finished" and after["emitted"] == w.emitted(s["id"]) == 100
    assert after["error"] is None  # cleared by the first firing written again
    assert w.service.table.all()[0]["emitted"] == 100


# --- the backlog bound ----------------------------------------------------------------------

def test_a_backlog_over_the_bound_pauses_generation_until_it_falls(world):
    w = world(max_backlog=50)
    calls = []
    real = w.outbox.unfinished
    w.outbox.unfinished = lambda: calls.append(1) or real()
    s = w.service.create({"event": PRICE, "rate": 20})
    w.advance(6, step=0.1)  # nothing delivered: the backlog grows to the bound, then stops
    view = w.service.view(s["id"])
    assert 50 < view["emitted"] <= 54 and w.emitted(s["id"]) == view["emitted"]
    assert view["throttled"] is True and view["figures"]["throttled"] is True
    assert view["skipped_firings"] >= 25 and view["figures"]["skipped_firings"] == view["skipped_firings"]
    assert len(calls) <= 61  # at most one backlog count per firing
    w.deliver()
    w.advance(1, step=0.1)
    resumed = w.service.view(s["id"])
    assert resumed["throttled"] is False and resumed["emitted"] >= view["emitted"] + 15


def test_no_bound_means_no_backlog_count(world):
    w = world()
    w.outbox.unfinished = lambda: pytest.fail("counted the backlog without a bound")
    w.service.create({"event": PRICE, "rate": 20})
    w.advance(1, step=0.1)


# --- lateness: small windows written ahead --------------------------------------------------

def test_rate_windows_are_small_and_written_before_they_begin(world):
    w = world()
    s = w.service.create({"event": PRICE, "rate": 1000, "duration": "2s"})
    w.advance(3, step=0.1)
    rows = w.outbox.store._db.execute("SELECT created, due FROM deliveries WHERE run_id=?", (s["id"],)).fetchall()
    assert len(rows) == 2000
    windows = defaultdict(list)
    for created, due in rows:
        windows[created].append(due)
    assert len(windows) == 20 and {len(d) for d in windows.values()} == {100}
    for created, dues in windows.items():
        assert min(dues) >= created + 0.1 - 1e-6  # written 0.1 s before its first event is due...
        assert max(dues) - min(dues) == pytest.approx(0.099, abs=1e-6)  # ...spread over 0.1 s


def test_windows_whose_firing_was_skipped_are_covered_by_the_next_so_the_rate_holds(world):
    w = world()
    s = w.service.create({"event": PRICE, "rate": 100, "duration": "3s"})
    w.advance(4, step=0.25)  # a busy machine: APScheduler coalesces the firings it could not make on time
    rows = w.outbox.store._db.execute("SELECT created, due FROM deliveries WHERE run_id=?", (s["id"],)).fetchall()
    assert len(rows) == 300 and len({r[0] for r in rows}) < 20
    assert all(due >= created for created, due in rows)  # spread from when they were written, not in the past


class SleepProbe:
    """How late this process's threads wake up, measured beside a real-time test: the part of
    any lateness that is the machine's (other processes, the GIL), not the code's."""

    def __init__(self):
        self.overs: list[float] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._done.is_set():
            began = time.perf_counter()
            time.sleep(0.002)
            self.overs.append(time.perf_counter() - began - 0.002)

    def p99_ms(self) -> float:
        self._done.set()
        self._thread.join()
        return sorted(self.overs)[int(len(self.overs) * 0.99)] * 1000


@pytest.mark.slow
def test_lateness_p99_is_under_10_ms_at_1000_per_second(settings, serve):
    from mock_norce.app import build_core

    subscriber = serve(answer(204))
    core = build_core(settings.with_(subscriber_url=subscriber.url), database=":memory:")
    core.start()
    probe = SleepProbe()
    try:
        s = core.schedules.create({"event": PRICE, "rate": 1000, "duration": "10s"})
        deadline = time.time() + 30
        while time.time() < deadline:
            figures = core.schedules.view(s["id"])["figures"]
            if core.schedules.get(s["id"])["status"] == "finished" and figures["delivered"] == 10000:
                break
            time.sleep(0.2)
        noise = probe.p99_ms()
        assert figures["delivered"] == 10000
        # The 10 ms target is bench/deliver.py's (2.1-2.7 ms there, in its own process). Here the
        # engine shares its process with the test and a busy machine adds how late threads wake
        # anyway; 15 ms still tells the 0.1 s windows from the old one-second batches (25 ms).
        assert figures["lateness_ms"]["p99"] < 15 + 3 * noise, (figures["lateness_ms"], noise)
    finally:
        core.stop()


# --- 16. the in-retry figure never goes negative ---------------------------------------------

def attempt(delivery_id: int, number: int, status: str) -> AttemptRecord:
    outcome = SimpleNamespace(error_class=None if status == "delivered" else "http", latency_ms=1.0,
                              status=200 if status == "delivered" else 503)
    return AttemptRecord(delivery_id, number, 1000.0 + number, outcome, status, None, "s-x")


def test_16_retries_begun_before_a_restart_never_make_in_retry_negative():
    figures = Figures(1000.0, lambda: 2000.0)
    figures.on_attempt(attempt(1, 4, "delivered"))  # its attempts 1-3 were before the restart
    figures.on_attempt(attempt(2, 17, "dead"))
    assert figures.summary()["in_retry"] == 0
    figures.on_attempt(attempt(3, 1, "retrying"))
    figures.on_attempt(attempt(3, 2, "retrying"))
    figures.on_attempt(attempt(4, 6, "retrying"))  # a retry from before the restart failing again
    # Counted from this process's first failures (a counter: memory must not grow with the
    # backlog); the log's own count is the Prometheus gauge (next test).
    assert figures.summary()["in_retry"] == 1
    figures.on_attempt(attempt(3, 3, "delivered"))
    figures.on_attempt(attempt(4, 7, "dead"))
    assert figures.summary()["in_retry"] == 0


def test_16_the_prometheus_in_retry_gauge_is_the_log_count():
    figures = Figures(1000.0, lambda: 2000.0)
    figures.on_attempt(attempt(1, 4, "delivered"))
    readings = Readings(figures, {"pending": 3, "retrying": 7, "delivered": 1, "dead": 0}, 3, {"active": 1}, 0)
    text = render(metrics_registry(lambda: readings)).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert [s.value for s in families["mock_norce_deliveries_in_retry"].samples] == [7]


def test_an_overloaded_rate_schedule_still_finishes_at_its_end(served):
    """Firings that run late (more events than the machine can make) once left the schedule
    'active' for ever: APScheduler dropped the ended job before any firing saw the end."""
    import socket
    import time as _time

    from ..servers import http

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    s = served(MOCK_NORCE_SUBSCRIBER_URL=f"http://127.0.0.1:{port}/")
    status, sched = http("POST", s.url + "/api/schedules",
                         {"event": "OrderConfirmedEvent", "rate": 20000, "duration": "1s"})
    assert status == 201
    deadline = _time.monotonic() + 30
    while _time.monotonic() < deadline:
        view = http("GET", f"{s.url}/api/schedules/{sched['id']}")[1]
        if view["status"] == "finished":
            break
        _time.sleep(0.1)
    assert view["status"] == "finished", view
    assert view["emitted"] > 0 and view["figures"]["generated"] == view["emitted"]
    status, gone = http("DELETE", f"{s.url}/api/schedules/{sched['id']}")
    assert status == 200 and http("GET", s.url + "/api/schedules")[1] == []
