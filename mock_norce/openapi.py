"""The OpenAPI 3.1 document of the control API, and the request schemas the API validates with.

The request bodies are checked against the very schemas published here, so the document
cannot drift from what the API accepts; a test checks every route of the app against it.
"""

from __future__ import annotations

from . import __version__, policy


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

REQUESTS = {
    "FireRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "overrides": {"type": "object", "description": "field values to set; validated against the schema"},
            "omit": {"type": "array", "items": {"type": "string"}, "description": "optional fields to leave out"},
            "seed": {"type": "integer", "description": "seed for a reproducible payload"},
            "market": {"type": "string", "description": "SE, NO, FI or DK"},
            "url": {"type": "string", "description": "one-off subscriber URL (default: the subscription's)"},
            "invalid": {"type": "boolean", "description": "allow overrides that break the schema (negative tests)"},
        },
    },
    "RunRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "seed": {"type": "integer"},
            "url": {"type": "string"},
            "time_scale": {"type": "number", "minimum": 0},
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
            "interval": {"type": ["string", "number"], "description": "e.g. 30s"},
            "cron": {"type": "string", "description": "5-field crontab, UTC, e.g. 0 2 * * *"},
            "rate": {"type": "number", "description": "events per rate_per"},
            "rate_per": {"enum": ["second", "minute"]},
            "jitter": {"type": ["string", "number"], "description": "random shift of each event, e.g. 100ms"},
            "duration": {"type": ["string", "number"], "description": "stop after, e.g. 10m"},
            "count": {"type": "integer", "description": "stop after this many firings (events, for a rate)"},
            "url": {"type": "string"},
            "seed": {"type": "integer"},
            "market": {"type": "string"},
            "overrides": {"type": "object"},
            "time_scale": {"type": "number", "minimum": 0},
        },
    },
    "SubscriptionUpdate": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "url": {"type": ["string", "null"], "description": "own URL of the type; null: the default URL"},
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
        "status": {"enum": list(policy.STATUSES)}, "url": {"type": "string"}, "headers": {"type": "object"},
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
WAIT = _param("wait", "query", {"type": "number", "minimum": 0, "maximum": 300},
              "seconds to block until the delivery (or run) has finished")


def document() -> dict:
    """The OpenAPI 3.1 document."""
    paths = {
        "/healthz": {"get": {"summary": "Ready?", "security": [],
                             "responses": {"200": _ok("ready", {"type": "object"}), "503": ERROR}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": _ok("OpenAPI 3.1")}}},
        "/api/events": {"get": {"summary": "The event types", "responses": {
            "200": _ok("types", {"type": "array", "items": _ref("EventType")})}}},
        "/api/events/{type}/schema": {"get": {"summary": "JSON Schema of a type", "parameters": [TYPE],
                                              "responses": {"200": _ok("schema", {"type": "object"}), "404": ERROR}}},
        "/api/events/{type}/sample": {"get": {
            "summary": "A generated payload (nothing is sent)",
            "parameters": [TYPE, _param("seed", "query", {"type": "integer"}), _param("market", "query", {"type": "string"})],
            "responses": {"200": _ok("payload", {"type": "object"}), "400": ERROR, "404": ERROR, "422": ERROR}}},
        "/api/events/{type}": {"post": {
            "summary": "Generate, validate and deliver an event",
            "parameters": [TYPE, WAIT],
            "requestBody": {"required": False, **_json(_ref("FireRequest"))},
            "responses": {"200": _ok("finished (with ?wait) or not recorded because the type is OFF",
                                     {"type": "object"}),
                          "202": _ok("accepted: payload and delivery", {"type": "object"}),
                          "400": ERROR, "404": ERROR, "413": ERROR, "415": ERROR, "422": ERROR}}},
        "/api/scenarios": {"get": {"summary": "The scenarios", "responses": {
            "200": _ok("scenarios", {"type": "array", "items": _ref("Scenario")})}}},
        "/api/scenarios/{name}": {"get": {"summary": "One scenario",
                                          "parameters": [_param("name", "path", {"type": "string"})],
                                          "responses": {"200": _ok("scenario", _ref("Scenario")), "404": ERROR}}},
        "/api/scenarios/{name}/runs": {"post": {
            "summary": "Start a run", "parameters": [_param("name", "path", {"type": "string"})],
            "requestBody": {"required": False, **_json(_ref("RunRequest"))},
            "responses": {"202": _ok("run started", _ref("Run")), "400": ERROR, "404": ERROR,
                          "413": ERROR, "415": ERROR, "422": ERROR}}},
        "/api/runs": {"get": {"summary": "Recent runs", "parameters": [_param("limit", "query", {"type": "integer"})],
                              "responses": {"200": _ok("runs", {"type": "array", "items": _ref("Run")}),
                                            "400": ERROR}}},
        "/api/runs/{id}": {"get": {"summary": "A run", "parameters": [_param("id", "path", {"type": "string"}), WAIT],
                                   "responses": {"200": _ok("run", _ref("Run")), "400": ERROR, "404": ERROR}}},
        "/api/runs/{id}/cancel": {"post": {"summary": "Cancel a run",
                                           "parameters": [_param("id", "path", {"type": "string"})],
                                           "responses": {"200": _ok("cancelled", _ref("Run")), "404": ERROR,
                                                         "409": ERROR}}},
        "/api/deliveries": {
            "get": {"summary": "The delivery log, newest first", "parameters": [
                _param("type", "query", {"type": "string"}), _param("status", "query", {"enum": list(policy.STATUSES)}),
                _param("run", "query", {"type": "string"}),
                _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}),
                _param("offset", "query", {"type": "integer", "minimum": 0})],
                "responses": {"200": _ok("a page", {"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Delivery")}, "total": {"type": "integer"},
                    "limit": {"type": "integer"}, "offset": {"type": "integer"}}}), "400": ERROR}},
            "delete": {"summary": "Forget every delivery (reset between tests)",
                       "responses": {"200": _ok("deleted", {"type": "object"})}}},
        "/api/deliveries/{id}": {"get": {"summary": "A delivery with every attempt",
                                         "parameters": [_param("id", "path", {"type": "integer"}), WAIT],
                                         "responses": {"200": _ok("delivery", _ref("Delivery")), "400": ERROR,
                                                       "404": ERROR}}},
        "/api/deliveries/{id}/redeliver": {"post": {
            "summary": "A new series of attempts with the same body",
            "parameters": [_param("id", "path", {"type": "integer"})],
            "responses": {"202": _ok("the new delivery", _ref("Delivery")), "404": ERROR}}},
        "/api/subscriptions": {"get": {"summary": "Subscriptions (secret header values masked)", "responses": {
            "200": _ok("subscriptions", {"type": "object"})}}},
        "/api/subscriptions/{type}": {"put": {
            "summary": "Change a type's URL, headers or ON/OFF", "parameters": [TYPE],
            "requestBody": {"required": True, **_json(_ref("SubscriptionUpdate"))},
            "responses": {"200": _ok("updated", _ref("Subscription")), "400": ERROR, "404": ERROR,
                          "413": ERROR, "415": ERROR, "422": ERROR}}},
        "/api/schedules": {
            "get": {"summary": "Schedules with their live figures", "responses": {
                "200": _ok("schedules", {"type": "array", "items": _ref("Schedule")})}},
            "post": {"summary": "Create a schedule", "requestBody": {"required": True, **_json(_ref("ScheduleRequest"))},
                     "responses": {"201": _ok("created", _ref("Schedule")), "400": ERROR, "409": ERROR,
                                   "413": ERROR, "415": ERROR, "422": ERROR}}},
        "/api/schedules/{id}": {
            "get": {"summary": "A schedule", "parameters": [_param("id", "path", {"type": "string"})],
                    "responses": {"200": _ok("schedule", _ref("Schedule")), "404": ERROR}},
            "delete": {"summary": "Delete a schedule", "parameters": [_param("id", "path", {"type": "string"})],
                       "responses": {"200": _ok("deleted", {"type": "object"}), "404": ERROR}}},
        "/api/schedules/{id}/pause": {"post": {
            "summary": "Pause", "parameters": [_param("id", "path", {"type": "string"})],
            "responses": {"200": _ok("paused", _ref("Schedule")), "404": ERROR, "409": ERROR}}},
        "/api/schedules/{id}/resume": {"post": {
            "summary": "Resume (from now: missed firings are not caught up)",
            "parameters": [_param("id", "path", {"type": "string"})],
            "responses": {"200": _ok("resumed", _ref("Schedule")), "404": ERROR, "409": ERROR}}},
        "/api/schedules/{id}/figures": {"get": {
            "summary": "Live figures and their time series", "parameters": [_param("id", "path", {"type": "string"})],
            "responses": {"200": _ok("figures", {"type": "object"}), "404": ERROR}}},
        "/api/schedules/{id}/figures.csv": {"get": {
            "summary": "The time series as CSV", "parameters": [_param("id", "path", {"type": "string"})],
            "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                          "404": ERROR}}},
        "/api/stats": {"get": {"summary": "Figures of everything since start", "responses": {
            "200": _ok("figures", {"type": "object"})}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {
            "200": {"description": "text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/api/sink": {
            "get": {"summary": "Requests the built-in sink received", "parameters": [
                _param("limit", "query", {"type": "integer"}), _param("path", "query", {"type": "string"})],
                "responses": {"200": _ok("requests", {"type": "object"}), "400": ERROR}},
            "delete": {"summary": "Forget them", "responses": {"200": _ok("deleted", {"type": "object"})}}},
        "/sink/{path}": {"post": {
            "summary": "The built-in sink: a subscriber. Query: status, delay, fail_rate", "security": [],
            "parameters": [_param("path", "path", {"type": "string"}),
                           _param("status", "query", {"type": "integer"}), _param("delay", "query", {"type": "number"}),
                           _param("fail_rate", "query", {"type": "number"})],
            "requestBody": {"required": False, "content": {"*/*": {"schema": {}}}},
            "responses": {"200": _ok("received (or the status asked for)"), "400": ERROR, "413": ERROR}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "mock-norce control API", "version": __version__,
                 "description": "Fire Norce Commerce Events, run scenarios, read the delivery log."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "only when MOCK_NORCE_API_TOKEN is set"}},
        },
    }
