"""The OpenAPI document as client generators read it, and the interactive docs at /api/docs.

Every operation has a stable camelCase operationId and one tag; every answer whose shape is
known has an exact schema (the answers themselves are checked against it here in process,
and by Schemathesis against a running server in tests/faults/test_fuzz.py).
"""

from __future__ import annotations

import json
import re

from jsonschema import Draft202012Validator

from mock_norce.app import build_core, create_app
from mock_norce.web.openapi import TAGS, document


TAG_NAMES = {name for name, _ in TAGS}
# Where a response is free-form on purpose: the content is not ours to describe.
FREE_FORM = {
    ("getOpenApiDocument", ""),  # this document
    ("getEventSchema", ""),  # a JSON Schema
    ("getEventSample", ""),  # a Norce payload
    ("fireEvent", ".payload"), ("fireEvent", ".delivery.payload"), ("redeliver", ".payload"),
    ("getDelivery", ".payload"), ("listDeliveries", ".items[].payload"), ("retryNow", ".payload"),
    ("advanceOrder", ".events[].payload"),
    ("listSchedules", "[].spec.overrides"), ("getSchedule", ".spec.overrides"), ("createSchedule", ".spec.overrides"),
    ("pauseSchedule", ".spec.overrides"), ("resumeSchedule", ".spec.overrides"),
}


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_every_operation_has_a_unique_camel_case_operation_id_and_one_known_tag():
    doc = document()
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-zA-Z]+", i) for i in ids), ids
    for path, method, op in operations(doc):
        assert len(op["tags"]) == 1 and op["tags"][0] in TAG_NAMES, (path, method, op["tags"])
    assert {"fireEvent", "getDelivery", "listDeliveries", "redeliver", "startRun", "getRun", "cancelRun", "reset",
            "listSinkRequests", "clearSink", "listSubscriptions", "updateSubscription", "createSchedule"} <= set(ids)
    assert [t["name"] for t in doc["tags"]] == [name for name, _ in TAGS]
    assert not any(p.lower().startswith(("/commerce/", "/identity/")) for p in doc["paths"])  # Norce's, not ours


def _walk(schema, schemas, where, seen=()):
    """(JSON-path-ish place, schema) of every object schema reachable from `schema`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return
        yield from _walk(schemas[name], schemas, where, seen + (name,))
        return
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        yield from _walk(branch, schemas, where, seen)
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "object" in kinds:
        yield where, schema
        for name, prop in schema.get("properties", {}).items():
            yield from _walk(prop, schemas, f"{where}.{name}", seen)
        if isinstance(schema.get("additionalProperties"), dict):
            yield from _walk(schema["additionalProperties"], schemas, f"{where}{{}}", seen)
    if "array" in kinds:
        yield from _walk(schema["items"], schemas, f"{where}[]", seen)


def test_no_answer_is_a_bare_object_where_its_shape_is_known():
    doc = document()
    schemas = doc["components"]["schemas"]
    bare = set()
    for _, _, op in operations(doc):
        for response in op["responses"].values():
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                continue
            for where, obj in _walk(schema, schemas, ""):
                if "properties" not in obj and "additionalProperties" not in obj:
                    bare.add((op["operationId"], where))
                elif "properties" in obj:
                    assert obj.get("additionalProperties") is False and set(obj["required"]) <= set(obj["properties"]), \
                        (op["operationId"], where)
    assert bare <= FREE_FORM, bare - FREE_FORM


def test_answers_validate_against_their_exact_schemas(client):
    doc = document()
    as_defs = json.loads(json.dumps(doc["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/"))

    def check(name, value):
        errors = list(Draft202012Validator({**as_defs[name], "$defs": as_defs}).iter_errors(value))
        assert not errors, (name, [f"{list(e.path)}: {e.message}" for e in errors])
        return value
    fired = check("FireResult", client.post("/api/events/OrderConfirmedEvent?wait=5", json={}).get_json())
    delivery = check("Delivery", client.get(f"/api/deliveries/{fired['delivery']['id']}").get_json())
    assert delivery["attempt_log"] and delivery["entities"][0]["kind"] == "order"
    check("DeliveryPage", client.get("/api/deliveries").get_json())
    check("FireResult", client.post("/api/events/SkuChangedNotification", json={"overrides": {"PartNo": 5},
                                                                             "invalid": True}).get_json())
    client.put("/api/subscriptions/JobCompletedEvent", json={"enabled": False})
    check("FireResult", client.post("/api/events/JobCompletedEvent", json={}).get_json())
    check("SubscriptionList", client.get("/api/subscriptions").get_json())
    run = check("Run", client.post("/api/scenarios/pos-order/runs", json={"time_scale": 0}).get_json())
    ended = check("Run", client.get(f"/api/runs/{run['id']}?wait=5").get_json())
    assert ended["steps"] and ended["progress"]["state"] == "done"
    waiting = check("Run", client.post("/api/scenarios/web-order/runs", json={"time_scale": 10}).get_json())
    waiting = check("Run", client.get(f"/api/runs/{waiting['id']}").get_json())
    client.post(f"/api/runs/{waiting['id']}/cancel", content_type="application/json")
    for r in client.get("/api/runs").get_json():
        check("Run", r)
    schedule = check("Schedule", client.post("/api/schedules", json={
        "event": "JobCompletedEvent", "rate": 2, "jitter": "10ms", "overrides": {"JobId": 5}}).get_json())
    check("ScheduleFigures", client.get(f"/api/schedules/{schedule['id']}/figures").get_json())
    check("Schedule", client.post("/api/schedules", json={"scenario": "pos-order", "cron": "0 2 * * *",
                                                          "time_scale": 0, "name": "n"}).get_json())
    check("Stats", client.get("/api/stats").get_json())
    check("WorldCounts", client.get("/api/world").get_json())
    order_id = fired["payload"]["OrderId"]
    check("AdvanceResult", client.post(f"/api/orders/{order_id}/advance", json={"to": "Delivered"}).get_json())
    client.post("/sink/x?status=201", data=b"raw")
    check("SinkPage", client.get("/api/sink?count=1&wait=1").get_json())
    check("SinkReceipt", client.post("/sink/y", json={}).get_json())
    check("ResetResult", client.post("/api/reset", content_type="application/json").get_json())
    check("Health", client.get("/healthz").get_json())
    for e in client.get("/api/events").get_json():
        check("EventType", e)
    check("Error", client.get("/api/runs/none").get_json())
    check("Error", client.post("/api/events/OrderConfirmedEvent", json={"seed": "x"}).get_json())


# --- /api/docs ------------------------------------------------------------------------------------

def test_the_docs_page_loads_only_same_origin_assets_that_are_served(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self'")
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "<style" not in html and " style=" not in html  # nothing inline (CSP)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets) and any(a.endswith(".css") for a in assets)
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url  # same origin: no CDN
        got = client.get(url)
        assert got.status_code == 200, url
    assert client.get("/static/swagger-ui/index.html").status_code == 404  # only the files the page uses
    assert client.get("/static/swagger-ui/..%2f..%2fapi.py").status_code == 404  # nothing outside the static files


def test_the_docs_need_the_token_like_the_api_but_not_their_library_files(settings, subscriber):
    core = build_core(settings.with_(subscriber_url=subscriber.url, api_token="t0ken"), database=":memory:")
    client = create_app(core=core).test_client()
    assert client.get("/api/docs").status_code == 401
    assert client.get("/api/docs", headers={"Authorization": "Bearer t0ken"}).status_code == 200
    assert client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_the_ui_links_its_api_to_the_docs(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/api/docs">API</a>' in html


def test_every_route_of_the_document_is_in_the_readme():
    from ..conftest import ROOT

    readme = re.sub(r"\{[^}]*\}", "{}", (ROOT / "README.md").read_text())
    missing = []
    for path in document()["paths"]:
        path = re.sub(r"\{[^}]*\}", "{}", path)
        last = path.rsplit("/", 1)[1]
        # The table abbreviates a sibling route as `.../last`; the sink's end is `/sink/<anything>`.
        if f"`{path}" not in readme and f" {path}" not in readme and f"`.../{last}`" not in readme \
                and not (path == "/sink/{}" and "/sink/<anything>" in readme):
            missing.append(path)
    assert missing == []
