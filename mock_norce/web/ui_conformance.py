"""The UI's conformance page: a form (URL, types, static headers), then the report as HTML.

The battery runs in the POST (it is bounded, see web/conformance_api.py) and the browser is
sent on to the report's own page (``/conformance/<id>``, one of the last 20), so a reload does
not run it again. A refused field is marked where it is (aria-invalid) with what was typed kept.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from mock_norce.delivery.subscriptions import mask_url, unmask_url
from mock_norce.errors import ConformanceError
from mock_norce.web.api import core
from mock_norce.web.conformance_api import run_battery
from mock_norce.web.ui_shared import bp


def _page(form: dict | None = None, errors: dict | None = None, status: int = 200):
    c = core()
    enabled = [s.event_type for s in c.outbox.subscriptions.all() if s.enabled]
    # Shown masked, as on every page; sent back unchanged, the real URL is used (run_conformance).
    form = form or {"url": mask_url(c.outbox.subscriptions.default_url) or "", "types": enabled, "headers": ""}
    return render_template("conformance.html", form=form, errors=errors or {}, types=c.factory.catalog.names(),
                           reports=c.reports.newest(), budget=c.settings.timeout), status


@bp.get("/conformance")
def conformance():
    return _page()


@bp.post("/conformance")
def run_conformance():
    form = {"url": request.form.get("url", "").strip(), "types": request.form.getlist("types"),
            "headers": request.form.get("headers", "")}
    try:
        headers = {}
        for line in form["headers"].splitlines():
            if line.strip():
                name, sep, value = line.partition(":")
                if not sep:
                    raise ConformanceError(f"header line {line.strip()[:60]!r} needs the form Name: value", "headers")
                headers[name.strip()] = value.strip()
        if not form["types"]:
            raise ConformanceError("choose at least one event type", "types")
        report = run_battery(unmask_url(form["url"], core().outbox.subscriptions.default_url), form["types"], headers)
    except ConformanceError as exc:
        return _page(form, {exc.field: exc.message}, 422)
    return redirect(url_for("ui.conformance_report", report_id=report.id))


@bp.get("/conformance/<report_id>")
def conformance_report(report_id):
    report = core().reports.get(report_id)
    if report is None:
        abort(404)
    return render_template("conformance_report.html", r=report.to_dict())
