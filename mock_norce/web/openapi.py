"""The OpenAPI 3.1 document of the control API, and the request schemas the API validates with.

The request bodies are checked against the very schemas published here, so the document
cannot drift from what the API accepts; a test checks every route of the app against it, and
Schemathesis (tests/faults/test_fuzz.py) checks every answer of a running server against it.
Number ranges come from limits.py, the same constants the doors check. Just over 300 lines:
the document is data, one entry per operation, kept whole so it reads against api.py.
"""

from __future__ import annotations

from mock_norce import statuses
from mock_norce import __version__
from mock_norce.limits import COUNT_MAX, DURATION_MAX, INT64_MAX, JITTER_MAX, OFFSET_MAX, RATE_MAX, SEED_MAX, SEED_MIN, TIME_SCALE_MAX, WAIT_MAX


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema: dict | None = None) -> dict:
    out = {"description": description}
    if schema is not None:
        out.update(_json(schema))
    return out


ERROR = _ok("error", _ref("Error"))
SEED = {"type": "integer", "minimum": SEED_MIN, "maximum": SEED_MAX, "description": "seed (int64)"}
# Checked by the API, with the reason in a 422: http(s), a host, a good port, not link-local.
URL = {"type": "string", "description": "an http(s) URL"}
TIME_SCALE = {"type": "number", "minimum": 0, "maximum": TIME_SCALE_MAX, "description": "multiplies waits and delays"}

REQUESTS = {
    "FireRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "overrides": {"type": "object", "description": "field values to set; validated against the schema"},
            "omit": {"type": "array", "items": {"type": "string"}, "description": "optional fields to leave out"},
            "seed": SEED | {"description": "seed for a reproducible payload (int64)"},
            "market": {"type": "string", "description": "SE, NO, FI or DK"},
            "url": URL | {"description": "one-off subscriber URL (default: the subscription's)"},
            "invalid": {"type": "boolean", "description": "allow overrides that break the schema (negative tests)"},
        },
    },
    "AdvanceRequest": {
        "type": "object", "additionalProperties": False, "required": ["to"],
        "properties": {
            "to": {"type": ["string", "integer"],
                   "description": "Confirmed, PartlyDelivered, Delivered, Invoiced or Cancelled (or the StatusId)"},
            "seed": SEED,
            "url": URL | {"description": "one-off subscriber URL for the events (default: the subscriptions')"},
        },
    },
    "RunRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "seed": SEED,
            "url": URL,
            "time_scale": TIME_SCALE,
        },
    },
    "ScheduleRequest": {
        "type": "object", "additionalProperties": False,
        "description": "what (one of event, scenario, mix), when (one of interval, cron, rate), how long",
        "properties": {
            "name": {"type": "string"},
            "event": {"type": "string", "description": "an event type"},
            "scenario": {"type": "string", "description": "a scenario: a run per firing, or its events at a rate"},
            "mix": {"type": "object", "additionalProperties": {"type": "number"},
                    "description": "scenario -> weight, played at a rate (a soak)"},
            # Seconds as a number are bounded here; a duration string ("30s") by the schedule's own check.
            "interval": {"type": ["string", "number"], "maximum": DURATION_MAX, "description": "e.g. 30s"},
            "cron": {"type": "string", "description": "5-field crontab, UTC, e.g. 0 2 * * *"},
            "rate": {"type": "number", "maximum": RATE_MAX * 60,
                     "description": f"events per rate_per: at most {RATE_MAX:g} a second, {RATE_MAX * 60:g} a minute"},
            "rate_per": {"enum": ["second", "minute"]},
            "jitter": {"type": ["string", "number"], "minimum": 0, "maximum": JITTER_MAX,
                       "description": "random shift of each event, e.g. 100ms"},
            "duration": {"type": ["string", "number"], "maximum": DURATION_MAX, "description": "stop after, e.g. 10m"},
            "count": {"type": "integer", "minimum": 1, "maximum": COUNT_MAX,
                      "description": "stop after this many firings (events, for a rate)"},
            "url": URL,
            "seed": SEED,
            "market": {"type": "string"},
            "overrides": {"type": "object"},
            "time_scale": TIME_SCALE,
        },
    },
    "SubscriptionUpdate": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "url": {"anyOf": [URL, {"type": "null"}], "description": "own URL of the type; null: the default URL"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "static headers; a value of ******** keeps the current one"},
            "enabled": {"type": "boolean", "description": "ON/OFF; an OFF type's events are not recorded"},
        },
    },
}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error", "message"],
              "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                             "errors": {"type": "array", "items": {"type": "object", "properties": {
                                 "path": {"type": "string"}, "reason": {"type": "string"}}}}}},
    "EventType": {"type": "object", "properties": {
        "name": {"type": "string"}, "category": {"type": "string"}, "kind": {"type": "string"},
        "builtin": {"type": "boolean"}, "description": {"type": "string"},
        "unconfirmed": {"type": "array", "items": {"type": "string"}}}},
    "Attempt": {"type": "object", "properties": {
        "number": {"type": "integer"}, "started": {"type": "number"}, "url": {"type": "string"},
        "method": {"type": "string"}, "status_code": {"type": ["integer", "null"]},
        "latency_ms": {"type": ["number", "null"]}, "error_class": {"type": ["string", "null"]},
        "error": {"type": ["string", "null"]}, "response_headers": {"type": "array"},
        "response_body": {"type": "string"}, "body_truncated": {"type": "boolean"}, "hops": {"type": "array"}}},
    "Delivery": {"type": "object", "properties": {
        "id": {"type": "integer"}, "event_type": {"type": "string"},
        "status": {"enum": list(statuses.STATUSES)}, "url": {"type": "string"}, "headers": {"type": "object"},
        "attempts": {"type": "integer"}, "next_attempt_at": {"type": ["number", "null"]},
        "created": {"type": "number"}, "finished": {"type": ["number", "null"]},
        "last_status_code": {"type": ["integer", "null"]}, "last_error": {"type": ["string", "null"]},
        "redelivery_of": {"type": ["integer", "null"]}, "run_id": {"type": ["string", "null"]},
        "valid": {"type": "boolean"}, "body": {"type": "string", "description": "the exact bytes sent"},
        "payload": {"type": "object"},
        "attempt_log": {"type": "array", "items": _ref("Attempt")}}},
    "Run": {"type": "object", "properties": {
        "id": {"type": "string"}, "scenario": {"type": "string"}, "seed": {"type": "integer"},
        "status": {"enum": ["running", "completed", "failed", "cancelled"]}, "time_scale": {"type": "number"},
        "url": {"type": ["string", "null"]}, "started": {"type": "number"}, "finished": {"type": ["number", "null"]},
        "events": {"type": "integer"}, "error": {"type": ["string", "null"]},
        "deliveries": {"type": "object", "additionalProperties": {"type": "integer"}}}},
    "Schedule": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": ["string", "null"]}, "spec": {"type": "object"},
        "status": {"enum": ["active", "paused", "finished"]}, "created": {"type": "number"},
        "ends_at": {"type": ["number", "null"]}, "fired": {"type": "integer"}, "emitted": {"type": "integer"},
        "next_fire": {"type": ["number", "null"]}, "last_fire": {"type": ["number", "null"]},
        "figures": {"type": "object"}}},
    "Scenario": {"type": "object", "properties": {
        "name": {"type": "string"}, "description": {"type": "string"},
        "events": {"type": "array", "items": {"type": "string"}}}},
    "Subscription": {"type": "object", "properties": {
        "event_type": {"type": "string"}, "url": {"type": ["string", "null"]},
        "effective_url": {"type": ["string", "null"]}, "headers": {"type": "object"}, "enabled": {"type": "boolean"}}},
    **REQUESTS,
}


def _param(name: str, where: str, schema: dict, description: str = "", required: bool | None = None) -> dict:
    return {"name": name, "in": where, "required": where == "path" if required is None else required,
            "schema": schema, "description": description}


TYPE = _param("type", "path", {"type": "string"}, "event type name, e.g. OrderConfirmedEvent")
ID = _param("id", "path", {"type": "string"})
NAME = _param("name", "path", {"type": "string"})
DELIVERY_ID = _param("id", "path", {"type": "integer", "minimum": 0, "maximum": INT64_MAX})
WAIT = _param("wait", "query", {"type": "number", "minimum": 0, "maximum": WAIT_MAX},
              "seconds to block until the delivery (or run) has finished")


def _limit(maximum: int) -> dict:
    return _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": maximum})


# What any request can get: 400 for an HTTP request waitress cannot parse, 401 without the
# token (when MOCK_NORCE_API_TOKEN is set), 413 for a body over MOCK_NORCE_MAX_BODY, 503 when
# the database cannot be used. Writes add 415 (not application/json); checked input adds 422.
COMMON = ("400", "401", "413", "503")


def _op(summary: str, responses: dict, *errors: str, parameters: list | None = None, body: str | None = None,
        write: bool = False, open_: bool = False) -> dict:
    op: dict = {"summary": summary}
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


def _object(**properties) -> dict:
    return {"type": "object", "properties": properties}


HEALTHY = {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}
SINK_PARAMS = [
    _param("path", "path", {"type": "string"}, "any path: the sink records it"),
    _param("status", "query", {"type": "integer", "minimum": 200, "maximum": 599}, "status to answer"),
    _param("delay", "query", {"type": "number", "minimum": 0, "maximum": 30}, "seconds to wait first"),
    _param("fail_rate", "query", {"type": "number", "minimum": 0, "maximum": 1}, "share answered 500"),
]
SINK_ANSWER = {"description": "received: JSON with the status asked for (or 500 by fail_rate); any status can be "
                              "asked for, so the sink documents them all here: 503 sink_busy when too many requests "
                              "are delaying (threads - 4) at once, 400 for bad parameters, 413 for a body over "
                              "MOCK_NORCE_MAX_BODY, these three in the error shape", **_json({"type": "object"})}


def _sink_op(summary: str) -> dict:
    empty = {"description": "the status asked for, which has no body"}
    return {"summary": summary, "security": [], "parameters": SINK_PARAMS,
            "requestBody": {"required": False, "content": {"*/*": {"schema": {}}}},
            "responses": {"default": SINK_ANSWER, "204": empty, "205": empty, "304": empty}}


def document() -> dict:
    """The OpenAPI 3.1 document."""
    schedule = _ref("Schedule")
    paths = {
        "/healthz": {"get": {"summary": "Ready? Served even when every server thread is busy", "security": [],
                             "responses": {"200": _ok("ready", HEALTHY), "503": ERROR}}},
        "/openapi.json": {"get": _op("This document", {"200": _ok("OpenAPI 3.1", {"type": "object"})})},
        "/api/events": {"get": _op("The event types", {
            "200": _ok("types", {"type": "array", "items": _ref("EventType")})})},
        "/api/events/{type}/schema": {"get": _op("JSON Schema of a type", {"200": _ok("schema", {"type": "object"})},
                                                 "404", parameters=[TYPE])},
        "/api/events/{type}/sample": {"get": _op(
            "A generated payload (nothing is sent)", {"200": _ok("payload", {"type": "object"})}, "404", "422",
            parameters=[TYPE, _param("seed", "query", SEED), _param("market", "query", {"type": "string"})])},
        "/api/events/{type}": {"post": _op(
            "Generate, validate and deliver an event",
            {"200": _ok("finished (with ?wait) or not recorded because the type is OFF", {"type": "object"}),
             "202": _ok("accepted: payload and delivery", {"type": "object"})},
            "404", "422", parameters=[TYPE, WAIT], body="FireRequest", write=True)},
        "/api/scenarios": {"get": _op("The scenarios", {
            "200": _ok("scenarios", {"type": "array", "items": _ref("Scenario")})})},
        "/api/scenarios/{name}": {"get": _op("One scenario", {"200": _ok("scenario", _ref("Scenario"))}, "404",
                                             parameters=[NAME])},
        "/api/scenarios/{name}/runs": {"post": _op(
            "Start a run", {"202": _ok("run started", _ref("Run"))}, "404", "422",
            parameters=[NAME], body="RunRequest", write=True)},
        "/api/runs": {"get": _op("Recent runs", {"200": _ok("runs", {"type": "array", "items": _ref("Run")})},
                                 "422", parameters=[_limit(500)])},
        "/api/runs/{id}": {"get": _op("A run", {"200": _ok("run", _ref("Run"))}, "404", "422",
                                      parameters=[ID, WAIT])},
        "/api/runs/{id}/cancel": {"post": _op("Cancel a run", {"200": _ok("cancelled", _ref("Run"))}, "404", "409",
                                              parameters=[ID], write=True)},
        "/api/deliveries": {
            "get": _op("The delivery log, newest first", {"200": _ok("a page", _object(
                items={"type": "array", "items": _ref("Delivery")}, total={"type": "integer"},
                limit={"type": "integer"}, offset={"type": "integer"}))}, "422", parameters=[
                _param("type", "query", {"type": "string"}), _param("status", "query", {"enum": list(statuses.STATUSES)}),
                _param("run", "query", {"type": "string"}), _limit(500),
                _param("offset", "query", {"type": "integer", "minimum": 0, "maximum": OFFSET_MAX})]),
            "delete": _op("Forget every delivery (reset between tests)",
                          {"200": _ok("deleted", _object(deleted={"type": "integer"}))}, write=True)},
        "/api/deliveries/{id}": {"get": _op("A delivery with every attempt", {"200": _ok("delivery", _ref("Delivery"))},
                                            "404", "422", parameters=[DELIVERY_ID, WAIT])},
        "/api/deliveries/{id}/redeliver": {"post": _op(
            "A new series of attempts with the same body", {"202": _ok("the new delivery", _ref("Delivery"))},
            "404", parameters=[DELIVERY_ID], write=True)},
        "/api/orders/{id}/advance": {"post": _op(
            "Move an order to a status: the legal events in between, emitted in order",
            {"202": _ok("the events emitted", {"type": "object"}),
             "200": _ok("already there: nothing emitted", {"type": "object"})},
            "404", "409", "422", parameters=[_param("id", "path", {"type": "integer", "minimum": 0,
                                                                  "maximum": INT64_MAX})],
            body="AdvanceRequest", write=True)},
        "/api/world": {"get": _op("Rows per Query API entity set", {"200": _ok("counts", _object(
            entity_sets={"type": "object", "additionalProperties": {"type": "integer"}},
            failures={"type": "integer"}))})},
        "/api/subscriptions": {"get": _op("Subscriptions (secrets masked)", {
            "200": _ok("subscriptions", _object(default_url={"type": ["string", "null"]}, subscriptions={
                "type": "array", "items": _ref("Subscription")}))})},
        "/api/subscriptions/{type}": {"put": _op(
            "Change a type's URL, headers or ON/OFF", {"200": _ok("updated", _ref("Subscription"))}, "404", "422",
            parameters=[TYPE], body="SubscriptionUpdate", write=True)},
        "/api/schedules": {
            "get": _op("Schedules with their live figures", {
                "200": _ok("schedules", {"type": "array", "items": schedule})}),
            "post": _op("Create a schedule", {"201": _ok("created", schedule)}, "409", "422",
                        body="ScheduleRequest", write=True)},
        "/api/schedules/{id}": {
            "get": _op("A schedule", {"200": _ok("schedule", schedule)}, "404", parameters=[ID]),
            "delete": _op("Delete a schedule", {"200": _ok("deleted", _object(deleted={"type": "string"}))}, "404",
                          parameters=[ID], write=True)},
        "/api/schedules/{id}/pause": {"post": _op("Pause", {"200": _ok("paused", schedule)}, "404", "409",
                                                  parameters=[ID], write=True)},
        "/api/schedules/{id}/resume": {"post": _op(
            "Resume (from now: missed firings are not caught up)", {"200": _ok("resumed", schedule)}, "404", "409",
            parameters=[ID], write=True)},
        "/api/schedules/{id}/figures": {"get": _op("Live figures and their time series",
                                                   {"200": _ok("figures", _object(summary={"type": "object"},
                                                                                  points={"type": "array"}))},
                                                   "404", parameters=[ID])},
        "/api/schedules/{id}/figures.csv": {"get": _op(
            "The time series as CSV",
            {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}}, "404",
            parameters=[ID])},
        "/api/stats": {"get": _op("Figures of everything since start", {"200": _ok("figures", {"type": "object"})})},
        "/metrics": {"get": _op("Prometheus metrics", {
            "200": {"description": "text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}}}})},
        "/api/sink": {
            "get": _op("Requests the built-in sink received", {"200": _ok("requests", _object(
                received={"type": "integer"}, items={"type": "array", "items": {"type": "object"}}))}, "422",
                parameters=[_limit(1000), _param("path", "query", {"type": "string"})]),
            "delete": _op("Forget them", {"200": _ok("deleted", _object(deleted={"type": "integer"}))}, write=True)},
        "/sink/{path}": {
            "post": _sink_op("The built-in sink: a subscriber. Open (no token); query: status, delay, fail_rate"),
            "put": _sink_op("The same, for a PUT"),
            "get": _sink_op("The same, for a redirected delivery (301/302/303 continue with GET)")},
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
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "only when MOCK_NORCE_API_TOKEN is set"}},
        },
    }
