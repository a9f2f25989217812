"""The control API: every route, its errors, and the OpenAPI document that describes it."""

from __future__ import annotations

import json
import re
import time

import pytest
from jsonschema import Draft202012Validator

from mock_norce.app import build_core, create_app
from mock_norce.web.openapi import document
from mock_norce.web.paths import is_norce_path

from ..servers import answer


def fire(client, name="OrderConfirmedEvent", wait=5, **body):
    return client.post(f"/api/events/{name}?wait={wait}", json=body)


def assert_error(resp, status, code, fragment=""):
    assert resp.status_code == status, resp.get_data(as_text=True)
    data = resp.get_json()
    assert data["error"] == code and fragment in data["message"], data
    assert "Traceback" not in resp.get_data(as_text=True)
    return data


def test_health_and_openapi(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0" and "/api/events/{type}" in doc["paths"]


def test_every_route_is_in_the_openapi_document_and_back(app):
    doc = document()
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("ui.") or rule.rule.startswith("/static/") or is_norce_path(rule.rule):
            continue  # the UI's pages and static files (Swagger UI's too); Norce's own APIs are not the control API
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
        path = path.replace("{name}", "{type}") if path.startswith("/api/events/") or \
            path.startswith("/api/subscriptions/") else path
        path = path.replace("{delivery_id}", "{id}").replace("{run_id}", "{id}").replace("{sid}", "{id}").replace("{order_id}", "{id}")
        if path == "/sink/":
            continue  # the same view as /sink/{path}
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((path, method))
    assert routed == documented, (routed ^ documented)


def test_openapi_document_is_valid_openapi_3_1():
    from openapi_spec_validator import validate

    validate(document())


def test_events_schema_and_sample(client):
    events = client.get("/api/events").get_json()
    assert len(events) == 19 and {"name", "category", "kind"} <= set(events[0])
    schema = client.get("/api/events/JobCompletedEvent/schema").get_json()
    assert schema["title"] == "JobCompletedEvent"
    a = client.get("/api/events/OrderConfirmedEvent/sample?seed=3&market=NO").get_json()
    assert a == client.get("/api/events/OrderConfirmedEvent/sample?seed=3&market=NO").get_json()
    assert a["ApplicationId"] == 1102
    assert_error(client.get("/api/events/Nope/sample"), 404, "unknown_event_type", "'Nope'")
    assert_error(client.get("/api/events/OrderConfirmedEvent/sample?seed=x"), 400, "bad_parameter", "seed")
    assert_error(client.get("/api/events/OrderConfirmedEvent/sample?market=XX"), 422, "unknown_market")


def test_fire_with_wait_returns_the_finished_delivery(client, subscriber):
    resp = fire(client, overrides={"OrderNo": "API-1"}, seed=9, market="FI")
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["payload"]["OrderNo"] == "API-1" and data["valid"] and data["recorded"]
    d = data["delivery"]
    assert d["status"] == "delivered" and d["attempts"] == 1 and d["attempt_log"][0]["status_code"] == 200
    assert json.loads(subscriber.requests[-1].body) == data["payload"]


def test_fire_without_wait_is_accepted(client):
    resp = client.post("/api/events/SkuChangedNotification", json={})
    assert resp.status_code in (200, 202)
    assert resp.get_json()["delivery"]["id"] > 0
    no_body = client.post("/api/events/SkuChangedNotification", content_type="application/json")
    assert no_body.status_code in (200, 202)  # no body at all, but the JSON content type


def test_fire_bad_inputs(client, app):
    data = assert_error(fire(client, overrides={"OrderId": "x", "ApplicationId": 2**40}), 422, "invalid_payload")
    assert {e["path"] for e in data["errors"]} == {"$.OrderId", "$.ApplicationId"}
    assert_error(fire(client, overrides={"Colour": 1}), 422, "bad_override", "no field 'Colour'")
    assert_error(fire(client, name="NoSuchEvent"), 404, "unknown_event_type")
    assert_error(client.post("/api/events/OrderConfirmedEvent", data="{nope", content_type="application/json"),
                 400, "malformed_json")
    assert_error(client.post("/api/events/OrderConfirmedEvent", data="x=1",
                             content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type")
    assert_error(client.post("/api/events/OrderConfirmedEvent", json=[1, 2]), 400, "bad_request", "JSON object")
    data = assert_error(client.post("/api/events/OrderConfirmedEvent", json={"seed": "x", "extra": 1}),
                        400, "bad_request")
    assert {e["path"] for e in data["errors"]} == {"$", "$.seed"}
    assert_error(fire(client, url="ftp://x/"), 422, "bad_subscription", "not http(s)")
    assert_error(fire(client, url="http://169.254.169.254/"), 422, "bad_subscription", "link-local")
    assert_error(client.post("/api/events/OrderConfirmedEvent?wait=-1", json={}), 422, "out_of_range",
                 "wait must be between 0 and 300")
    assert_error(client.post("/api/events/OrderConfirmedEvent", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                             content_type="application/json"), 413, "too_large")
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.delete("/api/events"), 405, "method_not_allowed")


def test_invalid_on_request_is_marked(client):
    data = fire(client, name="JobCompletedEvent", overrides={"StatusId": 9}, invalid=True).get_json()
    assert data["valid"] is False and data["errors"][0]["path"] == "$.StatusId"
    assert data["delivery"]["valid"] is False


def test_type_off_is_not_recorded(client):
    resp = client.put("/api/subscriptions/JobCompletedEvent", json={"enabled": False})
    assert resp.status_code == 200 and resp.get_json()["enabled"] is False
    data = fire(client, name="JobCompletedEvent").get_json()
    assert data["recorded"] is False and data["delivery"] is None and "OFF" in data["message"]
    assert client.get("/api/deliveries?type=JobCompletedEvent").get_json()["total"] == 0


def test_deliveries_list_detail_redeliver_and_reset(client, serve):
    down = serve(answer(503, b"<script>alert(1)</script>"))
    ok_id = fire(client).get_json()["delivery"]["id"]
    bad = fire(client, name="SkuChangedNotification", url=down.url, wait=0.3).get_json()["delivery"]
    assert bad["status"] == "retrying"
    page = client.get("/api/deliveries?limit=1").get_json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["items"][0]["id"] == bad["id"]
    assert client.get("/api/deliveries?status=delivered").get_json()["items"][0]["id"] == ok_id
    assert client.get("/api/deliveries?type=SkuChangedNotification").get_json()["total"] == 1
    assert_error(client.get("/api/deliveries?status=lost"), 422, "bad_parameter")  # a filter: as the others
    assert_error(client.get("/api/deliveries?limit=0"), 422, "out_of_range", "between 1 and 500")
    assert_error(client.get("/api/deliveries?limit=x"), 400, "bad_parameter")
    detail = client.get(f"/api/deliveries/{bad['id']}").get_json()
    assert detail["attempt_log"][0]["response_body"] == "<script>alert(1)</script>"
    assert detail["payload"]["ClientId"] == 1042
    again = client.post(f"/api/deliveries/{ok_id}/redeliver", content_type="application/json")
    assert again.status_code == 202 and again.get_json()["redelivery_of"] == ok_id
    finished = client.get(f"/api/deliveries/{again.get_json()['id']}?wait=5").get_json()
    assert finished["status"] == "delivered"
    assert_error(client.get("/api/deliveries/99999"), 404, "not_found")
    assert_error(client.post("/api/deliveries/99999/redeliver", content_type="application/json"), 404, "not_found")
    assert client.delete("/api/deliveries", content_type="application/json").get_json() == {"deleted": 3}
    assert client.get("/api/deliveries").get_json()["total"] == 0


def test_scenarios_and_runs(client):
    names = {s["name"] for s in client.get("/api/scenarios").get_json()}
    assert "web-order" in names
    assert client.get("/api/scenarios/web-order").get_json()["events"]
    resp = client.post("/api/scenarios/web-order/runs", json={"seed": 5, "time_scale": 0})
    assert resp.status_code == 202
    run = client.get(f"/api/runs/{resp.get_json()['id']}?wait=10").get_json()
    assert run["status"] == "completed" and run["deliveries"]["delivered"] == 6
    assert client.get(f"/api/deliveries?run={run['id']}").get_json()["total"] == 6
    steps = run["steps"]
    assert [s["kind"] for s in steps] == ["emit", "wait"] * 5 + ["emit"]
    assert steps[0]["event_type"] == "OrderReceivedEvent" and len(steps[0]["deliveries"]) == 1
    assert run["progress"] == {"state": "done", "current": None, "played": list(range(11)), "next_at": None,
                               "wait_remaining_s": None}
    slow = client.post("/api/scenarios/web-order/runs", json={"time_scale": 1}).get_json()
    at = client.get(f"/api/runs/{slow['id']}").get_json()
    deadline = time.monotonic() + 10
    while at["progress"]["state"] == "due" and time.monotonic() < deadline:  # its first step is being played
        time.sleep(0.01)
        at = client.get(f"/api/runs/{slow['id']}").get_json()
    assert at["progress"]["current"] == 1 and 0 < at["progress"]["wait_remaining_s"] <= 2
    assert at["steps"][1]["text"] == "wait 2 s" and at["progress"]["played"] == [0, 1]
    cancelled = client.post(f"/api/runs/{slow['id']}/cancel", content_type="application/json")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert_error(client.post(f"/api/runs/{slow['id']}/cancel", content_type="application/json"), 409, "conflict", "already cancelled")
    assert_error(client.get("/api/runs/nope"), 404, "not_found")
    assert_error(client.post("/api/scenarios/nope/runs", json={}), 404, "unknown_scenario")
    assert_error(client.post("/api/scenarios/web-order/runs", json={"time_scale": -1}), 422, "out_of_range",
                 "between 0 and 100")
    assert_error(client.post("/api/scenarios/web-order/runs", json={"url": "gopher://x"}), 422, "bad_subscription")
    assert len(client.get("/api/runs").get_json()) == 2


def test_subscriptions_mask_secrets_and_keep_them(client, subscriber):
    resp = client.put("/api/subscriptions/OrderConfirmedEvent",
                      json={"headers": {"Authorization": "Bearer s3cret", "x-norce-event-type": "OrderConfirmedEvent"}})
    assert resp.get_json()["headers"] == {"Authorization": "********", "x-norce-event-type": "OrderConfirmedEvent"}
    listed = client.get("/api/subscriptions").get_json()
    assert "s3cret" not in json.dumps(listed)
    # Sending the masked value back keeps the real one.
    client.put("/api/subscriptions/OrderConfirmedEvent",
               json={"headers": {"Authorization": "********", "x-norce-event-type": "X"}})
    data = fire(client).get_json()
    assert subscriber.requests[-1].headers["authorization"] == "Bearer s3cret"
    assert "s3cret" not in json.dumps(data)
    assert_error(client.put("/api/subscriptions/OrderConfirmedEvent", json={"headers": {"X": "a\r\nB: c"}}),
                 422, "bad_subscription", "CR, LF")
    assert_error(client.put("/api/subscriptions/OrderConfirmedEvent", json={"url": "file:///etc/passwd"}),
                 422, "bad_subscription")
    assert_error(client.put("/api/subscriptions/OrderConfirmedEvent", json={"enabled": "yes"}), 400, "bad_request")
    assert_error(client.put("/api/subscriptions/Nope", json={"enabled": True}), 404, "unknown_event_type")
    assert_error(client.put("/api/subscriptions/OrderConfirmedEvent", content_type="application/json"), 400, "bad_request", "required")


def test_sink_records_and_answers_as_asked(client):
    assert client.post("/sink/demo?status=503", json={"a": 1}).status_code == 503
    assert client.post("/sink/demo", data=b"raw").status_code == 200
    items = client.get("/api/sink?path=demo").get_json()["items"]
    assert [i["status"] for i in items] == [200, 503] and items[1]["body"] == '{"a": 1}'
    assert_error(client.post("/sink/demo?status=abc"), 400, "bad_parameter")
    assert_error(client.post("/sink/demo?delay=99"), 400, "bad_parameter")
    assert client.delete("/api/sink", content_type="application/json").get_json()["deleted"] >= 2


def test_responses_validate_against_the_documented_schemas(client):
    schemas = document()["components"]["schemas"]

    def check(name, value):
        # The document's $refs point into components; re-home them as $defs for jsonschema.
        as_defs = json.loads(json.dumps(schemas).replace("#/components/schemas/", "#/$defs/"))
        errors = list(Draft202012Validator({**as_defs[name], "$defs": as_defs}).iter_errors(value))
        assert not errors, [e.message for e in errors]
    d = fire(client).get_json()["delivery"]
    check("Delivery", d)
    run = client.post("/api/scenarios/pos-order/runs", json={"time_scale": 0}).get_json()
    check("Run", client.get(f"/api/runs/{run['id']}?wait=5").get_json())
    for e in client.get("/api/events").get_json():
        check("EventType", e)
    check("Error", client.get("/api/runs/none").get_json())


def test_token_protects_api_and_ui_but_not_health_or_sink(settings, subscriber):
    core = build_core(settings.with_(subscriber_url=subscriber.url, api_token="t0ken"), database=":memory:")
    app = create_app(core=core)
    core.start()
    try:
        c = app.test_client()
        assert c.get("/healthz").status_code == 200
        assert_error(c.get("/api/events"), 401, "unauthorized")
        assert_error(c.get("/api/events", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
        assert c.get("/api/events", headers={"Authorization": "Bearer t0ken"}).status_code == 200
        assert c.get("/").status_code == 302 and "/login" in c.get("/").headers["Location"]
        assert c.post("/sink/x", json={}).status_code == 200
        assert_error(c.get("/api/sink"), 401, "unauthorized")
        assert_error(c.get("/openapi.json"), 401, "unauthorized")
    finally:
        core.stop()


@pytest.mark.parametrize("path, api", [
    ("/api", True), ("/api/", True), ("/api/x", True), ("/apix", False), ("/metrics", True),
    ("/healthz", True), ("/openapi.json", True), ("/sink/x", True), ("/sink/", True), ("/sink", False),
    ("/sink-clear", False), ("/", False), ("/events", False), ("/static/app.css", False), ("/login", False),
    ("/identity/1.0/connect/token", False), ("/commerce/query/2.0/Orders/Orders", False),
])
def test_is_api_path_is_the_one_answer(path, api):
    from mock_norce.web.paths import is_api_path

    assert is_api_path(path) is api


def test_api_paths_answer_json_and_ui_paths_html(client):
    assert_error(client.get("/api"), 404, "not_found")
    assert_error(client.get("/api/nothing"), 404, "not_found")
    assert client.get("/apix").mimetype == "text/html"
    assert client.get("/events/NoSuchEvent").status_code == 404  # the UI's page, with the error's status
    assert client.get("/events/NoSuchEvent").mimetype == "text/html"


def test_every_user_error_has_an_http_status():
    from mock_norce import errors

    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.MockNorceError)]
    assert len(classes) > 25
    assert all(isinstance(c.status, int) and 400 <= c.status < 600 for c in classes)
    assert (errors.RunNotFound.status, errors.RunConflict.status, errors.MalformedJson.status,
            errors.StorageUnavailable.status, errors.InvalidPayload.status) == (404, 409, 400, 503, 422)


def test_schedules_api_shapes_and_errors(client):
    resp = client.post("/api/schedules", json={"event": "SkuPriceChangedNotification", "rate": 40,
                                                "rate_per": "second", "duration": "1s"})
    assert resp.status_code == 201
    s = resp.get_json()
    assert s["id"].startswith("s-") and s["status"] == "active" and s["spec"]["rate"] == 40
    assert client.post("/api/schedules", json={"scenario": "web-order", "interval": "30s", "count": 100}).status_code == 201
    cron = client.post("/api/schedules", json={"scenario": "nightly-jobs", "cron": "0 2 * * *"}).get_json()
    assert cron["next_fire"] > s["created"]
    assert len(client.get("/api/schedules").get_json()) == 3
    assert_error(client.post("/api/schedules", json={"event": "JobCompletedEvent", "cron": "0 25 * * *"}),
                 422, "bad_schedule", "bad cron expression")
    assert_error(client.post("/api/schedules", json={"event": "Nope", "rate": 1}), 422, "bad_schedule", "unknown event")
    assert_error(client.post("/api/schedules", json={"scenario": "nope", "interval": "1s"}), 422, "bad_schedule")
    assert_error(client.post("/api/schedules", json={"event": "JobCompletedEvent", "rate": 0}), 422, "bad_schedule",
                 "positive")
    assert_error(client.post("/api/schedules", json={"event": "JobCompletedEvent", "rate": 1, "duration": "ages"}),
                 422, "bad_schedule", "not a duration")
    assert_error(client.post("/api/schedules", json={"event": "JobCompletedEvent", "rate": "fast"}), 400, "bad_request")
    assert_error(client.post("/api/schedules", content_type="application/json"), 400, "bad_request", "required")
    paused = client.post(f"/api/schedules/{cron['id']}/pause", content_type="application/json")
    assert paused.status_code == 200 and paused.get_json()["status"] == "paused"
    assert_error(client.post(f"/api/schedules/{cron['id']}/pause", content_type="application/json"), 409, "conflict")
    assert client.post(f"/api/schedules/{cron['id']}/resume", content_type="application/json").get_json()["status"] == "active"
    assert client.delete(f"/api/schedules/{cron['id']}", content_type="application/json").get_json() == {"deleted": cron["id"]}
    assert_error(client.get(f"/api/schedules/{cron['id']}"), 404, "not_found")
    # The rate schedule runs in real time: 40/s for 1 s.
    deadline = time.time() + 10
    while time.time() < deadline:
        figures = client.get(f"/api/schedules/{s['id']}/figures").get_json()
        if figures["summary"]["delivered"] >= 40:
            break
        time.sleep(0.1)
    summary = figures["summary"]
    assert summary["generated"] == 40 and summary["delivered"] == 40 and summary["latency_ms"]["p99"] is not None
    assert figures["points"] and figures["points"][0]["generated_per_s"] > 0
    csv = client.get(f"/api/schedules/{s['id']}/figures.csv")
    assert csv.mimetype == "text/csv" and csv.get_data(as_text=True).startswith("t,width,generated_per_s")
    assert "attachment" in csv.headers["Content-Disposition"]


def test_metrics_are_prometheus_text(client):
    from prometheus_client.parser import text_string_to_metric_families

    fire(client)
    text = client.get("/metrics").get_data(as_text=True)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    events = {s.labels["type"]: s.value for s in families["mock_norce_events"].samples}
    assert events["OrderConfirmedEvent"] == 1
    latency = families["mock_norce_attempt_latency_seconds"]
    count = next(s.value for s in latency.samples if s.name.endswith("_count"))
    assert count == 1
    assert "mock_norce_queue_depth" in families


# Every family of /metrics and its type: none may disappear (a rename is a breaking change for
# dashboards; list it in the README).
METRICS = {
    "mock_norce_events": "counter", "mock_norce_attempts": "counter", "mock_norce_deliveries_finished": "counter",
    "mock_norce_failed_attempts": "counter", "mock_norce_attempt_latency_seconds": "histogram",
    "mock_norce_attempt_lateness_seconds": "histogram", "mock_norce_deliveries": "gauge",
    "mock_norce_deliveries_in_retry": "gauge", "mock_norce_queue_depth": "gauge", "mock_norce_schedules": "gauge",
    "mock_norce_sink_requests": "counter", "mock_norce_up": "gauge", "mock_norce_incidents": "counter",
}


def test_metrics_follow_the_format_and_each_app_has_its_own_registry(app, settings, subscriber):
    """HELP and TYPE on every family, cumulative buckets ending in +Inf = _count, and two apps
    in one process: their own figures, no shared registry (no "Duplicated timeseries")."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    other_core = build_core(settings.with_(subscriber_url=subscriber.url, time_scale=0.001), database=":memory:")
    other = create_app(core=other_core)
    other_core.start()
    try:
        pages = {}
        for fired, a in ((1, app), (2, other)):
            client = a.test_client()
            for _ in range(fired):
                assert fire(client).status_code == 200
            for _ in range(2):  # every scrape reads the same registry again
                resp = client.get("/metrics")
                assert resp.status_code == 200 and resp.headers["Content-Type"] == CONTENT_TYPE_LATEST
            pages[fired] = resp.get_data(as_text=True)
        assert app.extensions["mock_norce.metrics"] is not other.extensions["mock_norce.metrics"]
    finally:
        other_core.stop()
    assert b"mock_norce" not in generate_latest(REGISTRY)  # nothing on the library's global registry

    for fired, text in pages.items():
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert {name: f.type for name, f in families.items()} == METRICS
        assert {s.labels["type"]: s.value for s in families["mock_norce_events"].samples} == {
            "OrderConfirmedEvent": fired}
        for name, f in families.items():
            exposed = name + "_total" if f.type == "counter" else name
            assert f"# HELP {exposed} " in text and f"# TYPE {exposed} {f.type}\n" in text and f.documentation
        for name in ("mock_norce_attempt_latency_seconds", "mock_norce_attempt_lateness_seconds"):
            samples = families[name].samples
            buckets = [s for s in samples if s.name == name + "_bucket"]
            bounds = [float(s.labels["le"]) for s in buckets]
            counts = [s.value for s in buckets]
            assert bounds == sorted(bounds) and bounds[-1] == float("inf") and len(bounds) > 1
            assert counts == sorted(counts)  # cumulative
            count = next(s.value for s in samples if s.name == name + "_count")
            assert counts[-1] == count == fired
            assert next(s.value for s in samples if s.name == name + "_sum") >= 0


def test_ui_forms_need_the_csrf_token(client):
    resp = client.post("/deliveries/1/redeliver")
    assert resp.status_code == 403 and b"did not come from this page" in resp.data
    page = client.get("/events/JobCompletedEvent")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    fields = {f"field_{k}": v for k, v in {"ClientId": "1042", "JobId": "5", "StatusId": "2"}.items()}
    ok = client.post("/events/JobCompletedEvent", data={"csrf_token": token, **fields, "omit_ApplicationId": "on"})
    assert ok.status_code == 302 and "/deliveries/" in ok.headers["Location"]
    bad = client.post("/events/JobCompletedEvent", data={"csrf_token": "forged", **fields})
    assert bad.status_code == 403


def test_every_setting_is_in_the_readme_table():
    from mock_norce.settings import documented_variables

    from ..conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    missing = [name for name, _, _ in documented_variables() if f"| `{name}` |" not in readme]
    assert missing == []


def test_a_schedule_snippet_never_carries_a_url_secret_page_or_cookie(client, subscriber):
    # The snippet's request is kept in the session, a signed but readable cookie: the URL's
    # password goes in masked, and the page's snippet shows it masked, as the page does.
    page = client.get("/schedules")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    secret_url = subscriber.url.replace("http://", "http://hook:hunter2-secret@") + "/s"
    made = client.post("/schedules", data={"csrf_token": token, "what": "event", "event": "OrderConfirmedEvent",
                                           "when": "interval", "interval": "1h", "url": secret_url})
    assert made.status_code == 302, made.data[:300]
    cookie = made.headers.get("Set-Cookie", "")
    shown = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "Create this schedule" in shown  # the snippet is there...
    assert "hunter2" not in shown and "hunter2" not in cookie  # ...without the secret
    import base64
    import zlib

    value = cookie.split("session=", 1)[1].split(";", 1)[0]
    payload = value.lstrip(".").split(".", 1)[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b"hunter2" not in (zlib.decompress(raw) if value.startswith(".") else raw)
