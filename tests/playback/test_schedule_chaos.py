"""A schedule's chaos on the fake clock: a rate schedule (and a soak) duplicates by its own
seed, counts its events (not the duplicates), and does the same again for the same seed."""

from __future__ import annotations

from ..fakesched import clock, world  # noqa: F401 (fixtures)


def chaos_log(w, sid):
    rows = w.outbox.store._db.execute("SELECT id, chaos FROM deliveries WHERE run_id=? ORDER BY id", (sid,))
    return [(row[0], row[1]) for row in rows]


def test_a_rate_schedules_chaos_is_seeded_and_its_events_counted_once(world, tmp_path):
    spec = {"event": "SkuChangedNotification", "rate": 5, "duration": "4s", "seed": 9, "chaos": {"duplicate": 0.5}}
    first = world(database=str(tmp_path / "a.db"))
    a = first.service.create(spec)
    first.advance(10)
    first.deliver()
    log = chaos_log(first, a["id"])
    assert first.service.get(a["id"])["emitted"] == 20  # the events, not their duplicates
    twins = [c for _, c in log if c and '"duplicate_of"' in c]
    assert 3 <= len(twins) <= 17 and len(log) == 20 + len(twins)
    assert first.outbox.store.counts()["delivered"] == len(log)
    second = world(database=str(tmp_path / "b.db"))
    b = second.service.create(spec)
    second.advance(10)
    assert [c for _, c in chaos_log(second, b["id"])] == [c for _, c in log]  # same seed, same chaos
    third = world(database=str(tmp_path / "c.db"))
    c = third.service.create(dict(spec, seed=10))
    third.advance(10)
    assert [x for _, x in chaos_log(third, c["id"])] != [x for _, x in log]


def test_a_soak_with_chaos_marks_what_it_did(world):
    w = world()
    s = w.service.create({"mix": {"web-order": 1, "pos-order": 1}, "rate": 10, "duration": "2s",
                          "chaos": {"fail_first": 1}})
    w.advance(5)
    w.deliver()
    w.deliver()  # the retries (time scale 0: due at once)
    rows = w.outbox.store._db.execute(
        "SELECT d.chaos, d.attempts, d.status, a.error_class FROM deliveries d JOIN attempts a ON a.delivery_id = d.id"
        " AND a.number = 1 WHERE d.run_id=?", (s["id"],)).fetchall()
    assert len(rows) == 20
    assert all('"fail_first": true' in r[0] and r[1] == 2 and r[2] == "delivered" and r[3] == "chaos" for r in rows)
    assert w.service.figures[s["id"]].summary()["outcomes"] == {"chaos": 20, "200": 20}
