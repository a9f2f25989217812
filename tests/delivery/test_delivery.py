"""Delivery with the outbox: Norce's retry schedule, dead letters, lanes, redelivery, stop,
retention. Real local subscribers; a fake clock where the schedule is 22 hours long."""

from __future__ import annotations

import json
import threading
import time

import pytest

from mock_norce.delivery import policy
from mock_norce.errors import DeliveryNotFound
from mock_norce.app import build_outbox

from .. import servers
from ..servers import answer
from .clocked import NORCE_OFFSETS, FakeClock


@pytest.fixture
def outbox_for(settings, factory):
    made = []

    def make(clock=time.time, start=True, **changes):
        ob = build_outbox(settings.with_(**changes), database=changes.pop("database", ":memory:"),
                                  clock=clock, factory=factory)
        if start:
            ob.start()
        made.append((ob, start))
        return ob
    yield make
    for ob, started in made:
        if started:
            ob.stop(grace=0.3)  # only a test of hanging subscribers has anything in flight


def test_policy_offsets_match_norce():
    assert policy.CURRENT.offsets() == NORCE_OFFSETS
    assert policy.CURRENT.max_attempts == 17 and policy.CURRENT.retry_delay(17) is None
    assert policy.CURRENT.offsets(0.001)[-1] == pytest.approx(79.44)


def test_always_failing_subscriber_gets_17_attempts_then_dead_fake_clock(outbox_for, serve):
    server = serve(answer(500, b"down"))
    clock = FakeClock()
    ob = outbox_for(clock=clock, start=False, subscriber_url=server.url)
    payload, did = ob.fire("OrderConfirmedEvent", seed=1)
    start = clock.t
    while (due := ob.dispatcher.next_due()) is not None:
        clock.t = due
        assert ob.dispatcher.run_due() == 1
    d = ob.delivery(did)
    assert d["status"] == "dead" and d["attempts"] == 17 and d["next_attempt_at"] is None
    offsets = [round(a["started"] - start, 6) for a in d["attempt_log"]]
    assert offsets == NORCE_OFFSETS
    assert [a["number"] for a in d["attempt_log"]] == list(range(1, 18))
    assert all(a["status_code"] == 500 and a["error_class"] == "http_status" for a in d["attempt_log"])
    assert len(server.requests) == 17 and {r.body for r in server.requests} == {payload.to_bytes()}
    # Dead is final: nothing is due any more, whatever the time.
    clock.t += 10 * 86400
    assert ob.dispatcher.run_due() == 0


def test_recovers_on_a_later_attempt_fake_clock(outbox_for, serve):
    calls = []

    def flaky(req, conn):
        calls.append(1)
        return servers.response(200 if len(calls) >= 4 else 503)
    clock = FakeClock()
    ob = outbox_for(clock=clock, start=False, subscriber_url=serve(flaky).url)
    _, did = ob.fire("SkuChangedNotification", seed=2)
    while (due := ob.dispatcher.next_due()) is not None:
        clock.t = due
        ob.dispatcher.run_due()
    d = ob.delivery(did)
    assert d["status"] == "delivered" and d["attempts"] == 4
    assert [a["status_code"] for a in d["attempt_log"]] == [503, 503, 503, 200]


@pytest.mark.slow
def test_whole_policy_in_real_time_at_scale_0_001(outbox_for, serve):
    server = serve(answer(500))
    ob = outbox_for(subscriber_url=server.url, time_scale=0.001)
    _, did = ob.fire("JobCompletedEvent", seed=3)
    start = time.monotonic()
    d = ob.wait(did, timeout=115)
    assert d["status"] == "dead" and d["attempts"] == 17, d
    assert time.monotonic() - start < 110
    first = d["attempt_log"][0]["started"]
    offsets = [a["started"] - first for a in d["attempt_log"]]
    for got, want in zip(offsets, NORCE_OFFSETS):
        assert want * 0.001 <= got + 0.001 <= want * 0.001 + 0.25, (got, want)


@pytest.mark.parametrize("scale", [0.1, pytest.param(1.0, marks=pytest.mark.slow)], ids=["scale-0.1", "scale-1"])
def test_due_retry_fires_within_100ms(outbox_for, serve, scale):
    # The real timer: the second attempt is due 5 s x scale after the first, and goes then.
    calls = []

    def once_then_ok(req, conn):
        calls.append(time.time())
        return servers.response(500 if len(calls) == 1 else 200)
    ob = outbox_for(subscriber_url=serve(once_then_ok).url, time_scale=scale)
    _, did = ob.fire("OrderReceivedEvent", seed=4)
    d = ob.wait(did, timeout=5 * scale + 3)
    assert d["status"] == "delivered" and d["attempts"] == 2
    first, second = (a["started"] for a in d["attempt_log"])
    assert 5.0 * scale <= second - first < 5.0 * scale + 0.1, second - first


def test_slow_subscriber_does_not_hold_up_others(outbox_for, serve):
    hanging = serve(servers.silent)
    fast = serve(answer(204))
    ob = outbox_for(subscriber_url=fast.url)
    for i in range(3):
        ob.fire("OrderConfirmedEvent", seed=i, url=hanging.url)
    start = time.monotonic()
    ids = [ob.fire("OrderConfirmedEvent", seed=100 + i)[1] for i in range(20)]
    for did in ids:
        assert ob.wait(did, timeout=3)["status"] == "delivered"
    assert time.monotonic() - start < 2.0
    assert len(fast.requests) == 20


def test_events_reach_one_subscriber_in_emission_order(outbox_for, serve):
    server = serve(answer(200))
    ob = outbox_for(subscriber_url=server.url)
    ids = [ob.fire("OrderConfirmedEvent", seed=i, overrides={"OrderNo": f"N{i}"})[1] for i in range(50)]
    for did in ids:
        ob.wait(did, 5)
    assert [json.loads(r.body)["OrderNo"] for r in server.requests] == [f"N{i}" for i in range(50)]


def test_a_backed_up_lane_reads_the_waiting_bodies_in_batches(outbox_for, serve, tmp_path):
    # Entries that wait behind a backed-up lane keep only their ids; their bodies are read
    # back ahead, many per query, and still go out in order, each exactly once.
    server = serve(answer(204))
    ob = outbox_for(start=False, subscriber_url=server.url, database=str(tmp_path / "d.db"))
    ob.dispatcher.lanes.THIN_AFTER = 4
    ob.dispatcher.PREFETCH = 8
    reads = []
    jobs = ob.dispatcher.store.jobs
    ob.dispatcher.store.jobs = lambda ids: reads.append(len(ids)) or jobs(ids)
    ids = [ob.fire("OrderConfirmedEvent", seed=i, overrides={"OrderNo": f"N{i}"})[1] for i in range(60)]
    ob.start()
    for did in ids:
        assert ob.wait(did, 5)["status"] == "delivered"
    assert [json.loads(r.body)["OrderNo"] for r in server.requests] == [f"N{i}" for i in range(60)]
    assert sum(reads) >= 56 and len(reads) <= 56 // 8 + 2, reads  # 56 waited without a body


def test_a_clear_during_a_read_ahead_brings_no_deleted_delivery_back(outbox_for, serve, tmp_path):
    # A sender thread reads the waiting bodies of its lane while the log is cleared: what it
    # read belongs to deleted deliveries and must not be kept for, or sent by, anyone.
    server = serve(answer(204))
    ob = outbox_for(start=False, subscriber_url=server.url, database=str(tmp_path / "d.db"))
    ids = [ob.fire("OrderConfirmedEvent", seed=i)[1] for i in range(5)]
    d = ob.dispatcher
    d.window.load(d.clock() + 1)
    entries = [e[:4] + (None,) + e[5:] for e in d.window.pop_due(d.clock() + 1)]
    d.lanes.submit_many(entries[1:])  # the rest of the lane, waiting without bodies
    jobs = d.store.jobs

    def read_then_clear(wanted):
        found = jobs(wanted)
        d.forget_all()  # the reset lands between the read and its use
        return found
    d.store.jobs = read_then_clear
    assert len(entries) == 5 and entries[0][2] == ids[0]
    assert d._job(entries[0]) is None
    assert d._prefetched == {}
    d.store.jobs = jobs
    d._attempt(entries[1])  # an entry of the old generation: dropped, not sent
    assert server.requests == []


def test_every_attempt_is_logged_with_response_and_hops(outbox_for, serve):
    server = serve(servers.routes({
        "/in": answer(302, headers={"Location": "/out"}),
        "/out": answer(410, b"<script>alert(1)</script>", {"X-Reason": "gone"}),
    }))
    clock = FakeClock()
    ob = outbox_for(clock=clock, start=False, subscriber_url=server.url + "/in")
    _, did = ob.fire("CustomerChangedNotification", seed=5)
    ob.dispatcher.run_due()
    a = ob.delivery(did)["attempt_log"][0]
    assert a["status_code"] == 410 and a["error_class"] == "http_status"
    assert a["url"].endswith("/out") and a["method"] == "GET"
    assert a["response_body"] == "<script>alert(1)</script>"
    assert ["X-Reason", "gone"] in a["response_headers"]
    assert [h["status"] for h in a["hops"]] == [302, 410]
    assert a["latency_ms"] > 0 and a["started"] == clock.t


def test_manual_redelivery_of_a_dead_delivery(outbox_for, serve):
    state = {"up": False}
    server = serve(lambda req, conn: servers.response(200 if state["up"] else 500))
    clock = FakeClock()
    ob = outbox_for(clock=clock, start=False, subscriber_url=server.url, time_scale=0)
    payload, did = ob.fire("OrderCancelledEvent", seed=6)
    while ob.dispatcher.next_due() is not None:
        ob.dispatcher.run_due()
    assert ob.delivery(did)["status"] == "dead"
    state["up"] = True
    new = ob.redeliver(did)
    assert new != did
    assert ob.dispatcher.run_due() == 1
    again = ob.delivery(new)
    assert again["status"] == "delivered" and again["redelivery_of"] == did
    assert again["body"] == payload.to_json() and len(again["attempt_log"]) == 1
    assert ob.delivery(did)["status"] == "dead"  # the old series keeps its history
    assert server.requests[-1].body == payload.to_bytes()
    with pytest.raises(DeliveryNotFound):
        ob.redeliver(999999)


def test_type_that_is_off_is_not_recorded(outbox_for, serve):
    server = serve(answer(200))
    ob = outbox_for(subscriber_url=server.url)
    ob.subscriptions.update("SkuChangedNotification", enabled=False)
    payload, did = ob.fire("SkuChangedNotification", seed=1)
    assert did is None and payload.body["ClientId"] == 1042
    assert ob.store.deliveries()[1] == 0 and server.requests == []


def test_static_headers_and_own_url_per_type(outbox_for, serve):
    default, own = serve(answer(200)), serve(answer(200))
    ob = outbox_for(subscriber_url=default.url)
    ob.subscriptions.update("OrderConfirmedEvent", url=own.url + "/orders",
                            headers={"x-norce-event-type": "OrderConfirmedEvent", "Authorization": "Bearer t"})
    ob.wait(ob.fire("OrderConfirmedEvent", seed=1)[1], 5)
    ob.wait(ob.fire("JobCompletedEvent", seed=1)[1], 5)
    assert own.requests[0].headers["x-norce-event-type"] == "OrderConfirmedEvent"
    assert own.requests[0].path == "/orders"
    assert "x-norce-event-type" not in default.requests[0].headers


def test_stop_interrupts_in_flight_and_the_next_start_resumes(settings, factory, serve, tmp_path):
    hanging = serve(servers.silent)
    db = str(tmp_path / "stop.db")
    ob = build_outbox(settings.with_(subscriber_url=hanging.url), database=db, factory=factory)
    ob.start()
    _, did = ob.fire("OrderConfirmedEvent", seed=1)
    deadline = time.time() + 3
    while not hanging.requests and time.time() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    ob.stop(grace=0.3)
    assert time.monotonic() - start < 3
    ok = serve(answer(200))
    again = build_outbox(settings.with_(subscriber_url=ok.url), database=db, factory=factory)
    d = again.delivery(did)
    assert d["attempts"] == 0 and d["attempt_log"][0]["error_class"] == "interrupted"
    assert d["status"] == "pending" and d["next_attempt_at"] is not None
    # The URL is the one recorded with the event: the hanging one. Point it at the live one.
    again.store._db.execute("UPDATE deliveries SET url=?", (ok.url,))
    assert again.start() == 1
    try:
        assert again.wait(did, 5)["status"] == "delivered"
    finally:
        again.stop(grace=1)


def test_retention_keeps_the_newest_finished(outbox_for, serve):
    server = serve(answer(200))
    clock = FakeClock()
    ob = outbox_for(clock=clock, start=False, subscriber_url=server.url, retention_max=10)
    ids = [ob.fire("SkuChangedNotification", seed=i)[1] for i in range(40)]
    clock.t += 10
    ob.dispatcher.run_due()
    rows, total = ob.store.deliveries(limit=100)
    assert total == 10 and [r["id"] for r in rows] == ids[-10:][::-1]
    attempts = ob.store._db.execute("SELECT count(*) FROM attempts").fetchone()[0]
    assert attempts == 10


def test_waiting_on_many_deliveries_from_threads(outbox_for, serve):
    server = serve(answer(200))
    ob = outbox_for(subscriber_url=server.url, concurrency=4)
    results = []

    def one(i):
        _, did = ob.fire("OrderReceivedEvent", seed=i)
        results.append(ob.wait(did, 10)["status"])
    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["delivered"] * 40 and len(server.requests) == 40


def test_clear_forgets_everything(outbox_for, serve):
    clock = FakeClock()
    ob = outbox_for(clock=clock, start=False, subscriber_url=serve(answer(500)).url)
    for i in range(5):
        ob.fire("SkuChangedNotification", seed=i)
    assert ob.clear() == 5
    assert ob.dispatcher.next_due() is None and ob.store.deliveries()[1] == 0
