"""Seeded chaos through the API, end to end: on a subscription, a scenario run and a schedule,
delivered to a real local subscriber; bad specs refused naming the field."""

from __future__ import annotations

import pytest

from .browser import wait_until
from .test_api import assert_error


def deliveries(client, **filters) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return client.get(f"/api/deliveries?limit=500&order=asc&{query}").get_json()["items"]


def test_a_subscriptions_chaos_duplicates_its_events(client, subscriber):
    got = client.put("/api/subscriptions/OrderConfirmedEvent", json={"chaos": {"duplicate": 1, "seed": 3}})
    assert got.status_code == 200, got.get_json()
    assert got.get_json()["chaos"] == {"seed": 3, "duplicate": 1.0, "reorder_window": 0.0, "delay": 0.0,
                                       "fail_first": 0.0}
    fired = client.post("/api/events/OrderConfirmedEvent?wait=5", json={"seed": 1}).get_json()["delivery"]
    assert fired["chaos"] == {"duplicated_as": fired["id"] + 1, "seed": 3, "position": 0}
    twin = client.get(f"/api/deliveries/{fired['id'] + 1}?wait=5").get_json()
    assert twin["chaos"] == {"duplicate_of": fired["id"], "seed": 3, "position": 0}
    assert twin["status"] == "delivered" and twin["body"] == fired["body"]
    wait_until(lambda: len(subscriber.requests) == 2)
    assert subscriber.requests[0].body == subscriber.requests[1].body == fired["body"].encode()
    assert [d["id"] for d in deliveries(client, chaos="yes")] == [fired["id"], fired["id"] + 1]
    client.post("/api/events/SkuChangedNotification?wait=5", json={"seed": 1})
    assert [d["event_type"] for d in deliveries(client, chaos="no")] == ["SkuChangedNotification"]
    # null takes it off; a reset brings back the boot configuration (no chaos).
    assert client.put("/api/subscriptions/OrderConfirmedEvent", json={"chaos": None}).get_json()["chaos"] is None
    client.put("/api/subscriptions/OrderConfirmedEvent", json={"chaos": {"fail_first": 1}})
    assert client.post("/api/reset", json={}).status_code == 200
    subs = client.get("/api/subscriptions").get_json()["subscriptions"]
    assert all(s["chaos"] is None for s in subs)


@pytest.mark.parametrize("chaos, status, code, fragment", [
    ({"duplicate": 1.5}, 422, "out_of_range", "$.chaos.duplicate"),
    ({"fail_first": -1}, 422, "out_of_range", "$.chaos.fail_first"),
    ({"delay": 3601}, 422, "out_of_range", "$.chaos.delay"),
    ({"reorder_window": "a while"}, 422, "bad_chaos", "chaos.reorder_window"),
    ({"delay": "2h"}, 422, "bad_chaos", "chaos.delay"),
    ({"dupes": 1}, 400, "bad_request", "dupes"),
    ({"duplicate": "often"}, 400, "bad_request", "$.chaos.duplicate"),
])
def test_bad_chaos_is_refused_naming_the_field_at_every_door(client, chaos, status, code, fragment):
    for method, path, extra in (("put", "/api/subscriptions/OrderConfirmedEvent", {}),
                                ("post", "/api/scenarios/web-order/runs", {}),
                                ("post", "/api/schedules", {"event": "OrderConfirmedEvent", "interval": "1h"})):
        got = getattr(client, method)(path, json={**extra, "chaos": chaos})
        # A schedule's own check says bad_schedule, as for its other fields.
        assert_error(got, status, "bad_schedule" if code == "bad_chaos" and extra else code, fragment)
    assert client.get("/api/subscriptions").get_json()["subscriptions"][0]["chaos"] is None
    assert client.get("/api/runs").get_json() == [] and client.get("/api/schedules").get_json() == []


def test_a_runs_chaos_fails_each_first_attempt_and_the_retry_delivers(client, subscriber):
    run = client.post("/api/scenarios/web-order/runs", json={"seed": 5, "chaos": {"fail_first": 1}}).get_json()
    assert run["chaos"]["seed"] == 5 and run["chaos"]["fail_first"] == 1.0  # seeded by the run
    done = client.get(f"/api/runs/{run['id']}?wait=20").get_json()
    assert done["status"] == "completed" and done["deliveries"]["delivered"] == 6, done
    assert client.get("/api/runs").get_json()[0]["chaos"] == run["chaos"]  # kept with the run
    for d in deliveries(client, run=run["id"]):
        d = client.get(f"/api/deliveries/{d['id']}").get_json()
        assert d["attempts"] == 2 and d["chaos"]["fail_first"] is True
        first, second = d["attempt_log"]
        assert (first["status_code"], first["error_class"]) == (200, "chaos") and "on purpose" in first["error"]
        assert (second["status_code"], second["error_class"]) == (200, None)
    assert len(subscriber.requests) == 12  # every event seen twice


def test_runs_with_the_same_seed_get_the_same_chaos(client):
    spec = {"duplicate": 0.5, "delay": "1s", "fail_first": 0.5}

    def chaos_of(seed):
        run = client.post("/api/scenarios/web-order/runs", json={"seed": seed, "chaos": spec}).get_json()
        assert client.get(f"/api/runs/{run['id']}?wait=20").get_json()["status"] == "completed"
        def relative(d):  # ids differ from run to run: what it names, by its distance
            return {k: (v - d["id"] if k in ("duplicate_of", "duplicated_as") else v) for k, v in d["chaos"].items()}
        return [(d["event_type"], d["chaos"] and relative(d), d["attempts"]) for d in deliveries(client, run=run["id"])]
    once = chaos_of(8)
    assert once == chaos_of(8)
    assert once != chaos_of(9)


def test_a_schedules_chaos_is_its_own_and_kept_in_its_spec(client, subscriber):
    made = client.post("/api/schedules", json={"event": "OrderConfirmedEvent", "interval": "50ms", "count": 3,
                                               "seed": 77, "chaos": {"duplicate": 1}})
    assert made.status_code == 201, made.get_json()
    schedule = made.get_json()
    assert schedule["spec"]["chaos"] == {"seed": None, "duplicate": 1.0, "reorder_window": 0.0, "delay": 0.0,
                                         "fail_first": 0.0}
    wait_until(lambda: len(deliveries(client, run=schedule["id"], status="delivered")) == 6)
    items = deliveries(client, run=schedule["id"])
    assert [d["chaos"].get("position") for d in items] == [0, 0, 1, 1, 2, 2]
    assert {d["chaos"]["seed"] for d in items} == {77}  # the schedule's own seed
    for original, twin in zip(items[::2], items[1::2]):
        assert twin["chaos"]["duplicate_of"] == original["id"] and twin["body"] == original["body"]
    wait_until(lambda: len(subscriber.requests) == 6)
    # A scenario schedule hands its chaos to each run it starts.
    made = client.post("/api/schedules", json={"scenario": "web-order", "interval": "1h",
                                               "chaos": {"fail_first": 1, "seed": 4}}).get_json()
    wait_until(lambda: client.get(f"/api/runs/{made['id']}.1").status_code == 200)
    assert client.get(f"/api/runs/{made['id']}.1").get_json()["chaos"]["seed"] == 5  # its seed + the firing


def test_the_from_code_snippets_carry_the_chaos():
    import json
    import shlex

    from mock_norce.delivery import chaos as chaos_spec
    from mock_norce.web import snippets

    spec = {"seed": 0, "duplicate": 0.5, "reorder_window": 2.0, "delay": 0.0, "fail_first": 1.0}
    for s in (snippets.run("http://127.0.0.1:8080", "web-order", {"seed": 1, "chaos": spec}),
              snippets.subscription("http://127.0.0.1:8080", "OrderConfirmedEvent", None, {}, True, chaos=spec)):
        assert json.loads(s.curl.rsplit("-d ", 1)[1].strip("'"))["chaos"] == spec
        words = shlex.split(s.cli)
        given = chaos_spec.parse(chaos_spec.parse_pairs(words[words.index("--chaos") + 1]))
        assert given == chaos_spec.Chaos(**spec)  # seed 0 kept: it is not "no seed"
        call = s.pytest.split("mock_norce.", 1)[1]
        assert "chaos={" in call and "'fail_first': 1.0" in call
        compile(s.pytest, "snippet", "exec")


def test_the_python_client_sets_chaos(client):
    """The pytest plugin's client (testing/client.py) on this app, through Flask's test client."""
    from mock_norce.testing.client import Client

    class Through(Client):
        def call(self, method, path, body=None, headers=None, form=None):
            got = client.open(path, method=method, json=body)
            assert got.status_code < 400, got.get_json()
            return got.get_json()

    c = Through("http://unused")
    sub = c.subscribe("OrderConfirmedEvent", None, chaos={"delay": 1})
    assert sub.chaos["delay"] == 1.0
    run = c.run("web-order", 3, chaos={"fail_first": 1}, wait=20)
    assert run.status == "completed" and run.chaos["seed"] == 3
    assert all(d.chaos["fail_first"] is True for d in c.deliveries(run=run.id))
