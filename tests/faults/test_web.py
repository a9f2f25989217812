"""Issue 10, the web-facing part: secrets, cross-site requests, health under load, the sink.

Black box: a real `mock-norce serve` (the `served` fixture) and real local subscribers, spoken
to over HTTP as a browser, a webhook sender or an attacker would. Each test is named after
the observation it covers (8, 9, 10, 16).
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import quote

from ..servers import answer
from .webclient import Browser, api, request

SECRETS = ("s3cret", "K3Y", "pw1", "S1T", "T0K")


def assert_no_secret(text: str, where: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"{where} shows {leaked}"


# --- 8: secrets in URLs are masked everywhere -----------------------------------------------

def test_8_url_secrets_are_masked_in_runs_schedules_ui_and_output(served, serve):
    subscriber = serve(answer(204))
    default = f"http://user:s3cret@127.0.0.1:{subscriber.port}/hook?api_key=K3Y&plain=1"
    s = served(MOCK_NORCE_SUBSCRIBER_URL=default)
    one_off = f"http://u:pw1@127.0.0.1:{subscriber.port}/run?secret=S1T&token=T0K&plain=2"

    started = api(s.url, "POST", "/api/scenarios/pos-order/runs", {"url": one_off, "time_scale": 0})
    assert started.status == 202, started
    run = started.json()
    assert_no_secret(started.text, "POST /api/scenarios/.../runs")
    assert run["url"] == f"http://u:********@127.0.0.1:{subscriber.port}/run?secret=********&token=********&plain=2"
    for path in ("/api/runs", f"/api/runs/{run['id']}?wait=20"):
        got = api(s.url, "GET", path)
        assert got.status == 200 and "********" in got.text, got
        assert_no_secret(got.text, path)

    created = api(s.url, "POST", "/api/schedules", {"event": "JobCompletedEvent", "cron": "0 2 * * *",
                                                    "url": one_off})
    assert created.status == 201, created
    sid = created.json()["id"]
    for path in ("/api/schedules", f"/api/schedules/{sid}", "/api/subscriptions", "/api/deliveries"):
        got = api(s.url, "GET", path)
        assert got.status == 200, got
        assert_no_secret(got.text, path)

    browser = Browser(s.url)
    for path in ("/", "/subscriptions", "/events/OrderConfirmedEvent", "/schedules", f"/schedules/{sid}",
                 f"/runs/{run['id']}", "/deliveries", "/sink"):
        page = browser.get(path)
        assert page.status == 200, (path, page)
        assert_no_secret(page.text, path)
    assert "user:********@" in browser.get("/").text  # the default URL is shown, masked

    # The run really used the secrets: the subscriber saw them.
    assert any("secret=S1T" in r.path for r in subscriber.requests)
    s.stop()
    assert_no_secret(s.output(), "serve's output")


def test_8_a_masked_url_sent_back_keeps_the_real_one(served, serve):
    subscriber = serve(answer(204))
    s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/default")
    real = f"http://127.0.0.1:{subscriber.port}/typed?api_key=K3Y"
    assert api(s.url, "PUT", "/api/subscriptions/JobCompletedEvent", {"url": real}).status == 200
    shown = api(s.url, "GET", "/api/subscriptions").json()
    masked = next(x for x in shown["subscriptions"] if x["event_type"] == "JobCompletedEvent")["url"]
    assert masked.endswith("api_key=********")
    assert api(s.url, "PUT", "/api/subscriptions/JobCompletedEvent", {"url": masked}).status == 200
    fired = api(s.url, "POST", "/api/events/JobCompletedEvent?wait=10", {}).json()
    assert fired["delivery"]["status"] == "delivered"
    assert subscriber.requests[-1].path == "/typed?api_key=K3Y"


# --- 9: cross-site requests change nothing ---------------------------------------------------

def test_9_sink_clear_needs_the_token_and_a_csrf_token(served):
    s = served(MOCK_NORCE_API_TOKEN="t0ken")
    assert request(s.url, "POST", "/sink/x", b"{}", {"Content-Type": "application/json"}).status == 200
    # /sink/clear was the UI's clear action, open to anyone; now any /sink/ path is the receiving end.
    assert request(s.url, "POST", "/sink/clear", b"", {}).status == 200
    for headers in ({}, {"Content-Type": "application/x-www-form-urlencoded"}):
        cleared = request(s.url, "POST", "/sink-clear", b"", headers)
        assert cleared.status in (302, 401, 403), cleared
    assert api(s.url, "GET", "/api/sink", token="t0ken").json()["items"], "an anonymous POST cleared the sink"
    # The receiving end stays open to any method a sender uses (no token, no CSRF).
    assert request(s.url, "PUT", "/sink/x", b"{}", {}).status == 200
    assert request(s.url, "GET", "/sink/x?status=204").status == 204

    browser = Browser(s.url)
    token = browser.csrf("/login")
    assert browser.post("/login", {"csrf_token": token, "token": "t0ken"}).status == 302
    assert browser.post("/sink-clear", {}).status == 403  # signed in, but no CSRF token
    assert browser.post("/sink-clear", {"csrf_token": "forged"}).status == 403
    assert len(api(s.url, "GET", "/api/sink", token="t0ken").json()["items"]) == 4
    assert browser.post("/sink-clear", {"csrf_token": browser.csrf("/sink")}).status == 302
    assert api(s.url, "GET", "/api/sink", token="t0ken").json()["items"] == []


def test_9_api_writes_without_the_json_content_type_are_refused(served, serve):
    subscriber = serve(answer(204))
    s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url)
    did = api(s.url, "POST", "/api/events/JobCompletedEvent?wait=10", {}).json()["delivery"]["id"]
    sid = api(s.url, "POST", "/api/schedules", {"event": "JobCompletedEvent", "cron": "0 2 * * *"}).json()["id"]
    before = api(s.url, "GET", "/api/deliveries").json()["total"]

    # What a plain HTML form on another site can send without a preflight, body empty or not.
    forms = [{}, {"Content-Type": "application/x-www-form-urlencoded"}, {"Content-Type": "text/plain"},
             {"Content-Type": "multipart/form-data; boundary=x"}]
    writes = [("POST", "/api/events/JobCompletedEvent"), ("POST", "/api/scenarios/pos-order/runs"),
              ("POST", f"/api/deliveries/{did}/redeliver"), ("POST", f"/api/schedules/{sid}/pause"),
              ("DELETE", "/api/deliveries"), ("DELETE", "/api/sink"), ("DELETE", f"/api/schedules/{sid}"),
              ("PUT", "/api/subscriptions/JobCompletedEvent")]
    for method, path in writes:
        for headers in forms:
            for body in (b"", b"x=1"):
                refused = request(s.url, method, path, body, dict(headers))
                assert refused.status == 415, (method, path, headers, body, refused)
                assert refused.json()["error"] == "unsupported_media_type"

    assert api(s.url, "GET", "/api/deliveries").json()["total"] == before
    assert api(s.url, "GET", "/api/runs").json() == []
    assert api(s.url, "GET", f"/api/schedules/{sid}").json()["status"] == "active"
    assert len(subscriber.requests) == 1
    # With the header, an empty body is fine.
    assert request(s.url, "POST", f"/api/schedules/{sid}/pause", b"",
                   {"Content-Type": "application/json"}).status == 200


def test_9_login_redirects_only_to_local_paths(served):
    s = served(MOCK_NORCE_API_TOKEN="t0ken")
    bad = ["/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
           "https://evil.example/", "http:/evil.example", "/ /evil.example", "/\x00/evil.example",
           "javascript:alert(1)", "evil.example", "/\u3000/evil.example", "/\x7f/evil.example"]
    for target in bad + ["/deliveries?page=2"]:
        browser = Browser(s.url)
        token = browser.csrf("/login")
        went = browser.post(f"/login?next={quote(target, safe='')}", {"csrf_token": token, "token": "t0ken"})
        assert went.status == 302, (target, went)
        location = went.headers["Location"]
        expected = target if target == "/deliveries?page=2" else "/"
        assert location in (expected, s.url + expected), (target, location)


def test_9_a_non_ascii_csrf_token_is_a_403_not_a_500(served):
    s = served()
    browser = Browser(s.url)
    browser.csrf("/sink")  # the session now has a CSRF token
    for forged in ("é", "\u2603" * 40, "ü" + browser.csrf("/sink")):
        for form in ("/events/JobCompletedEvent", "/deliveries/1/redeliver", "/sink-clear"):
            refused = browser.post(form, {"csrf_token": forged})
            assert refused.status == 403, (form, refused)


# --- 10: health checks never wait behind other connections -----------------------------------

def healthz_time(base: str, timeout: float = 10.0) -> float:
    start = time.monotonic()
    got = request(base, "GET", "/healthz", timeout=timeout)
    assert got.status == 200 and got.json() == {"status": "ok"}, got
    return time.monotonic() - start


def test_10_healthz_answers_past_waitress_default_connection_limit(served):
    s = served()
    host, port = s.url.split("//")[1].split(":")
    idle = []
    try:
        for _ in range(150):  # waitress' default connection_limit is 100
            idle.append(socket.create_connection((host, int(port)), timeout=10))
        time.sleep(0.5)
        assert healthz_time(s.url, timeout=10) < 8
        assert api(s.url, "GET", "/api/events", timeout=10).status == 200
    finally:
        for sock in idle:
            sock.close()


def test_10_healthz_answers_while_every_thread_is_busy_and_sink_delays_are_bounded(served, serve):
    failing = serve(answer(500))
    s = served(MOCK_NORCE_SUBSCRIBER_URL=failing.url)  # 16 threads
    # A delivery that stays in retry, to hold threads with ?wait=.
    did = api(s.url, "POST", "/api/events/JobCompletedEvent", {}).json()["delivery"]["id"]
    results: list = []

    def call(method, path):
        start = time.monotonic()
        got = request(s.url, method, path, b"{}", {"Content-Type": "application/json"}, timeout=60)
        results.append((path, got.status, time.monotonic() - start, got))

    sleepers = [threading.Thread(target=call, args=("POST", "/sink/slow?delay=5")) for _ in range(16)]
    for t in sleepers:
        t.start()
    deadline = time.monotonic() + 15
    while len(results) < 4 and time.monotonic() < deadline:  # the 4 over the bound come back at once
        time.sleep(0.05)
    busy = list(results)
    assert len(busy) == 4 and all(r[1] == 503 and r[2] < 2.5 for r in busy), [(r[1], round(r[2], 1)) for r in busy]
    assert all(r[3].json()["error"] == "sink_busy" for r in busy)
    # 12 threads asleep in the sink; ?wait= takes the other 4: no thread is left.
    waiters = [threading.Thread(target=call, args=("GET", f"/api/deliveries/{did}?wait=5")) for _ in range(4)]
    for t in waiters:
        t.start()
    time.sleep(1.0)
    # Behind the sleepers it would answer only when they wake, some 3.5 s from now (it took 14 s).
    assert healthz_time(s.url, timeout=10) < 2
    for t in sleepers + waiters:
        t.join(60)
    sink = [r for r in results if r[0].startswith("/sink/")]
    assert sorted(r[1] for r in sink) == [200] * 12 + [503] * 4
    recorded = api(s.url, "GET", "/api/sink?path=slow").json()["items"]
    assert sorted(r["status"] for r in recorded) == [200] * 12 + [503] * 4


# --- 16 (part): MOCK_NORCE_SINK_KEEP=0 keeps none ---------------------------------------------

def test_16_sink_keep_0_keeps_nothing_but_counts(served):
    s = served(MOCK_NORCE_SINK_KEEP="0")
    for _ in range(3):
        assert request(s.url, "POST", "/sink/x", b"{}", {"Content-Type": "application/json"}).status == 200
    seen = api(s.url, "GET", "/api/sink").json()
    assert seen["received"] == 3 and seen["items"] == []
