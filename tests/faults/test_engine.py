"""The delivery engine under faults: it keeps delivering, loses nothing, and says what happened.

Observations of issue 10 (numbers in the test names): a bad URL that killed a lane (1), a
commit that killed the writer (2), a reset that did not stop retries (3), a run reported
completed too early (4), huge numbers that killed threads (6), memory that grew with the
backlog (7), reads that waited for the writer (15), threads without a cap (14).
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time

import pytest


from mock_norce.app import build_outbox

from ..servers import answer, http, response


def wait_for(predicate, timeout: float = 15.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s")


def fire(url: str, event: str = "OrderConfirmedEvent", **body):
    return http("POST", f"{url}/api/events/{event}", body)


def seed_delivery(db: str, url: str, scale: float = 1.0) -> None:
    """A delivery as an older mock-norce could have stored it (no checks on the way in)."""
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO deliveries(type, body, url, status, due, scale, created)"
                     " VALUES ('JobCompletedEvent', ?, ?, 'pending', ?, ?, ?)",
                     (b'{"ClientId":1042,"JobId":1,"StatusId":1}', url, time.time(), scale, time.time()))


def test_1_a_url_the_sender_cannot_send_fails_as_an_attempt_and_the_lane_goes_on(served, serve, tmp_path):
    subscriber = serve(answer(200))
    s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/ok")
    db = str(tmp_path / "data" / "mock-norce.db")
    s.stop()
    seed_delivery(db, subscriber.url + "/hooks/\u20ac")  # stored raw, as before the door converted IRIs
    s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/ok")
    status, data = http("POST", s.url + "/api/events/SkuChangedNotification?wait=10", {})
    assert status == 200 and data["delivery"]["status"] == "delivered", data
    first = wait_for(lambda: http("GET", s.url + "/api/deliveries/1")[1]["attempt_log"])
    assert first[0]["error_class"] is None or first[0]["error_class"] in ("bad_request", "internal_error"), first
    assert http("GET", s.url + "/healthz")[0] == 200
    assert s.output().count("Traceback") <= 1  # a bug is logged once a minute, with its traceback


@pytest.mark.slow  # real time: the writer gives up on the lock after SQLite's 5 s busy timeout
def test_2_a_database_locked_by_another_process_delays_recording_but_loses_nothing(served, serve, tmp_path):
    slow = serve(lambda req, conn: (time.sleep(1.0), response(200))[1])
    s = served(MOCK_NORCE_SUBSCRIBER_URL=slow.url)
    db = str(tmp_path / "data" / "mock-norce.db")
    status, data = fire(s.url)
    assert status == 202
    did = data["delivery"]["id"]
    wait_for(lambda: slow.requests)
    other = sqlite3.connect(db, isolation_level=None, timeout=1)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock for 8 s
    try:
        # The attempt ends while the lock is held; the writer cannot record it, keeps it,
        # and says so; reads still answer.
        health = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(http("GET", s.url + "/healthz")), 12)
        assert "storage" in health[1]["parts"] and "write lock" in health[1]["parts"]["storage"]
        listed = http("GET", s.url + "/api/deliveries", timeout=3)
        assert listed[0] == 200 and listed[1]["total"] == 1
        refused = fire(s.url)
        assert refused[0] == 503 and refused[1]["error"] == "storage_unavailable"
    finally:
        other.execute("ROLLBACK")
        other.close()
    status, d = http("GET", f"{s.url}/api/deliveries/{did}?wait=15")
    assert d["status"] == "delivered" and d["attempts"] == 1
    wait_for(lambda: http("GET", s.url + "/healthz")[0] == 200)
    assert len(slow.requests) == 1  # recorded once it could be, not sent again
    assert s.output().count("storage unavailable") <= 2  # once a minute, not once per try


def test_3_clearing_the_log_stops_every_retry_series(served, serve):
    failing = serve(answer(500))
    s = served(MOCK_NORCE_SUBSCRIBER_URL=failing.url, MOCK_NORCE_TIME_SCALE="0.002")
    for _ in range(3):
        assert fire(s.url)[0] == 202
    wait_for(lambda: len(failing.requests) >= 9)  # three series well into their retries
    assert http("DELETE", s.url + "/api/deliveries")[1]["deleted"] == 3
    after_clear = len(failing.requests)
    time.sleep(1.0)  # at this scale the next retries would come 30-240 ms apart: several per series
    assert len(failing.requests) - after_clear <= 3  # at most the attempts already on the wire
    assert http("GET", s.url + "/api/deliveries")[1]["total"] == 0


def test_4_a_run_is_completed_only_when_every_delivery_is_finished(served, serve):
    subscriber = serve(lambda req, conn: (time.sleep(0.01), response(200))[1])
    s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url)
    for seed in range(8):
        status, run = http("POST", s.url + "/api/scenarios/web-order/runs", {"seed": seed, "time_scale": 0})
        assert status == 202
        status, done = http("GET", f"{s.url}/api/runs/{run['id']}?wait=30")
        assert done["status"] == "completed", done
        counts = done["deliveries"]
        assert counts["pending"] == counts["retrying"] == 0, done
        assert done["events"] == counts["delivered"] > 0, done


def test_6_huge_numbers_are_refused_at_the_door_and_old_rows_do_not_kill_the_timer(served, serve, tmp_path):
    subscriber = serve(answer(200))
    failing = serve(answer(500))
    s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url)
    for scale in (1e300, 1e10, 101, -1):
        status, body = http("POST", s.url + "/api/scenarios/web-order/runs", {"time_scale": scale})
        assert status in (400, 422) and "time_scale" in body["message"], (scale, body)
    s.stop()
    seed_delivery(str(tmp_path / "data" / "mock-norce.db"), failing.url, scale=1e10)  # retry due in 1,600 years
    s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url)
    wait_for(lambda: failing.requests)
    status, data = http("POST", s.url + "/api/events/JobCompletedEvent?wait=10", {})
    assert data["delivery"]["status"] == "delivered"
    assert http("GET", s.url + "/healthz")[0] == 200


class FakeClock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_7_the_backlog_lives_on_disk_and_only_a_window_is_in_memory(settings, factory, serve, tmp_path):
    server = serve(answer(200))
    clock = FakeClock()
    ob = build_outbox(settings.with_(subscriber_url=server.url), database=str(tmp_path / "q.db"),
                              clock=clock, factory=factory)
    ob.dispatcher.window.cap = 50
    payloads = [factory.generate("SkuChangedNotification", seed=i) for i in range(1200)]
    # Due over the next 20 minutes, one a second: a backlog much larger than the window.
    ids = ob.emit_many(payloads, dues=[clock.t + i for i in range(1200)])
    assert len(ob.dispatcher.window.claimed) <= 50 and len(ob.dispatcher.window.heap) <= 50
    made = 0
    for step in range(0, 1200, 7):
        clock.t = 1_800_000_000.0 + step
        made += ob.dispatcher.run_due()
        assert len(ob.dispatcher.window.claimed) <= 50
    clock.t += 10
    made += ob.dispatcher.run_due()
    assert made == 1200
    assert ob.store.counts()["delivered"] == 1200
    assert sorted(json.loads(r.body)["PartNo"] for r in server.requests) == sorted(p.body["PartNo"] for p in payloads)
    assert len(server.requests) == 1200 and len(set(ids)) == 1200
    ob.store.close()


def test_7_a_full_window_rescans_and_delivers_everything_in_real_time(settings, factory, serve, tmp_path):
    server = serve(answer(204))
    ob = build_outbox(settings.with_(subscriber_url=server.url, concurrency=4),
                              database=str(tmp_path / "q.db"), factory=factory)
    ob.dispatcher.window.cap = 20
    ob.start()
    try:
        payloads = [factory.generate("SkuChangedNotification", seed=i) for i in range(600)]
        for chunk in range(0, 600, 100):
            ob.emit_many(payloads[chunk:chunk + 100])
            assert len(ob.dispatcher.window.claimed) <= 20
        wait_for(lambda: ob.store.counts()["delivered"] == 600, 30)
        assert len(server.requests) == 600
    finally:
        ob.stop(grace=1)


def test_14_sender_threads_are_capped_over_many_hanging_origins(settings, factory, tmp_path):
    listeners = []
    for _ in range(40):  # accept into the backlog, never answer: every attempt hangs to its deadline
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        listeners.append(sock)
    ob = build_outbox(settings.with_(subscriber_url="http://127.0.0.1:9/", timeout=0.4),
                              database=str(tmp_path / "t.db"), factory=factory)
    ob.dispatcher.lanes.max_workers = 8
    ob.start()
    try:
        for sock in listeners:
            ob.fire("SkuChangedNotification", url=f"http://127.0.0.1:{sock.getsockname()[1]}/")
        peak = 0
        deadline = time.monotonic() + 30
        # Watched until each of the 40 has hung, timed out and been recorded (5 rounds of 8).
        while ob.store.counts()["retrying"] < 40 and time.monotonic() < deadline:
            peak = max(peak, ob.dispatcher.lanes.threads())  # this pool's: earlier tests' may linger
            time.sleep(0.02)
        assert 0 < peak <= 8
        assert ob.store.counts()["retrying"] == 40
    finally:
        ob.stop(grace=0.5)
        for sock in listeners:
            sock.close()


def test_15_reads_do_not_wait_for_the_writer(served, tmp_path):
    s = served()
    for _ in range(5):
        assert fire(s.url)[0] == 202
    other = sqlite3.connect(str(tmp_path / "data" / "mock-norce.db"), isolation_level=None, timeout=1)
    other.execute("BEGIN IMMEDIATE")
    try:
        for path in ("/api/deliveries", "/api/deliveries?type=OrderConfirmedEvent", "/api/stats", "/metrics", "/"):
            start = time.monotonic()
            with __import__("urllib.request").request.urlopen(s.url + path, timeout=4) as resp:
                assert resp.status == 200
            assert time.monotonic() - start < 2.0, path  # the writer's busy timeout is 5 s
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_counts_are_kept_as_the_log_changes(settings, factory, serve, tmp_path):
    server = serve(answer(200))
    clock = FakeClock()
    db = str(tmp_path / "c.db")
    ob = build_outbox(settings.with_(subscriber_url=server.url, retention_max=5), database=db,
                              clock=clock, factory=factory)
    for i in range(12):
        ob.fire("OrderConfirmedEvent" if i % 2 else "SkuChangedNotification", seed=i)
    ob.emit_many([factory.generate("JobCompletedEvent", seed=1)], run_id="r-1")
    ob.dispatcher.run_due()

    def truth(sql, args=()):
        with sqlite3.connect(db) as conn:
            return conn.execute(sql, args).fetchone()[0]
    counts = ob.store.counts()
    for status, n in counts.items():
        assert n == truth("SELECT count(*) FROM deliveries WHERE status=?", (status,)), status
    for event_type in ("OrderConfirmedEvent", "SkuChangedNotification"):
        assert ob.store.deliveries(event_type=event_type)[1] == truth(
            "SELECT count(*) FROM deliveries WHERE type=?", (event_type,))
    assert ob.store.run_counts("r-1") == {"pending": 0, "retrying": 0, "delivered": truth(
        "SELECT count(*) FROM deliveries WHERE run_id='r-1'"), "dead": 0}
    assert ob.clear() == sum(counts.values())
    assert ob.store.counts() == {"pending": 0, "retrying": 0, "delivered": 0, "dead": 0}
    ob.store.close()


def tmpfs(path, size: str = "5m", read_only: bool = False) -> None:
    """Mount a small tmpfs (root only): a real full or read-only disk."""
    import subprocess

    path.mkdir(exist_ok=True)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if out.returncode != 0:
        from ..conftest import skip_or_fail

        skip_or_fail(f"cannot mount a tmpfs (needs root): {out.stderr.decode().strip()}")


def umount(path) -> None:
    import subprocess

    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "middle_page", "read_only"])
def test_14_a_damaged_or_read_only_database_at_start_is_one_clear_line(damage, tmp_path, settings, factory):
    import os
    import random
    import shutil
    import subprocess
    import sys

    from ..servers import ROOT

    db = tmp_path / "bad.db"
    ob = build_outbox(settings.with_(subscriber_url="http://127.0.0.1:9/"), database=str(db), factory=factory)
    ob.emit_many([factory.generate("OrderConfirmedEvent", seed=i) for i in range(3000)])
    ob.store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ob.store.close()
    data = db.read_bytes()
    mounted = None
    if damage == "truncated":
        db.write_bytes(data[: len(data) // 3])
    elif damage == "garbage":
        db.write_bytes(b"this is not a database" * 100)
    elif damage == "middle_page":
        page = 4096
        middle = (len(data) // page // 2) * page
        noise = random.Random(len(data)).randbytes(page - 1)  # a page of garbage, the same every run
        db.write_bytes(data[:middle] + bytes([0x0D]) + noise + data[middle + page:])
    else:  # a read-only file system (file modes do not stop root)
        mounted = tmp_path / "ro"
        tmpfs(mounted, "20m")
        shutil.copy(db, mounted / "bad.db")
        subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
        db = mounted / "bad.db"
    try:
        out = subprocess.run([sys.executable, "-m", "mock_norce", "serve"], cwd=ROOT, capture_output=True, text=True,
                             timeout=60, env=dict(os.environ, MOCK_NORCE_DATABASE=str(db), MOCK_NORCE_PORT="0"))
    finally:
        if mounted is not None:
            umount(mounted)
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    # A damaged file is named; a read-only file system by the directory that cannot be written.
    assert str(db) in out.stderr or f"data directory {db.parent} " in out.stderr, out.stderr
    assert "damaged" in out.stderr or "read-only" in out.stderr or "Read-only file system" in out.stderr


def test_14_a_full_disk_is_503_with_reads_served_and_recovers_by_itself_losing_nothing(served, serve, tmp_path):
    import os

    disk = tmp_path / "disk"
    tmpfs(disk, "6m")
    try:
        subscriber = serve(answer(204))
        s = served(MOCK_NORCE_DATABASE=str(disk / "mock-norce.db"), MOCK_NORCE_SUBSCRIBER_URL=subscriber.url)
        free = os.statvfs(disk)
        filler = disk / "filler"
        filler.write_bytes(b"\0" * max(0, free.f_bavail * free.f_frsize - 300_000))
        accepted, refused = [], None
        for i in range(5000):
            status, body = fire(s.url, "OrderConfirmedEvent", seed=i)
            if status == 202 or status == 200:
                accepted.append(body["delivery"]["id"])
            else:
                refused = (status, body)
                break
        assert refused is not None, "the disk never filled"
        assert refused[0] == 503 and refused[1]["error"] == "storage_unavailable", refused
        assert "full" in refused[1]["message"]
        health = http("GET", s.url + "/healthz")
        assert health[0] == 503 and "storage" in health[1]["parts"], health
        listed = http("GET", s.url + "/api/deliveries?limit=5")
        assert listed[0] == 200 and listed[1]["total"] >= 1  # reads are still served
        filler.unlink()  # space returns
        wait_for(lambda: http("GET", s.url + "/healthz")[0] == 200, 30)
        status, body = http("POST", s.url + "/api/events/SkuChangedNotification?wait=10", {})
        assert status == 200 and body["delivery"]["status"] == "delivered"
        for did in accepted:  # nothing that was accepted is lost
            status, d = http("GET", f"{s.url}/api/deliveries/{did}?wait=20")
            assert d["status"] == "delivered", d
        received = {json.loads(r.body)["OrderId"] for r in subscriber.requests if b"OrderId" in r.body}
        assert len(received) >= len(accepted)
        assert s.output().count("Traceback") == 0
        assert s.output().count("storage unavailable") <= 3  # once a minute, not per request
        assert s.stop() < 5 and s.proc.returncode == 0
    finally:
        umount(disk)


@pytest.mark.slow  # real time: the refused write waits out SQLite's 5 s busy timeout
def test_metrics_show_the_parts_of_the_engine_and_what_is_down(served, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    s = served()

    def up():
        text = __import__("urllib.request").request.urlopen(s.url + "/metrics", timeout=5).read().decode()
        family = {f.name: f for f in text_string_to_metric_families(text)}["mock_norce_up"]
        return {sample.labels["part"]: sample.value for sample in family.samples}
    assert up() == {"storage": 1, "writer": 1, "timer": 1, "runs": 1, "scheduler": 1}
    other = sqlite3.connect(str(tmp_path / "data" / "mock-norce.db"), isolation_level=None, timeout=1)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert fire(s.url)[0] == 503  # a refused write marks the storage down ...
        assert up()["storage"] == 0
    finally:
        other.execute("ROLLBACK")
        other.close()
    wait_for(lambda: up()["storage"] == 1, 15)  # ... and the probe finds it writable again
