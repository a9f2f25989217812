"""The control API (JSON).

Thin views: parse and check the request (jsonio), call the core, shape the answer (views:
secrets masked). Every error is ``{"error": code, "message": text}`` (plus ``errors`` with
JSON paths where there are several), with 400/401/404/405/409/413/415/422/503, never a stack
trace. The sink's receiving end is its own Blueprint (web/sink.py), nested here.

Just over 300 lines: one thin view per operation of the OpenAPI document, so the whole API
reads in one file beside openapi.py.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from mock_norce.web import api_docs, openapi
from mock_norce.web import sink as sink_web
from mock_norce.web import conformance_api, world_api
from mock_norce.errors import ApiError, MockNorceError
from mock_norce.limits import BULK_REDELIVER_MAX, INT64_MAX, OFFSET_MAX, SEED_MAX, SEED_MIN, WAIT_MAX
from mock_norce.delivery.subscriptions import MASK, mask_url, unmask_url
from mock_norce.web.log_filters import log_filter
from mock_norce.web.views import delivery_view, run_view, schedule_view, subscription_view
from mock_norce.web.jsonio import body, error_response, error_response_for, is_api_request, number_arg

bp = Blueprint("api", __name__)
# Nested, so web/application.py registers one Blueprint; the sink keeps its own rules (its
# receiving end is open to webhook senders) and its API beside them.
bp.register_blueprint(sink_web.bp)
bp.register_blueprint(world_api.bp)
bp.register_blueprint(conformance_api.bp)
bp.register_blueprint(api_docs.bp)
log = logging.getLogger("mock_norce.web.api")
# A delivery id is an SQLite integer: a bigger number in a path is no delivery (404), not an overflow.
DELIVERY_ID = f"int(max={INT64_MAX})"


def core():
    """The parts ``mock_norce.app`` built, for the request being served (API and UI pages)."""
    return current_app.extensions["mock_norce"]


@bp.app_errorhandler(MockNorceError)
def on_error(exc: MockNorceError):
    if not is_api_request():
        return render_template("error.html", code=exc.status, message=exc.message), exc.status
    return error_response_for(exc)


@bp.app_errorhandler(HTTPException)
def on_http_error(exc: HTTPException):
    if not is_api_request():
        return exc  # the UI renders its own pages
    names = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
             415: "unsupported_media_type", 403: "forbidden"}
    message = exc.description or exc.name
    if exc.code == 413:
        message = f"request body larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes"
    response = error_response(exc.code or 500, names.get(exc.code, "http_error"), message)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # Allow on a 405
    return response


@bp.app_errorhandler(Exception)
def on_bug(exc: Exception):
    log.exception("unexpected error on %s %s", request.method, request.path)
    if is_api_request():
        return error_response(500, "internal_error", "mock-norce hit an unexpected error; see its log")
    return Response("mock-norce hit an unexpected error; see its log.", status=500, mimetype="text/plain")


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


@bp.post("/api/reset")
def reset():
    """Everything back to the boot state (the core says what that is, and in what order).
    Like the other writes without parameters, it reads no body (Content-Type: application/json)."""
    return jsonify(reset=True, deleted=core().reset())


# --- events ------------------------------------------------------------------------------

@bp.get("/api/events")
def list_events():
    return jsonify([et.summary() | {"unconfirmed": list(et.unconfirmed)} for et in core().factory.catalog])


@bp.get("/api/events/<name>/schema")
def event_schema(name):
    return jsonify(core().factory.catalog.get(name).schema)


@bp.get("/api/events/<name>/sample")
def event_sample(name):
    seed = number_arg("seed", integer=True, minimum=SEED_MIN, maximum=SEED_MAX)
    payload = core().factory.generate(name, seed=seed, market=request.args.get("market") or None)
    return jsonify(payload.body)


@bp.post("/api/events/<name>")
def fire_event(name):
    wait = number_arg("wait", minimum=0, maximum=WAIT_MAX)
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
    run = core().runs.start_run(name, seed=data.get("seed"), url=data.get("url"), time_scale=data.get("time_scale"),
                                chaos=data.get("chaos"))
    return jsonify(run_view(run)), 202


@bp.get("/api/runs")
def list_runs():
    limit = number_arg("limit", 50, minimum=1, maximum=500, integer=True)
    return jsonify([run_view(r) for r in core().runs.list(limit)])


@bp.get("/api/runs/<run_id>")
def get_run(run_id):
    wait = number_arg("wait", minimum=0, maximum=WAIT_MAX)
    if wait:
        core().runs.wait(run_id, wait)
    return jsonify(run_view(core().runs.detail(run_id)))  # with its steps and where it is


@bp.post("/api/runs/<run_id>/cancel")
def cancel_run(run_id):
    return jsonify(run_view(core().runs.cancel(run_id)))


# --- deliveries --------------------------------------------------------------------------

@bp.get("/api/deliveries")
def list_deliveries():
    limit = number_arg("limit", 50, minimum=1, maximum=500, integer=True)
    offset = number_arg("offset", 0, minimum=0, maximum=OFFSET_MAX, integer=True)
    order = request.args.get("order", "desc")
    if order not in ("desc", "asc"):
        raise ApiError(422, "bad_parameter", f"order: desc (newest first) or asc, got {order[:20]!r}",
                       [{"path": "order", "reason": "desc or asc"}])
    items, total, exact = core().outbox.store.find(log_filter(request.args), limit=limit, offset=offset, order=order)
    return jsonify(items=[delivery_view(d) for d in items], total=total, total_exact=exact, limit=limit,
                   offset=offset)


@bp.post("/api/deliveries/redeliver")
def redeliver_matching():
    """Redeliver the newest matches of the list's filters (all dead ones, say), at most
    BULK_REDELIVER_MAX a call; no filter at all is refused (that would be the whole log)."""
    body("BulkRedeliverRequest")
    f = log_filter(request.args)
    if f == type(f)():
        raise ApiError(422, "no_filter", "give at least one filter (status=dead, say): a bulk redeliver of the "
                       "whole log is refused", [{"path": "status", "reason": "at least one filter is required"}])
    new_ids, matched, exact = core().outbox.redeliver_matching(f, BULK_REDELIVER_MAX)
    return jsonify(queued=len(new_ids), matched=matched, matched_exact=exact, limit=BULK_REDELIVER_MAX,
                   ids=new_ids), 202


@bp.delete("/api/deliveries")
def clear_deliveries():
    return jsonify(deleted=core().outbox.clear())


@bp.get(f"/api/deliveries/<{DELIVERY_ID}:delivery_id>")
def get_delivery(delivery_id):
    wait = number_arg("wait", minimum=0, maximum=WAIT_MAX)
    outbox = core().outbox
    found = outbox.wait(delivery_id, wait) if wait else outbox.delivery(delivery_id)
    return jsonify(delivery_view(found) | {"redeliveries": [r["id"] for r in outbox.store.redeliveries(delivery_id)]})


@bp.post(f"/api/deliveries/<{DELIVERY_ID}:delivery_id>/redeliver")
def redeliver(delivery_id):
    data = body("RedeliverRequest")
    new_id = core().outbox.redeliver(delivery_id, url=data.get("url"))
    return jsonify(delivery_view(core().outbox.delivery(new_id))), 202


@bp.post(f"/api/deliveries/<{DELIVERY_ID}:delivery_id>/retry")
def retry_now(delivery_id):
    """The next attempt of a delivery waiting for its retry, now; 409 when it is delivered or dead."""
    core().outbox.retry_now(delivery_id)
    return jsonify(delivery_view(core().outbox.delivery(delivery_id))), 202


# --- subscriptions -----------------------------------------------------------------------

@bp.get("/api/subscriptions")
def list_subscriptions():
    subs = core().outbox.subscriptions
    return jsonify(default_url=mask_url(subs.default_url),
                   subscriptions=[subscription_view(s, subs) for s in subs.all()])


@bp.get("/api/subscriptions/default")
def get_default_subscriber():
    """Where the events of a type without its own URL go (secrets masked)."""
    return jsonify(url=mask_url(core().outbox.subscriptions.default_url))


@bp.put("/api/subscriptions/default")
def set_default_subscriber():
    """Change the default subscriber URL, checked like every subscriber URL; a reset (and a
    restart) brings back the configured one, as for the per-type subscriptions."""
    subs = core().outbox.subscriptions
    data = body("DefaultSubscriberUpdate", required=True)
    subs.set_default_url(unmask_url(data["url"], subs.default_url))
    return jsonify(url=mask_url(subs.default_url))


@bp.put("/api/subscriptions/<name>")
def update_subscription(name):
    subs = core().outbox.subscriptions
    current = subs.get(name)
    data = body("SubscriptionUpdate", required=True)
    if "headers" in data:
        # A masked value sent back unchanged (from a GET or the UI) keeps the real one.
        data["headers"] = {k: (current.headers.get(k, v) if v == MASK else v) for k, v in data["headers"].items()}
    if data.get("url"):
        data["url"] = unmask_url(data["url"], current.url)
    return jsonify(subscription_view(subs.update(name, **data), subs))


# --- the built-in sink: its API (GET/DELETE /api/sink) is web/sink.py's, beside its receiving end

# --- schedules, figures, metrics ---------------------------------------------------------

@bp.post("/api/schedules")
def create_schedule():
    data = body("ScheduleRequest", required=True)
    return jsonify(schedule_view(core().schedules.create(data))), 201


@bp.get("/api/schedules")
def list_schedules():
    return jsonify([schedule_view(s) for s in core().schedules.list()])


@bp.get("/api/schedules/<sid>")
def get_schedule(sid):
    return jsonify(schedule_view(core().schedules.view(sid)))


@bp.post("/api/schedules/<sid>/pause")
def pause_schedule(sid):
    return jsonify(schedule_view(core().schedules.pause(sid)))


@bp.post("/api/schedules/<sid>/resume")
def resume_schedule(sid):
    return jsonify(schedule_view(core().schedules.resume(sid)))


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
    """The figures and the engine's health, rendered by prometheus_client from this app's own
    registry (made at the first scrape; never the library's process-global one)."""
    from mock_norce.figures import prometheus

    registry = current_app.extensions.get("mock_norce.metrics")
    if registry is None:
        c = core()
        registry = current_app.extensions.setdefault("mock_norce.metrics",
                                                     prometheus.metrics_registry(lambda: _readings(c)))
    return Response(prometheus.render(registry), content_type=prometheus.CONTENT_TYPE)


def _readings(c):
    """What /metrics reports besides the figures, read from the core at each scrape."""
    from collections import Counter

    from mock_norce.figures.prometheus import Readings

    schedules = Counter(r["status"] for r in c.schedules.list())
    return Readings(c.schedules.figures.total, c.outbox.store.counts(), c.outbox.dispatcher.backlog(),
                    {s: schedules.get(s, 0) for s in ("active", "paused", "finished")}, c.sink.received,
                    c.problems(), dict(c.health.incidents))
