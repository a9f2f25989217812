"""Seeded sender-side chaos (delivery/chaos.py): the spec's checks, the seeded decisions, and
what the outbox and the dispatcher do with them, against real local subscribers with a fake
clock (the 5 s wait of a retry is a clock move, not a sleep)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from mock_norce.delivery import chaos
from mock_norce.errors import ChaosError, MockNorceError
from mock_norce.storage.database import Database
from mock_norce.storage.deliveries import DeliveryLog
from mock_norce.storage.log_query import LogFilter
from mock_norce.storage.schema import SCHEMA_VERSION, TABLES, VERSION_2, VERSION_3, VERSION_3_COLUMN

from ..servers import answer
from .clocked import run_out


@pytest.fixture
def outbox_for(outbox):
    """An outbox (on a fake clock) delivering to `url`."""
    return lambda url, **changes: outbox(subscriber_url=url, **changes)


def drain(ob) -> None:
    """Make every attempt due, moving the fake clock to each due time in turn."""
    run_out(ob)


# --- the spec ----------------------------------------------------------------------------

@pytest.mark.parametrize("data, field", [
    ({"duplicate": 1.5}, "chaos.duplicate"),
    ({"duplicate": -0.1}, "chaos.duplicate"),
    ({"fail_first": "often"}, "chaos.fail_first"),
    ({"fail_first": True}, "chaos.fail_first"),
    ({"fail_first": float("nan")}, "chaos.fail_first"),
    ({"reorder_window": -1}, "chaos.reorder_window"),
    ({"reorder_window": "2 fortnights"}, "chaos.reorder_window"),
    ({"delay": 3601}, "chaos.delay"),
    ({"seed": 2**63}, "chaos.seed"),
    ({"seed": 1.5}, "chaos.seed"),
    ({"dupliacte": 0.5}, "chaos.dupliacte"),
    ([0.5], "chaos"),
])
def test_a_bad_spec_is_refused_naming_its_field(data, field):
    with pytest.raises(ChaosError) as caught:
        chaos.parse(data)
    assert caught.value.field == field and caught.value.status == 422
    assert field.split(".")[-1] in caught.value.message


def test_a_spec_reads_durations_and_nothing_on_is_no_chaos():
    spec = chaos.parse({"seed": 7, "duplicate": 0.25, "reorder_window": "1500ms", "delay": 2, "fail_first": 1})
    assert spec == chaos.Chaos(seed=7, duplicate=0.25, reorder_window=1.5, delay=2.0, fail_first=1.0)
    assert chaos.parse({}) is None and chaos.parse({"seed": 3, "duplicate": 0}) is None and chaos.parse(None) is None
    assert chaos.parse(chaos.parse_pairs("duplicate=0.25, reorder-window=1500ms,delay=2,fail_first=1,seed=7")) == spec
    with pytest.raises(ChaosError):
        chaos.parse_pairs("duplicate")
    with pytest.raises(ChaosError):
        chaos.parse_pairs("delay=1,delay=2")


def test_decisions_are_the_seeds_and_each_knob_draws_its_own():
    spec = chaos.Chaos(seed=11, duplicate=0.3, reorder_window=5, delay=2, fail_first=0.3)
    first = [chaos.decide(spec, "run", i) for i in range(200)]
    assert first == [chaos.decide(chaos.Chaos(**spec.to_dict()), "run", i) for i in range(200)]
    other = [chaos.decide(chaos.Chaos(**dict(spec.to_dict(), seed=12)), "run", i) for i in range(200)]
    assert other != first
    assert [chaos.decide(spec, "OrderConfirmedEvent", i) for i in range(200)] != first  # streams differ
    # Each probability is about right, and every shift lies in its window.
    assert 40 <= sum(d.duplicate for d in first) <= 80 and 40 <= sum(d.fail_first for d in first) <= 80
    assert all(0 <= d.reorder <= 5 and 0 <= d.delay <= 2 for d in first)
    # Turning one knob up leaves what the others decide alone.
    louder = chaos.Chaos(**dict(spec.to_dict(), duplicate=0.9))
    assert [(d.reorder, d.delay, d.fail_first) for d in (chaos.decide(louder, "run", i) for i in range(200))] \
        == [(d.reorder, d.delay, d.fail_first) for d in first]


# --- what the outbox and the dispatcher do with it ---------------------------------------

def test_fail_first_makes_a_200_subscriber_see_the_event_twice_and_ends_delivered_at_attempt_2(outbox_for, serve):
    server = serve(answer(200, b"thanks"))
    ob = outbox_for(server.url)
    start = ob.clock.t
    payload = ob.factory.generate("OrderConfirmedEvent", seed=1)
    [did] = ob.emit_many([payload], run_id="r1", chaos=chaos.Chaos(seed=1, fail_first=1.0))
    drain(ob)
    d = ob.delivery(did)
    assert d["status"] == "delivered" and d["attempts"] == 2
    first, second = d["attempt_log"]
    # The subscriber's real answer is kept as evidence; the attempt is counted failed by chaos.
    assert first["status_code"] == 200 and first["error_class"] == "chaos" and first["response_body"] == "thanks"
    assert "on purpose" in first["error"] and "HTTP 200" in first["error"]
    assert second["status_code"] == 200 and second["error_class"] is None
    assert [round(a["started"] - start, 6) for a in d["attempt_log"]] == [0, 5]  # the policy's first delay
    assert d["chaos"] == {"fail_first": True, "seed": 1, "position": 0}
    assert [r.body for r in server.requests] == [payload.to_bytes()] * 2


def test_fail_first_leaves_a_real_failure_as_it_is(outbox_for, serve):
    ob = outbox_for(serve(answer(503)).url)
    [did] = ob.emit_many([ob.factory.generate("OrderConfirmedEvent", seed=1)], chaos=chaos.Chaos(fail_first=1.0))
    ob.clock.t += 0  # only the first attempt
    ob.dispatcher.run_due()
    first = ob.delivery(did)["attempt_log"][0]
    assert first["status_code"] == 503 and first["error_class"] == "http_status"  # the endpoint's own failure


def test_a_duplicate_reaches_the_subscriber_twice_with_the_same_body(outbox_for, serve):
    server = serve(answer(200))
    ob = outbox_for(server.url)
    payloads = [ob.factory.generate("OrderConfirmedEvent", seed=s) for s in (1, 2)]
    ids = ob.emit_many(payloads, run_id="r1", chaos=chaos.Chaos(seed=5, duplicate=1.0))
    drain(ob)
    items, total, _ = ob.store.find(LogFilter(run_id="r1"), order="asc")
    assert total == 4 and [d["id"] for d in items] == [ids[0], ids[0] + 1, ids[1], ids[1] + 1]
    assert all(d["status"] == "delivered" for d in items)
    assert items[0]["chaos"] == {"duplicated_as": ids[0] + 1, "seed": 5, "position": 0}
    assert items[1]["chaos"] == {"duplicate_of": ids[0], "seed": 5, "position": 0}
    assert items[1]["body"] == items[0]["body"] and items[1]["redelivery_of"] is None
    bodies = [r.body for r in server.requests]
    assert sorted(bodies) == sorted([p.to_bytes() for p in payloads for _ in range(2)])
    assert chaos.describe(items[1]["chaos"])[0].startswith(f"duplicate of #{ids[0]}")


def test_reorder_and_delay_move_first_attempts_by_the_seed_and_scale(outbox_for, serve):
    spec = chaos.Chaos(seed=9, reorder_window=10.0, delay=4.0)

    def dues(scale):
        ob = outbox_for(serve(answer(200)).url, time_scale=scale)
        now = ob.clock.t
        payloads = [ob.factory.generate("OrderConfirmedEvent", seed=s) for s in range(6)]
        ids = ob.emit_many(payloads, chaos=spec)
        rows = [ob.delivery(i) for i in ids]
        return [round(r["next_attempt_at"] - now, 6) for r in rows], [r["chaos"] for r in rows], ob

    at1, notes1, ob = dues(1.0)
    decisions = [chaos.decide(spec, "run", i) for i in range(6)]
    assert at1 == [round(d.reorder + d.delay, 6) for d in decisions]
    assert notes1 == [{"reordered": d.reorder, "delayed": d.delay, "seed": 9, "position": i}
                      for i, d in enumerate(decisions)]
    assert at1 != sorted(at1)  # events emitted in one order are due in another
    # Nothing goes before its due time; each goes at it.
    ob.clock.t += min(at1) - 0.001
    assert ob.dispatcher.run_due() == 0
    drain(ob)
    started = sorted((a["started"], d) for d in range(6) for a in ob.delivery(d + 1)["attempt_log"])
    assert [d for _, d in started] == sorted(range(6), key=lambda i: at1[i])
    at_half, notes_half, _ = dues(0.5)
    assert at_half == pytest.approx([t / 2 for t in at1], abs=0.002)
    assert [n["reordered"] for n in notes_half] == pytest.approx([n["reordered"] / 2 for n in notes1], abs=0.002)


def test_the_same_seed_gives_the_same_log_and_another_seed_another(outbox_for, serve):
    url = serve(answer(200)).url
    spec = {"duplicate": 0.4, "reorder_window": 3, "delay": 1, "fail_first": 0.4}

    def log(seed):
        ob = outbox_for(url)
        payloads = [ob.factory.generate("OrderConfirmedEvent", seed=s) for s in range(12)]
        ob.emit_many(payloads, run_id="r", chaos=chaos.parse(dict(spec, seed=seed)))
        drain(ob)
        start = 1_800_000_000.0
        return [(d["id"], d["body"], d["status"], d["chaos"], d["attempts"],
                 [(a["number"], round(a["started"] - start, 6), a["error_class"]) for a in d["attempt_log"]])
                for d in (ob.delivery(i["id"]) for i in ob.store.find(LogFilter(run_id="r"), limit=100)[0])]

    once = log(21)
    assert once == log(21)
    assert once != log(22)
    assert any(d[3] and d[3].get("duplicate_of") for d in once)
    assert any(d[3] and d[3].get("fail_first") for d in once)


def test_a_subscriptions_chaos_follows_each_types_own_stream(outbox_for, serve):
    server = serve(answer(200))
    ob = outbox_for(server.url)
    subs = ob.subscriptions
    subs.update("OrderConfirmedEvent", chaos={"duplicate": 1, "seed": 4})
    assert subs.get("OrderConfirmedEvent").chaos == chaos.Chaos(seed=4, duplicate=1.0)
    with pytest.raises(MockNorceError) as caught:
        subs.update("OrderConfirmedEvent", chaos={"duplicate": 2})
    assert caught.value.field == "chaos.duplicate"
    assert subs.get("OrderConfirmedEvent").chaos.duplicate == 1.0  # refused whole
    _, first = ob.fire("OrderConfirmedEvent", seed=1)
    _, plain = ob.fire("SkuChangedNotification", seed=1)
    _, second = ob.fire("OrderConfirmedEvent", seed=2)
    assert ob.delivery(first)["chaos"] == {"duplicated_as": first + 1, "seed": 4, "position": 0}
    assert ob.delivery(plain)["chaos"] is None
    assert ob.delivery(second)["chaos"]["position"] == 1
    # A run's chaos wins over the subscription's.
    [ran] = ob.emit_many([ob.factory.generate("OrderConfirmedEvent", seed=3)], chaos=chaos.Chaos(seed=4, delay=1))
    assert set(ob.delivery(ran)["chaos"]) == {"delayed", "seed", "position"}
    # Setting it again (or a reset) starts the type's stream from 0.
    subs.update("OrderConfirmedEvent", chaos={"duplicate": 1, "seed": 4})
    _, again = ob.fire("OrderConfirmedEvent", seed=1)
    assert ob.delivery(again)["chaos"]["position"] == 0
    subs.update("OrderConfirmedEvent", chaos=None)
    _, off = ob.fire("OrderConfirmedEvent", seed=1)
    assert ob.delivery(off)["chaos"] is None


def test_the_log_filters_chaos(outbox_for, serve):
    ob = outbox_for(serve(answer(200)).url)
    ob.fire("OrderConfirmedEvent", seed=1)
    ids = ob.emit_many([ob.factory.generate("OrderConfirmedEvent", seed=2)], chaos=chaos.Chaos(fail_first=1))
    ob.dispatcher.run_due()
    assert [d["id"] for d in ob.store.find(LogFilter(chaos=True))[0]] == ids
    assert [d["id"] for d in ob.store.find(LogFilter(error_class="chaos"))[0]] == ids  # retrying, failed by chaos
    assert len(ob.store.find(LogFilter(chaos=False))[0]) == 1


def test_a_version_3_file_gets_the_chaos_columns(tmp_path):
    path = tmp_path / "v3.sqlite"
    old = sqlite3.connect(path, isolation_level=None)
    old.executescript(TABLES)
    old.executescript("BEGIN;" + VERSION_2 + VERSION_3_COLUMN + VERSION_3 + "PRAGMA user_version=3;COMMIT;")
    old.execute("INSERT INTO deliveries(type, body, url, status, created) VALUES"
                " ('OrderConfirmedEvent', ?, 'http://x/', 'delivered', 1)", (b"{}",))
    old.close()
    log = DeliveryLog(Database(path))
    try:
        assert log._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert log.delivery(1)["chaos"] is None
        [new] = log.add_events([("OrderConfirmedEvent", b"{}", True, None, "http://x/", {}, 1.0, 2.0,
                                 {"fail_first": True})], 2.0)
        assert log.delivery(new)["chaos"] == {"fail_first": True} and log.job(new).chaos_fail
        assert "chaos" in {r[1] for r in log._db.execute("PRAGMA table_info(runs)")}
    finally:
        log.close()
    conn = sqlite3.connect(path)  # an older mock-norce wrote its version: opened again, no harm
    conn.execute("PRAGMA user_version=3")
    conn.close()
    log = DeliveryLog(Database(path))
    try:
        assert json.loads(log._db.execute("SELECT chaos FROM deliveries WHERE id=2").fetchone()[0])["fail_first"]
    finally:
        log.close()


def test_a_runs_chaos_positions_count_only_the_events_recorded(outbox_for, serve):
    """A type switched OFF records nothing and takes no position: a schedule's next firing starts
    at its ``emitted`` count, so no two of its events share a position (and a decision)."""
    ob = outbox_for(serve(answer(200)).url)
    ob.subscriptions.update("SkuChangedNotification", enabled=False)
    payloads = [ob.factory.generate(t, seed=n) for n, t in
                enumerate(["OrderConfirmedEvent", "SkuChangedNotification", "OrderDeliveredEvent"])]
    ids = ob.emit_many(payloads, chaos=chaos.Chaos(seed=5, delay=1), chaos_stream="schedule", chaos_from=10)
    assert ids[1] is None
    assert [ob.delivery(i)["chaos"]["position"] for i in (ids[0], ids[2])] == [10, 11]


def test_a_spec_as_pairs_reads_back_exactly():
    """The forms and --chaos show a spec as KEY=VALUE pairs: short, yet never rounded (a rounded
    value would count as a change on the next save and start the chaos stream again)."""
    spec = {"seed": 4, "duplicate": 1.0, "fail_first": 0.1234567, "delay": 1234.5678, "reorder_window": 0.0}
    text = chaos.as_pairs(spec)
    assert text == "duplicate=1,delay=1234.5678,fail_first=0.1234567,seed=4"
    assert chaos.parse(chaos.parse_pairs(text)) == chaos.parse(spec)
