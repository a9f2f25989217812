"""The OpenAPI 3.1 document of the control API: every operation with its operationId and tag.

The schemas (request bodies and the exact shape of every answer) are openapi_schemas.py's;
the request bodies are checked against the very schemas published here, so the document
cannot drift from what the API accepts. A test checks every route of the app against it,
Schemathesis (tests/faults/test_fuzz.py) checks every answer of a running server against it,
and a client generated from it (openapi-python-client) fires and reads a delivery in CI.
operationIds are camelCase verbs and stable: generated clients name their functions after
them (``fireEvent`` -> ``fire_event``), so renaming one breaks its users. The Norce doors
(``/identity/...``, ``/commerce/...``) are Norce's APIs, not this one, and are left out.
"""

from __future__ import annotations

from mock_norce import __version__
from mock_norce import statuses
from mock_norce.limits import BULK_REDELIVER_MAX, INT64_MAX, OFFSET_MAX, SEARCH_MAX, SEED_MAX, SEED_MIN, WAIT_MAX
from mock_norce.web.openapi_schemas import REQUESTS, RESPONSES, SEED, array, ref

__all__ = ["document", "REQUESTS"]

_ref = ref


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema: dict | None = None) -> dict:
    out = {"description": description}
    if schema is not None:
        out.update(_json(schema))
    return out


ERROR = _ok("error", _ref("Error"))
SCHEMAS = {**RESPONSES, **REQUESTS}
TAGS = [
    ("events", "The event catalogue: fire an event, see a type's schema or a sample"),
    ("scenarios", "Stories of events (an order's life) and starting a run of one"),
    ("runs", "Runs of scenarios: follow, wait for, cancel"),
    ("deliveries", "The delivery log: every event sent, its attempts, redelivery"),
    ("world", "The entities behind the ids (Norce's Query API serves them) and moving an order on"),
    ("subscriptions", "Norce's event configuration: URL, static headers and ON/OFF per type"),
    ("schedules", "Events or runs on an interval, a cron line or at a rate"),
    ("sink", "The built-in subscriber and what it received"),
    ("figures", "Live figures and Prometheus metrics"),
    ("service", "Health, this document, the interactive docs, reset"),
    ("conformance", "Would Norce be happy with your endpoint? The conformance battery and its reports"),
]


def _param(name: str, where: str, schema: dict, description: str = "", required: bool | None = None) -> dict:
    return {"name": name, "in": where, "required": where == "path" if required is None else required,
            "schema": schema, "description": description}


TYPE = _param("type", "path", {"type": "string"}, "event type name, e.g. OrderConfirmedEvent")
ID = _param("id", "path", {"type": "string"})
NAME = _param("name", "path", {"type": "string"})
DELIVERY_ID = _param("id", "path", {"type": "integer", "minimum": 0, "maximum": INT64_MAX})
WAIT = _param("wait", "query", {"type": "number", "minimum": 0, "maximum": WAIT_MAX},
              "seconds to block until the delivery (or run) has finished")


LOG_FILTERS = [
    _param("type", "query", {"type": "string"}, "an event type"),
    # Blank is "any status", as every filter left empty (what the log page's form sends).
    _param("status", "query", {"type": "string", "enum": [*statuses.STATUSES, ""]}, "a status; blank: any"),
    _param("run", "query", {"type": "string"}, "a run (or schedule s-...) id"),
    _param("q", "query", {"type": "string", "maxLength": SEARCH_MAX},
           "words that must each be a value in the payload (an OrderNo, an OrderId, a PartNo, a name); "
           "a trailing * makes a word a prefix"),
    _param("code", "query", {"type": "string", "pattern": "^([1-5][0-9][0-9]|[1-5][xX][xX])?$"},
           "the last answer's status code (500) or class (5xx)"),
    _param("error", "query", {"type": "string"},
           "the last attempt's error class when no answer came: timeout, connection_refused, dns, ..."),
    _param("since", "query", {"type": "string"}, "created at or after: ISO 8601 (UTC by default) or epoch seconds"),
    _param("until", "query", {"type": "string"}, "created at or before: ISO 8601 (UTC by default) or epoch seconds"),
    _param("redelivery_of", "query", {"type": "integer", "minimum": 0, "maximum": INT64_MAX},
           "the redeliveries of this delivery"),
    _param("chaos", "query", {"type": "string", "enum": ["yes", "no", ""]},
           "yes: only deliveries seeded chaos did something to (duplicated, moved, first attempt failed on "
           "purpose); no: only the others; blank: any"),
]


def _limit(maximum: int) -> dict:
    return _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": maximum})


# What any request can get: 400 for an HTTP request waitress cannot parse, 401 without the
# token (when MOCK_NORCE_API_TOKEN is set), 413 for a body over MOCK_NORCE_MAX_BODY, 503 when
# the database cannot be used. Writes add 415 (not application/json); checked input adds 422.
COMMON = ("400", "401", "413", "503")


def _op(op_id: str, tag: str, summary: str, responses: dict, *errors: str, parameters: list | None = None,
        body: str | None = None, write: bool = False, open_: bool = False) -> dict:
    op: dict = {"operationId": op_id, "tags": [tag], "summary": summary}
    if parameters:
        op["parameters"] = parameters
    if body or write:
        # Every write says Content-Type: application/json, so the body is documented as
        # required; an empty body with that header is taken as {} (or ignored).
        op["requestBody"] = {"required": True, "description": "JSON; may be empty, but Content-Type: "
                             "application/json is required even then", **_json(_ref(body) if body else {})}
    codes = set(errors) | set(COMMON) | ({"415"} if write else set())
    if open_:
        op["security"] = []
        codes.discard("401")
    op["responses"] = dict(responses) | {code: ERROR for code in sorted(codes)}
    return op


SINK_PARAMS = [
    _param("path", "path", {"type": "string"}, "any path: the sink records it"),
    _param("status", "query", {"type": "integer", "minimum": 200, "maximum": 599}, "status to answer"),
    _param("delay", "query", {"type": "number", "minimum": 0, "maximum": 30}, "seconds to wait first"),
    _param("fail_rate", "query", {"type": "number", "minimum": 0, "maximum": 1}, "share answered 500"),
]
SINK_ANSWER = {"description": "received: JSON with the status asked for (or 500 by fail_rate); any status can be "
                              "asked for, so the sink documents them all here: 503 sink_busy when too many requests "
                              "are delaying or waiting (threads - 4) at once, 400 for bad parameters, 413 for a body "
                              "over MOCK_NORCE_MAX_BODY, these three in the error shape",
               **_json({"anyOf": [_ref("SinkReceipt"), _ref("Error")]})}


def _sink_op(op_id: str, summary: str) -> dict:
    empty = {"description": "the status asked for, which has no body"}
    # Any body is recorded; documented as JSON (what mock-norce sends) or raw bytes, the two
    # kinds a client generator can send.
    return {"operationId": op_id, "tags": ["sink"], "summary": summary, "security": [], "parameters": SINK_PARAMS,
            "requestBody": {"required": False, "content": {"application/json": {"schema": {}},
                                                           "application/octet-stream": {"schema": {
                                                               "type": "string", "format": "binary"}}}},
            "responses": {"default": SINK_ANSWER, "204": empty, "205": empty, "304": empty}}


SINK_WAIT = [
    _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "at most this many items (100)"),
    _param("path", "query", {"type": "string"}, "only requests to /sink/{path} (the path after /sink/)"),
    _param("wait", "query", {"type": "number", "minimum": 0, "maximum": WAIT_MAX},
           "seconds to block until count requests (1 without count) are kept; answers 200 either way, with "
           "complete saying whether they came"),
    _param("count", "query", {"type": "integer", "minimum": 1},
           "how many requests to wait for; at most MOCK_NORCE_SINK_KEEP (1000), the requests the sink keeps. "
           "With count the items are the matching requests oldest first (the order they arrived in)"),
]
DOCS_PAGE = {"description": "Swagger UI over this document, from assets served here (no CDN)",
             "content": {"text/html": {"schema": {"type": "string"}}}}


def document() -> dict:
    """The OpenAPI 3.1 document."""
    schedule = _ref("Schedule")
    paths = {
        "/healthz": {"get": {"operationId": "getHealth", "tags": ["service"],
                             "summary": "Ready? Served even when every server thread is busy", "security": [],
                             "responses": {"200": _ok("ready", _ref("Health")),
                                           "503": _ok("starting, stopping, or a part is down (parts says which)",
                                                      _ref("Error"))}}},
        "/openapi.json": {"get": _op("getOpenApiDocument", "service", "This document",
                                     {"200": _ok("OpenAPI 3.1", {"type": "object"})})},
        "/api/docs": {"get": _op("getApiDocs", "service", "Interactive API docs (Swagger UI)", {"200": DOCS_PAGE})},
        "/api/reset": {"post": _op(
            "reset", "service", "Everything back to the boot state, as WireMock's /__admin/reset: runs cancelled "
            "and forgotten, schedules deleted (the config file's created afresh), the log, the queue and the "
            "sink emptied, subscriptions as configured at start, the world back to the tenant's. Attempts "
            "already on the wire are let finish first (their results dropped), so nothing sent before the "
            "reset reaches the sink after it", {"200": _ok("reset", _ref("ResetResult"))}, write=True)},
        "/api/events": {"get": _op("listEventTypes", "events", "The event types", {
            "200": _ok("types", array(_ref("EventType")))})},
        "/api/events/{type}/schema": {"get": _op(
            "getEventSchema", "events", "JSON Schema of a type",
            {"200": _ok("schema", {"type": "object", "description": "a JSON Schema (draft 2020-12)"})},
            "404", parameters=[TYPE])},
        "/api/events/{type}/sample": {"get": _op(
            "getEventSample", "events", "A generated payload (nothing is sent)",
            {"200": _ok("payload", {"type": "object", "description": "a Norce payload"})}, "404", "422",
            parameters=[TYPE, _param("seed", "query", SEED), _param("market", "query", {"type": "string"})])},
        "/api/events/{type}": {"post": _op(
            "fireEvent", "events", "Generate, validate and deliver an event",
            {"200": _ok("finished (with ?wait) or not recorded because the type is OFF", _ref("FireResult")),
             "202": _ok("accepted: payload and delivery", _ref("FireResult"))},
            "404", "422", parameters=[TYPE, WAIT], body="FireRequest", write=True)},
        "/api/scenarios": {"get": _op("listScenarios", "scenarios", "The scenarios", {
            "200": _ok("scenarios", array(_ref("Scenario")))})},
        "/api/scenarios/{name}": {"get": _op("getScenario", "scenarios", "One scenario",
                                             {"200": _ok("scenario", _ref("Scenario"))}, "404", parameters=[NAME])},
        "/api/scenarios/{name}/runs": {"post": _op(
            "startRun", "runs", "Start a run", {"202": _ok("run started", _ref("Run"))}, "404", "422",
            parameters=[NAME], body="RunRequest", write=True)},
        "/api/runs": {"get": _op("listRuns", "runs", "Recent runs, newest first (without their deliveries)",
                                 {"200": _ok("runs", array(_ref("Run")))}, "422", parameters=[_limit(500)])},
        "/api/runs/{id}": {"get": _op("getRun", "runs", "A run, with its steps and where it is",
                                      {"200": _ok("run", _ref("Run"))}, "404", "422", parameters=[ID, WAIT])},
        "/api/runs/{id}/cancel": {"post": _op("cancelRun", "runs", "Cancel a run",
                                              {"200": _ok("cancelled", _ref("Run"))}, "404", "409",
                                              parameters=[ID], write=True)},
        "/api/deliveries": {
            "get": _op("listDeliveries", "deliveries", "The delivery log, newest first (without attempts): "
                       "filtered, searched over payload values, paged",
                       {"200": _ok("a page", _ref("DeliveryPage"))}, "422", parameters=[
                           *LOG_FILTERS, _limit(500),
                           _param("offset", "query", {"type": "integer", "minimum": 0, "maximum": OFFSET_MAX}),
                           _param("order", "query", {"type": "string", "enum": ["desc", "asc"]},
                                  "desc: newest first (the default); asc: oldest first")]),
            "delete": _op("clearDeliveries", "deliveries", "Forget every delivery (POST /api/reset resets all)",
                          {"200": _ok("deleted", _ref("Deleted"))}, write=True)},
        "/api/deliveries/{id}": {"get": _op("getDelivery", "deliveries", "A delivery with every attempt",
                                            {"200": _ok("delivery", _ref("Delivery"))}, "404", "422",
                                            parameters=[DELIVERY_ID, WAIT])},
        "/api/deliveries/{id}/redeliver": {"post": _op(
            "redeliver", "deliveries", "A new series of attempts with the same body (to the same URL, or to url)",
            {"202": _ok("the new delivery", _ref("Delivery"))}, "404", "422", parameters=[DELIVERY_ID],
            body="RedeliverRequest", write=True)},
        "/api/deliveries/{id}/retry": {"post": _op(
            "retryNow", "deliveries", "Make the next attempt of a delivery waiting for its retry now, not at its "
            "backoff time (it counts as the policy's next attempt)",
            {"202": _ok("the delivery", _ref("Delivery"))}, "404", "409", parameters=[DELIVERY_ID], write=True)},
        "/api/deliveries/redeliver": {"post": _op(
            "redeliverMatching", "deliveries", f"Redeliver the newest deliveries that match the filters of "
            f"GET /api/deliveries (status=dead, say), at most {BULK_REDELIVER_MAX} a call; at least one filter",
            {"202": _ok("how many were queued", _ref("BulkRedeliverResult"))}, "422", parameters=LOG_FILTERS,
            body="BulkRedeliverRequest", write=True)},
        "/api/orders/{id}/advance": {"post": _op(
            "advanceOrder", "world", "Move an order to a status: the legal events in between, emitted in order",
            {"202": _ok("the events emitted", _ref("AdvanceResult")),
             "200": _ok("already there: nothing emitted", _ref("AdvanceResult"))},
            "404", "409", "422", parameters=[_param("id", "path", {"type": "integer", "minimum": 0,
                                                                  "maximum": INT64_MAX})],
            body="AdvanceRequest", write=True)},
        "/api/world": {"get": _op("getWorldCounts", "world", "Rows per Query API entity set",
                                  {"200": _ok("counts", _ref("WorldCounts"))})},
        "/api/subscriptions": {"get": _op("listSubscriptions", "subscriptions", "Subscriptions (secrets masked)",
                                          {"200": _ok("subscriptions", _ref("SubscriptionList"))})},
        "/api/subscriptions/default": {
            "get": _op("getDefaultSubscriber", "subscriptions", "The default subscriber URL (secrets masked)",
                       {"200": _ok("the default URL", _ref("DefaultSubscriber"))}),
            "put": _op("setDefaultSubscriber", "subscriptions",
                       "Change the default subscriber URL (back to the configured one on reset)",
                       {"200": _ok("changed", _ref("DefaultSubscriber"))}, "422",
                       body="DefaultSubscriberUpdate", write=True)},
        "/api/subscriptions/{type}": {"put": _op(
            "updateSubscription", "subscriptions", "Change a type's URL, headers, ON/OFF or how its events are sent "
            "(retry policy, Content-Type, redirect header rule, optional fields omitted)",
            {"200": _ok("updated", _ref("Subscription"))}, "404", "422",
            parameters=[TYPE], body="SubscriptionUpdate", write=True)},
        "/api/schedules": {
            "get": _op("listSchedules", "schedules", "Schedules with their live figures", {
                "200": _ok("schedules", array(schedule))}),
            "post": _op("createSchedule", "schedules", "Create a schedule", {"201": _ok("created", schedule)},
                        "409", "422", body="ScheduleRequest", write=True)},
        "/api/schedules/{id}": {
            "get": _op("getSchedule", "schedules", "A schedule", {"200": _ok("schedule", schedule)}, "404",
                       parameters=[ID]),
            "delete": _op("deleteSchedule", "schedules", "Delete a schedule",
                          {"200": _ok("deleted", _ref("ScheduleDeleted"))}, "404", parameters=[ID], write=True)},
        "/api/schedules/{id}/pause": {"post": _op("pauseSchedule", "schedules", "Pause",
                                                  {"200": _ok("paused", schedule)}, "404", "409",
                                                  parameters=[ID], write=True)},
        "/api/schedules/{id}/resume": {"post": _op(
            "resumeSchedule", "schedules", "Resume (from now: missed firings are not caught up)",
            {"200": _ok("resumed", schedule)}, "404", "409", parameters=[ID], write=True)},
        "/api/schedules/{id}/figures": {"get": _op("getScheduleFigures", "figures",
                                                   "Live figures and their time series",
                                                   {"200": _ok("figures", _ref("ScheduleFigures"))},
                                                   "404", parameters=[ID])},
        "/api/schedules/{id}/figures.csv": {"get": _op(
            "getScheduleFiguresCsv", "figures", "The time series as CSV",
            {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}}, "404",
            parameters=[ID])},
        "/api/conformance": {"post": _op(
            "runConformance", "conformance", "Run the conformance battery against url (real deliveries through "
            "the sender: every type accepted, duplicates, out of order, int64 ids, Nordic names, optional fields "
            "absent, a burst, redirects, latency against the 5 s budget); answers when it has run",
            {"201": _ok("the report (kept among the last 20)", _ref("ConformanceReport"))}, "422",
            body="ConformanceRequest", write=True)},
        "/api/conformance/{id}": {"get": _op(
            "getConformanceReport", "conformance", "A report of the last 20 (until a restart), as JSON or JUnit XML",
            {"200": {"description": "the report", "content": {
                "application/json": {"schema": _ref("ConformanceReport")},
                "application/xml": {"schema": {"type": "string", "description": "JUnit XML (format=junit)"}}}}},
            "404", "422", parameters=[ID, _param("format", "query", {"type": "string", "enum": ["json", "junit"]},
                                                 "json (the default) or junit")])},
        "/api/stats": {"get": _op("getStats", "figures", "Figures of everything since start (a reset keeps them)",
                                  {"200": _ok("figures", _ref("Stats"))})},
        "/metrics": {"get": _op("getMetrics", "figures", "Prometheus metrics", {
            "200": {"description": "text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}}}})},
        "/api/sink": {
            "get": _op("listSinkRequests", "sink", "Requests the built-in sink received; with wait and count, "
                       "once that many have arrived", {"200": _ok("requests", _ref("SinkPage"))}, "422",
                       parameters=SINK_WAIT),
            "delete": _op("clearSink", "sink", "Forget them", {"200": _ok("deleted", _ref("Deleted"))}, write=True)},
        "/sink/{path}": {
            "post": _sink_op("sinkPost", "The built-in sink: a subscriber. Open (no token); query: status, delay, "
                             "fail_rate"),
            "put": _sink_op("sinkPut", "The same, for a PUT"),
            "get": _sink_op("sinkGet", "The same, for a redirected delivery (301/302/303 continue with GET)")},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "mock-norce control API", "version": __version__,
                 "description": "Fire Norce Commerce Events, run scenarios, read the delivery log. Errors are "
                                "{\"error\": code, \"message\": text}; out-of-range numbers get 422 out_of_range; "
                                "writes under /api need Content-Type: application/json, even without a body; "
                                "a method a path does not have gets 405 with Allow."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "only when MOCK_NORCE_API_TOKEN is set"}},
        },
    }
