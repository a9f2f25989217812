"""The API for test suites: POST /api/reset (everything back to the boot state) and
GET /api/sink?wait=&count=&path= (answer once N requests have arrived).

In-process where the state is what matters (the core's parts after a reset), against a real
`mock-norce serve` where concurrency matters: a reset while a schedule fires and a run plays,
readers blocked on the sink while the sink receives, the server's threads under waiting readers.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from mock_norce.app import build_core, create_app
from mock_norce.web.sink_log import Sink

from ..servers import Served, answer, http

JSON = {"Content-Type": "application/json"}


def poll(condition, timeout: float = 10.0, every: float = 0.02):
    """Wait for `condition()` to be truthy (returned), polling; fail at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)


def holds(condition, seconds: float, every: float = 0.02) -> None:
    """`condition()` stays true for `seconds` (checked every `every` s): an observation window."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert condition()
        time.sleep(every)


# --- POST /api/reset, in process ---------------------------------------------------------------

CONFIG = """
subscriptions:
  OrderConfirmedEvent:
    headers: {X-Boot: "yes"}
  JobCompletedEvent:
    enabled: false
schedules:
  - {name: nightly, event: SkuChangedNotification, cron: "0 2 * * *"}
"""


@pytest.fixture
def booted(settings, serve, tmp_path):
    subscriber = serve(answer(204))
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    core = build_core(settings.with_(subscriber_url=subscriber.url + "/boot", config_file=config, time_scale=0.001),
                      database=":memory:")
    app = create_app(core=core)
    core.start()
    yield core, app.test_client(), subscriber
    core.stop()


def test_reset_puts_every_part_back_to_the_boot_configuration(booted, serve):
    core, client, subscriber = booted
    boot_subs = client.get("/api/subscriptions").get_json()
    boot_world = client.get("/api/world").get_json()
    nightly = client.get("/api/schedules").get_json()[0]
    other = serve(answer(200))
    # Change everything a test could change.
    assert client.put("/api/subscriptions/OrderConfirmedEvent", json={"url": other.url, "headers": {"X-Test": "1"}},
                      ).status_code == 200
    assert client.put("/api/subscriptions/JobCompletedEvent", json={"enabled": True}).status_code == 200
    assert client.put("/api/subscriptions/SkuChangedNotification", json={"enabled": False}).status_code == 200
    fired = client.post("/api/events/OrderConfirmedEvent?wait=5", json={}).get_json()
    assert fired["delivery"]["status"] == "delivered" and other.requests
    assert client.post("/api/events/JobCompletedEvent?wait=5", json={}).get_json()["recorded"] is True
    client.post("/sink/anything", data=b"x")
    client.post("/sink/anything", data=b"y")
    assert client.post("/api/schedules", json={"event": "JobCompletedEvent", "cron": "0 3 * * *"}).status_code == 201
    assert client.post(f"/api/schedules/{nightly['id']}/pause", content_type="application/json").status_code == 200
    slow = client.post("/api/scenarios/web-order/runs", json={"time_scale": 1}).get_json()
    assert client.get("/api/world").get_json() != boot_world

    resp = client.post("/api/reset", content_type="application/json")

    assert resp.status_code == 200
    assert resp.get_json() == {"reset": True, "deleted": {"deliveries": resp.get_json()["deleted"]["deliveries"],
                                                          "runs": 1, "schedules": 2, "sink": 2,
                                                          "conformance": 0}}
    assert resp.get_json()["deleted"]["deliveries"] >= 2
    assert client.get("/api/deliveries").get_json()["total"] == 0
    assert client.get("/api/runs").get_json() == []
    assert client.get(f"/api/runs/{slow['id']}").status_code == 404
    assert client.get("/api/sink").get_json()["items"] == []
    assert client.get("/api/subscriptions").get_json() == boot_subs
    assert client.get("/api/world").get_json() == boot_world
    # The config file's schedule is back as at a first start (active, nothing fired); the API's is gone.
    schedules = client.get("/api/schedules").get_json()
    assert [(s["name"], s["status"], s["fired"], s["spec"]) for s in schedules] == \
        [("nightly", "active", 0, nightly["spec"])]
    assert schedules[0]["id"] != nightly["id"]
    # And it works as at boot: the boot header goes out again, the OFF type is OFF again.
    again = client.post("/api/events/OrderConfirmedEvent?wait=5", json={}).get_json()
    assert again["delivery"]["status"] == "delivered" and again["delivery"]["headers"] == {"X-Boot": "yes"}
    assert subscriber.requests[-1].headers["x-boot"] == "yes" and subscriber.requests[-1].path == "/boot"
    assert client.post("/api/events/JobCompletedEvent", json={}).get_json()["recorded"] is False


def test_reset_of_a_fresh_instance_deletes_nothing_and_needs_json(booted):
    _, client, _ = booted
    assert client.post("/api/reset", json={}).get_json() == \
        {"reset": True, "deleted": {"deliveries": 0, "runs": 0, "schedules": 1, "sink": 0, "conformance": 0}}
    resp = client.post("/api/reset")
    assert resp.status_code == 415 and resp.get_json()["error"] == "unsupported_media_type"
    resp = client.get("/api/reset")
    assert resp.status_code == 405 and resp.get_json()["error"] == "method_not_allowed"


def test_a_step_of_a_run_chosen_before_the_reset_writes_nothing_after_it(settings):
    # The runs thread picks due steps under the lock and plays them outside it: a reset in
    # between must make the step give up, not write the events of a forgotten run.
    core = build_core(settings.with_(subscriber_url="http://127.0.0.1:9/x"), database=":memory:")
    core.world.prepare()
    core.runs.start_run("web-order", seed=1, time_scale=0)
    with core.runs._lock:
        chosen = list(core.runs._active.values())
    assert len(chosen) == 1 and chosen[0].run.next_at <= time.time()  # a step is due
    assert core.runs.reset() == 1
    for active in chosen:
        core.runs._play(active, time.time())
    assert sum(core.outbox.store.counts().values()) == 0
    assert core.runs.list() == []


# --- POST /api/reset while events are being delivered (a real server) --------------------------

def test_reset_while_a_schedule_fires_and_a_run_plays_leaves_nothing_behind(tmp_path):
    s = Served(tmp_path, MOCK_NORCE_TIME_SCALE="0.001")
    try:
        sink = lambda query="": http("GET", s.url + "/api/sink" + query)[1]  # noqa: E731
        deliveries = lambda: http("GET", s.url + "/api/deliveries?limit=1")[1]["total"]  # noqa: E731
        assert http("POST", s.url + "/api/schedules", {"event": "SkuChangedNotification", "rate": 50})[0] == 201
        assert http("POST", s.url + "/api/schedules", {"event": "JobCompletedEvent", "interval": 0.05})[0] == 201
        assert http("POST", s.url + "/api/scenarios/web-order/runs", {"time_scale": 0.01})[0] == 202
        poll(lambda: sink()["matched"] >= 20)  # events are flowing into the built-in sink

        status, done = http("POST", s.url + "/api/reset", {})

        assert status == 200 and done["reset"] is True
        assert done["deleted"]["schedules"] == 2 and done["deleted"]["runs"] == 1
        assert done["deleted"]["deliveries"] >= 20 and done["deleted"]["sink"] >= 20
        # Nothing from before arrives afterwards: no schedule fires, no run plays, no retry or
        # attempt in flight reaches the sink, and the log stays empty.
        holds(lambda: sink()["matched"] == 0 and deliveries() == 0, 1.5)
        assert http("GET", s.url + "/api/schedules")[1] == [] and http("GET", s.url + "/api/runs")[1] == []
        # And a new event goes through as on a fresh start.
        fired = http("POST", s.url + "/api/events/OrderConfirmedEvent?wait=5", {"seed": 7})[1]
        assert fired["delivery"]["status"] == "delivered" and fired["delivery"]["id"] >= 1
        got = sink("?wait=5&count=1")
        assert got["complete"] is True and got["matched"] == 1
        assert json.loads(got["items"][0]["body"]) == fired["payload"]
        assert deliveries() == 1
    finally:
        s.stop()
    assert "Traceback" not in s.output(), s.output()[-3000:]


# --- GET /api/sink?wait=&count=&path= -------------------------------------------------------------

def test_the_sink_wakes_a_waiting_reader_on_each_arrival_and_counts_paths_as_it_forgets():
    sink = Sink(keep=3)
    result = []
    reader = threading.Thread(target=lambda: result.append(sink.wait(2, "b", 30)))
    reader.start()
    for path in ("a", "b", "a"):
        sink.receive(path, "", "POST", [], b"{}", 200, 0, 0)
    assert reader.is_alive()  # one "b" only
    sink.receive("b", "", "POST", [], b"{}", 200, 0, 0)
    reader.join(10)
    assert result == [True]
    sink.receive("c", "", "POST", [], b"{}", 200, 0, 0)  # keeps the last 3: a (2nd), b, c
    sink.receive("c", "", "POST", [], b"{}", 200, 0, 0)  # b, c, c
    assert (sink.matched("a"), sink.matched("b"), sink.matched("c"), sink.matched()) == (0, 1, 2, 3)
    assert [r.path for r in sink.matching()] == ["b", "c", "c"]
    started = time.monotonic()
    assert sink.wait(5, None, 0.2) is False and time.monotonic() - started >= 0.2
    sink.close()
    assert sink.wait(5, None, 30) is False  # a closed sink never blocks


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # 6 threads: 2 may sleep (delay or wait), 4 stay free.
    s = Served(tmp_path_factory.mktemp("sinkwait"), MOCK_NORCE_THREADS="6", MOCK_NORCE_SINK_KEEP="50")
    yield s
    s.stop()
    assert "Traceback" not in s.output(), s.output()[-3000:]


def get(s, query: str, timeout: float = 30):
    return http("GET", s.url + "/api/sink" + query, timeout=timeout)


def later(seconds: float, fn):
    timer = threading.Timer(seconds, fn)
    timer.start()
    return timer


def test_wait_answers_once_count_requests_have_arrived_oldest_first(server):
    s = server
    http("POST", s.url + "/api/reset", {})
    fired = []

    def fire_three():
        for seed in (1, 2, 3):
            fired.append(http("POST", s.url + "/api/events/OrderConfirmedEvent", {"seed": seed})[1]["payload"])
    firing = later(0.3, fire_three)
    started = time.monotonic()
    status, got = get(s, "?wait=30&count=3&path=default")
    took = time.monotonic() - started
    assert status == 200 and got["complete"] is True and got["matched"] == 3 and took < 20
    firing.join(10)  # (the sink may answer the reader before the third fire has its answer)
    assert [json.loads(i["body"]) for i in got["items"]] == fired  # oldest first: the order fired
    assert [i["id"] for i in got["items"]] == sorted(i["id"] for i in got["items"])
    item = got["items"][0]
    assert set(item) == {"id", "received", "path", "query", "method", "headers", "body", "status", "delay"}
    assert item["path"] == "default" and item["method"] == "POST" and item["status"] == 200
    # Without count: today's order, newest first, and complete (nothing was asked for).
    _, latest = get(s, "?path=default")
    assert [i["id"] for i in latest["items"]] == [i["id"] for i in reversed(got["items"])]
    assert latest["complete"] is True and latest["matched"] == 3
    # Already there: answers at once; limit cuts the oldest-first list.
    _, two = get(s, "?wait=30&count=3&path=default&limit=2", timeout=5)
    assert [i["id"] for i in two["items"]] == [i["id"] for i in got["items"][:2]] and two["matched"] == 3


def test_wait_times_out_with_complete_false_and_path_filters(server):
    s = server
    http("POST", s.url + "/api/reset", {})
    http("POST", s.url + "/sink/a", {"n": 1})
    http("POST", s.url + "/sink/b", {"n": 2})
    started = time.monotonic()
    status, got = get(s, "?wait=0.5&count=2&path=a")
    took = time.monotonic() - started
    assert status == 200 and got == {"received": got["received"], "matched": 1, "complete": False,
                                     "items": got["items"]}
    assert [json.loads(i["body"]) for i in got["items"]] == [{"n": 1}]
    assert 0.5 <= took < 10  # the wait, plus whatever a busy 2-core machine adds
    _, both = get(s, "?wait=5&count=2")
    assert both["complete"] is True and [i["path"] for i in both["items"]] == ["a", "b"]
    # wait alone waits for one request.
    later(0.3, lambda: http("POST", s.url + "/sink/c", {}))
    _, one = get(s, "?wait=30&path=c")
    assert one["complete"] is True and one["matched"] == 1


@pytest.mark.parametrize("query, status, code", [
    ("?count=0", 422, "out_of_range"), ("?count=51", 422, "out_of_range"), ("?count=x", 400, "bad_parameter"),
    ("?wait=301&count=1", 422, "out_of_range"), ("?wait=nan", 400, "bad_parameter"), ("?limit=0", 422, "out_of_range"),
])
def test_bad_wait_parameters_are_clear_errors(server, query, status, code):
    got_status, got = get(server, query)
    assert got_status == status and got["error"] == code, got
    assert "Traceback" not in got["message"]


def test_waiting_readers_never_take_every_thread(server):
    s = server
    http("POST", s.url + "/api/reset", {})
    answers = []

    def wait_long():
        # Refused (503) while the probe below holds a slot for its 0.2 s: ask again.
        while (got := get(s, "?wait=60&count=1&path=late"))[0] == 503:
            time.sleep(0.05)
        answers.append(got)
    readers = [threading.Thread(target=wait_long) for _ in range(2)]
    for r in readers:
        r.start()
    # Both slots (threads - 4) are taken once a third reader is refused at once (a probe that
    # still finds a slot waits only 0.2 s).
    busy = poll(lambda: (lambda a: a if a[0] == 503 else None)(get(s, "?wait=0.2&count=1&path=late", timeout=10)))
    assert busy[1]["error"] == "sink_busy" and "try again" in busy[1]["message"]
    # The rest of the API and the sink itself still answer while they wait.
    assert http("GET", s.url + "/healthz", timeout=5)[0] == 200
    fired = http("POST", s.url + "/api/events/JobCompletedEvent?wait=10", {}, timeout=15)[1]
    assert fired["delivery"]["status"] == "delivered"
    assert http("POST", s.url + "/sink/late", {"x": 1}, timeout=5)[0] == 200
    for r in readers:
        r.join(30)
    assert [a[0] for a in answers] == [200, 200] and all(a[1]["complete"] for a in answers)
    # The slots are free again.
    assert get(s, "?wait=5&count=1&path=late", timeout=10)[0] == 200


def test_the_sink_keeping_nothing_cannot_be_waited_on(settings):
    core = build_core(settings.with_(subscriber_url="http://127.0.0.1:9/x", sink_keep=0), database=":memory:")
    client = create_app(core=core).test_client()
    resp = client.get("/api/sink?wait=1&count=1")
    assert resp.status_code == 422 and "MOCK_NORCE_SINK_KEEP=0" in resp.get_json()["message"]
    assert client.get("/api/sink").get_json() == {"received": 0, "matched": 0, "complete": True, "items": []}


def test_a_stop_answers_waiting_readers_at_once(tmp_path):
    s = Served(tmp_path, MOCK_NORCE_THREADS="5")  # one slot for a waiting reader
    answers = []

    def wait_long():
        while (got := get(s, "?wait=120&count=1&path=never", timeout=60))[0] == 503:
            time.sleep(0.05)  # the probe below held the slot
        answers.append(got)
    reader = threading.Thread(target=wait_long)
    reader.start()
    poll(lambda: get(s, "?wait=0.05&count=1&path=probe")[0] == 503)  # the reader holds the slot: it waits
    took = s.stop()
    reader.join(30)
    assert took < 4 and s.proc.returncode == 0, s.output()
    assert answers and answers[0][0] == 200 and answers[0][1]["complete"] is False
    assert "Traceback" not in s.output() and "still running" not in s.output(), s.output()
