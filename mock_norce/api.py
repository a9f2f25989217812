"""The control API (JSON) and the built-in sink's receiving end.

Thin views: parse and check the request, call the core, shape the answer. Every error is
``{"error": code, "message": text}`` (plus ``errors`` with JSON paths where there are
several), with 400/404/409/413/415/422, never a stack trace.
"""

from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from jsonschema import Draft202012Validator
from werkzeug.exceptions import HTTPException

from . import openapi
from .errors import InvalidPayload, MockNorceError
from .subscriptions import MASK, is_secret, mask_headers, mask_url

bp = Blueprint("api", __name__)
log = logging.getLogger("mock_norce.api")

STATUS_OF_CODE = {
    "unknown_event_type": 404, "unknown_scenario": 404, "not_found": 404,
    "conflict": 409, "bad_parameter": 400, "bad_request": 400, "locked": 409,
    "storage_unavailable": 503,
}
_REQUEST_VALIDATORS = {name: Draft202012Validator(schema) for name, schema in openapi.REQUESTS.items()}
MAX_WAIT = 300.0


class ApiError(MockNorceError):
    def __init__(self, status: int, code: str, message: str, errors: list | None = None):
        super().__init__(message)
        self.status, self.code, self.errors = status, code, errors


def core():
    return current_app.extensions["mock_norce"]


def error_response(status: int, code: str, message: str, errors: list | None = None) -> Response:
    body = {"error": code, "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


def is_api_request() -> bool:
    return request.path.startswith("/api/") or request.path in ("/openapi.json", "/healthz") \
        or request.path.startswith("/sink/")


@bp.app_errorhandler(MockNorceError)
def on_error(exc: MockNorceError):
    if not is_api_request():
        status = STATUS_OF_CODE.get(exc.code, 422)
        return render_template("error.html", code=status, message=exc.message), status
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.errors)
    if isinstance(exc, InvalidPayload):
        return error_response(422, exc.code, exc.message, [{"path": p, "reason": r} for p, r in exc.errors])
    return error_response(STATUS_OF_CODE.get(exc.code, 422), exc.code, exc.message)


@bp.app_errorhandler(HTTPException)
def on_http_error(exc: HTTPException):
    if not is_api_request():
        return exc  # the UI renders its own pages
    names = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
             415: "unsupported_media_type", 403: "forbidden"}
    message = exc.description or exc.name
    if exc.code == 413:
        message = f"request body larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes"
    return error_response(exc.code or 500, names.get(exc.code, "http_error"), message)


@bp.app_errorhandler(Exception)
def on_bug(exc: Exception):
    log.exception("unexpected error on %s %s", request.method, request.path)
    if is_api_request():
        return error_response(500, "internal_error", "mock-norce hit an unexpected error; see its log")
    return Response("mock-norce hit an unexpected error; see its log.", status=500, mimetype="text/plain")


# --- request helpers ---------------------------------------------------------------------

def body(schema_name: str, required: bool = False) -> dict:
    """The JSON object of the request, checked against a published request schema."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ApiError(400, "bad_request", "a JSON body is required")
        return {}
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type",
                       f"send the body as application/json (got {request.mimetype or 'no content type'})")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    problems = sorted(_REQUEST_VALIDATORS[schema_name].iter_errors(data), key=lambda e: list(map(str, e.path)))
    if problems:
        errors = [{"path": "$" + "".join(f".{p}" for p in e.absolute_path), "reason": e.message} for e in problems]
        raise ApiError(400, "bad_request", "; ".join(f"{e['path']}: {e['reason']}" for e in errors), errors)
    return data


def number_arg(name: str, default=None, *, minimum: float = 0, maximum: float | None = None, integer=False):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be {'an integer' if integer else 'a number'}, got {raw!r}") from None
    if value != value or value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum:g} and {maximum:g}" if maximum is not None else f">= {minimum:g}"
        raise ApiError(400, "bad_parameter", f"{name} must be {bounds}")
    return value


def delivery_view(d: dict) -> dict:
    """A delivery fit to show: secret header values and URL passwords masked, body parsed."""
    out = dict(d)
    out["headers"] = mask_headers(d["headers"])
    out["url"] = mask_url(d["url"])
    try:
        out["payload"] = json.loads(d["body"])
    except ValueError:
        out["payload"] = None
    for attempt in out.get("attempt_log", ()):
        attempt["url"] = mask_url(attempt["url"])
        for hop in attempt["hops"]:
            hop["url"] = mask_url(hop["url"])
    return out


# --- health and document -----------------------------------------------------------------

@bp.get("/healthz")
def healthz():
    """ok means delivering, not only "the web server answers": a part that is down is named."""
    if not core().ready.is_set():
        return error_response(503, "starting", "mock-norce is starting or stopping")
    down = core().problems()
    if down:
        message = "; ".join(f"{part}: {why}" for part, why in down.items())
        return jsonify(error="unhealthy", message=message, parts=down), 503
    return jsonify(status="ok")


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


# --- events ------------------------------------------------------------------------------

@bp.get("/api/events")
def list_events():
    return jsonify([et.summary() | {"unconfirmed": list(et.unconfirmed)} for et in core().factory.catalog])


@bp.get("/api/events/<name>/schema")
def event_schema(name):
    return jsonify(core().factory.catalog.get(name).schema)


@bp.get("/api/events/<name>/sample")
def event_sample(name):
    seed = number_arg("seed", integer=True, minimum=-(2**63))
    payload = core().factory.generate(name, seed=seed, market=request.args.get("market") or None)
    return jsonify(payload.body)


@bp.post("/api/events/<name>")
def fire_event(name):
    wait = number_arg("wait", maximum=MAX_WAIT)
    core().factory.catalog.get(name)  # 404 before looking at the body
    data = body("FireRequest")
    payload, did = core().outbox.fire(
        name, overrides=data.get("overrides"), omit=data.get("omit", ()), seed=data.get("seed"),
        market=data.get("market"), url=data.get("url"), allow_invalid=data.get("invalid", False))
    answer = {"event_type": name, "payload": payload.body, "valid": payload.valid}
    if not payload.valid:
        answer["errors"] = [{"path": p, "reason": r} for p, r in payload.errors]
    if did is None:
        answer.update(recorded=False, delivery=None,
                      message=f"{name} is OFF in the subscriptions: not recorded or sent, as in Norce")
        return jsonify(answer), 200
    delivery = core().outbox.wait(did, wait) if wait else core().outbox.delivery(did)
    answer.update(recorded=True, delivery=delivery_view(delivery))
    return jsonify(answer), (200 if delivery["status"] in ("delivered", "dead") else 202)


# --- scenarios and runs ------------------------------------------------------------------

@bp.get("/api/scenarios")
def list_scenarios():
    return jsonify([s.summary() for s in core().library])


@bp.get("/api/scenarios/<name>")
def get_scenario(name):
    return jsonify(core().library.get(name).summary())


@bp.post("/api/scenarios/<name>/runs")
def start_run(name):
    core().library.get(name)
    data = body("RunRequest")
    run = core().runs.start_run(name, seed=data.get("seed"), url=data.get("url"), time_scale=data.get("time_scale"))
    return jsonify(run), 202


@bp.get("/api/runs")
def list_runs():
    return jsonify(core().runs.list(number_arg("limit", 50, minimum=1, maximum=500, integer=True)))


@bp.get("/api/runs/<run_id>")
def get_run(run_id):
    wait = number_arg("wait", maximum=MAX_WAIT)
    return jsonify(core().runs.wait(run_id, wait) if wait else core().runs.get(run_id))


@bp.post("/api/runs/<run_id>/cancel")
def cancel_run(run_id):
    return jsonify(core().runs.cancel(run_id))


# --- deliveries --------------------------------------------------------------------------

@bp.get("/api/deliveries")
def list_deliveries():
    status = request.args.get("status") or None
    if status and status not in ("pending", "retrying", "delivered", "dead"):
        raise ApiError(400, "bad_parameter", f"status must be pending, retrying, delivered or dead, got {status!r}")
    limit = number_arg("limit", 50, minimum=1, maximum=500, integer=True)
    offset = number_arg("offset", 0, minimum=0, integer=True)
    items, total = core().outbox.store.deliveries(event_type=request.args.get("type") or None, status=status,
                                                  run_id=request.args.get("run") or None, limit=limit, offset=offset)
    return jsonify(items=[delivery_view(d) for d in items], total=total, limit=limit, offset=offset)


@bp.delete("/api/deliveries")
def clear_deliveries():
    return jsonify(deleted=core().outbox.clear())


@bp.get("/api/deliveries/<int:delivery_id>")
def get_delivery(delivery_id):
    wait = number_arg("wait", maximum=MAX_WAIT)
    outbox = core().outbox
    return jsonify(delivery_view(outbox.wait(delivery_id, wait) if wait else outbox.delivery(delivery_id)))


@bp.post("/api/deliveries/<int:delivery_id>/redeliver")
def redeliver(delivery_id):
    new_id = core().outbox.redeliver(delivery_id)
    return jsonify(delivery_view(core().outbox.delivery(new_id))), 202


# --- subscriptions -----------------------------------------------------------------------

def subscription_view(sub) -> dict:
    subs = core().outbox.subscriptions
    effective = sub.url or subs.default_url
    return {"event_type": sub.event_type, "url": mask_url(sub.url) if sub.url else None,
            "effective_url": mask_url(effective) if effective else None,
            "headers": mask_headers(sub.headers), "enabled": sub.enabled}


@bp.get("/api/subscriptions")
def list_subscriptions():
    subs = core().outbox.subscriptions
    return jsonify(default_url=mask_url(subs.default_url) if subs.default_url else None,
                   subscriptions=[subscription_view(s) for s in subs.all()])


@bp.put("/api/subscriptions/<name>")
def update_subscription(name):
    subs = core().outbox.subscriptions
    current = subs.get(name)
    data = body("SubscriptionUpdate", required=True)
    if "headers" in data:
        # A masked value sent back unchanged (from a GET or the UI) keeps the real one.
        data["headers"] = {k: (current.headers.get(k, v) if v == MASK else v) for k, v in data["headers"].items()}
    return jsonify(subscription_view(subs.update(name, **data)))


# --- the built-in sink -------------------------------------------------------------------

@bp.route("/sink/", defaults={"path": ""}, methods=["GET", "POST", "PUT"])
@bp.route("/sink/<path:path>", methods=["GET", "POST", "PUT"])
def sink_receive(path):
    sink = core().sink
    status, delay, fail_rate = sink.behaviour(request.args)
    record = sink.receive(path, request.query_string.decode("latin-1"), request.method,
                          list(request.headers.items()), request.get_data(), status, delay, fail_rate)
    if delay:
        time.sleep(delay)
    return jsonify(received=record.id, status=record.status), record.status


@bp.get("/api/sink")
def sink_requests():
    limit = number_arg("limit", 100, minimum=1, maximum=1000, integer=True)
    items = core().sink.recent(limit, request.args.get("path") or None)
    return jsonify(received=core().sink.received, items=[sink_view(r) for r in items])


def sink_view(record) -> dict:
    out = record.to_dict()
    out["headers"] = [[k, MASK if is_secret(k) else v] for k, v in record.headers]
    return out


@bp.delete("/api/sink")
def sink_clear():
    return jsonify(deleted=core().sink.clear())


# --- schedules, figures, metrics ---------------------------------------------------------

@bp.post("/api/schedules")
def create_schedule():
    data = body("ScheduleRequest", required=True)
    return jsonify(core().schedules.create(data)), 201


@bp.get("/api/schedules")
def list_schedules():
    return jsonify(core().schedules.list())


@bp.get("/api/schedules/<sid>")
def get_schedule(sid):
    return jsonify(core().schedules.view(sid))


@bp.post("/api/schedules/<sid>/pause")
def pause_schedule(sid):
    return jsonify(core().schedules.pause(sid))


@bp.post("/api/schedules/<sid>/resume")
def resume_schedule(sid):
    return jsonify(core().schedules.resume(sid))


@bp.delete("/api/schedules/<sid>")
def delete_schedule(sid):
    core().schedules.delete(sid)
    return jsonify(deleted=sid)


@bp.get("/api/schedules/<sid>/figures")
def schedule_figures(sid):
    core().schedules.get(sid)
    figures = core().schedules.figures[sid]
    return jsonify(summary=figures.summary(), points=figures.points())


@bp.get("/api/schedules/<sid>/figures.csv")
def schedule_figures_csv(sid):
    core().schedules.get(sid)
    return Response(core().schedules.figures[sid].csv(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="mock-norce-{sid}.csv"'})


@bp.get("/api/stats")
def stats():
    c = core()
    return jsonify(figures=c.schedules.figures.total.summary(), points=c.schedules.figures.total.points(),
                   deliveries=c.outbox.store.counts(), backlog=c.outbox.dispatcher.backlog())


@bp.get("/metrics")
def metrics():
    from collections import Counter

    from .metrics import exposition

    c = core()
    schedules = Counter(r["status"] for r in c.schedules.list())
    text = exposition(c.schedules.figures.total, c.outbox.store.counts(), c.outbox.dispatcher.backlog(),
                      {s: schedules.get(s, 0) for s in ("active", "paused", "finished")}, c.sink.received)
    return Response(text, mimetype="text/plain", headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
