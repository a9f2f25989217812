"""The control API's conformance part: run the battery against a URL, read a report again.

Nested in the API Blueprint (web/api.py), so its errors have the API's JSON shape. The
battery runs in the request (it is bounded: about 50 requests, each within the 5 s budget,
the cases side by side up to the configured concurrency); its report is kept among the last
20 for ``GET /api/conformance/{id}`` and the UI.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from mock_norce.conformance.render import junit
from mock_norce.errors import ApiError, ConformanceError
from mock_norce.web.jsonio import body

bp = Blueprint("conformance_api", __name__)


def _core():
    return current_app.extensions["mock_norce"]


def run_battery(url, types=None, headers=None, verify=None, seed=None, content_type=None, redirect_headers=None,
                policy=None):
    """Plan (the enabled subscriptions by default), run and keep a report; ConformanceError names the field."""
    c = _core()
    enabled = [s.event_type for s in c.outbox.subscriptions.all() if s.enabled]
    plan = c.battery.plan(url, types, headers, verify, seed, default_types=enabled, content_type=content_type,
                          redirect_headers=redirect_headers, policy=policy)
    report = c.battery.run(plan)
    c.reports.add(report)
    return report


@bp.post("/api/conformance")
def run_conformance():
    data = body("ConformanceRequest", required=True)
    try:
        report = run_battery(data.get("url"), data.get("types"), data.get("headers"), data.get("verify"),
                             data.get("seed"), data.get("content_type"), data.get("redirect_headers"),
                             data.get("policy"))
    except ConformanceError as exc:
        raise ApiError(422, exc.code, f"{exc.field}: {exc.message}",
                       [{"path": f"$.{exc.field}", "reason": exc.message}]) from None
    return jsonify(report.to_dict()), 201


@bp.get("/api/conformance/<id>")
def get_conformance(id):  # noqa: A002 - the path parameter the OpenAPI document names
    report = _core().reports.get(id)
    if report is None:
        raise ApiError(404, "not_found", f"no conformance report {id[:40]!r} (the last 20 are kept, "
                       "until a restart)")
    fmt = request.args.get("format", "json")
    if fmt == "junit":
        return Response(junit(report), mimetype="application/xml")
    if fmt != "json":
        raise ApiError(422, "bad_parameter", f"format: json or junit, got {fmt[:20]!r}",
                       [{"path": "format", "reason": "json or junit"}])
    return jsonify(report.to_dict())
