"""The web UI: server-rendered pages over the same core as the API.

Templates are ``.html`` so Jinja escapes everything (a subscriber's ``<script>`` answer is
shown as text). Forms post back here with a CSRF token; pages that change while you look
(dashboard, a run, a delivery in retry) refresh their live parts with a little plain JS.
"""

from __future__ import annotations

import json
import random
from collections import OrderedDict
from datetime import datetime, timezone

from flask import flash, redirect, render_template, request, session, url_for

from mock_norce import statuses
from mock_norce.web.api import core
from mock_norce.errors import InvalidPayload, MockNorceError, NoSubscriber, SubscriptionError
from mock_norce.catalogue.payloads import coerce
from mock_norce.scenarios.outline import outline
from mock_norce.limits import SEED_MAX, SEED_MIN, TIME_SCALE_MAX
from mock_norce.safejson import loads as safe_loads
from mock_norce.delivery.subscriptions import mask_headers, mask_url, unmask_url
from mock_norce.web.views import delivery_view, run_view, sink_view
from mock_norce.web.jsonio import error_response, is_api_request
from mock_norce.web.security import safe_next, token_matches
from mock_norce.web.ui_chaos import form_chaos
from mock_norce.web.ui_shared import bp, form_number

CATEGORY_ORDER = ("Order", "Customer", "Product", "Supplier", "System")


@bp.app_template_filter("ts")
def format_ts(value) -> str:
    if not value:
        return "–"
    return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@bp.app_template_filter("pretty")
def pretty_json(value) -> str:
    # Subscriber answers are anyone's text: parsed with the guarded parser (a 10,000-deep
    # answer is shown as text, not a RecursionError).
    try:
        return json.dumps(safe_loads(value) if isinstance(value, (str, bytes)) else value, indent=2,
                          ensure_ascii=False)
    except (MockNorceError, ValueError, RecursionError):
        return value if isinstance(value, str) else str(value)


# The same masking as the API's, for every URL and header list a template shows.
bp.add_app_template_filter(mask_url, "mask_url")
bp.add_app_template_filter(mask_headers, "mask_headers")


@bp.app_context_processor
def globals_():
    return {"statuses": statuses.STATUSES, "token_set": bool(core().settings.api_token)}


# --- pages -------------------------------------------------------------------------------

@bp.get("/")
def dashboard():
    return _dashboard_page()


def _dashboard_page(url_error: str | None = None, typed_url: str | None = None):
    store = core().outbox.store
    recent, total = store.deliveries(limit=15)
    return render_template("dashboard.html", counts=store.counts(), total=total,
                           recent=[delivery_view(d) for d in recent], health=core().outbox.subscriber_health(),
                           runs=[run_view(r) for r in core().runs.list(6)], sink_received=core().sink.received,
                           backlog=core().outbox.dispatcher.backlog(), warnings=core().warnings,
                           default_url=core().outbox.subscriptions.default_url, url_error=url_error,
                           typed_url=typed_url, saved=request.args.get("saved")), (422 if url_error else 200)


@bp.post("/default-url")
def set_default_url():
    """The dashboard's "where events go" form: PUT /api/subscriptions/default's twin."""
    subs = core().outbox.subscriptions
    typed = request.form.get("url", "").strip()
    try:
        if not typed:
            raise SubscriptionError("default subscriber URL must be a non-empty string")
        subs.set_default_url(unmask_url(typed, subs.default_url))
    except SubscriptionError as exc:
        return _dashboard_page(url_error=exc.message, typed_url=typed)
    return redirect(url_for("ui.dashboard", saved="default-url") + "#where")


# What the dashboard's one-click button fires: the event most integrations start with.
FIRST_EVENT = "OrderConfirmedEvent"


@bp.post("/fire-sample")
def fire_sample():
    """Fire one sample event (a fresh seed) to where events go now, and show its delivery."""
    c = core()
    seed = random.randrange(10**6)
    try:
        payload, did = c.outbox.fire(FIRST_EVENT, seed=seed)
    except (SubscriptionError, NoSubscriber) as exc:
        flash(f"Not sent: {exc.message}", "error")
        return redirect(url_for("ui.dashboard") + "#where")
    if did is None:
        flash(f"{FIRST_EVENT} is OFF in the subscriptions: nothing was recorded or sent (as in Norce).", "warn")
        return redirect(url_for("ui.dashboard"))
    flash(f"A sample {FIRST_EVENT} (seed {seed}) fired as delivery {did}.", "ok")
    return redirect(url_for("ui.delivery", delivery_id=did))


@bp.get("/events")
def events():
    groups: dict[str, list] = OrderedDict((c, []) for c in CATEGORY_ORDER)
    for et in core().factory.catalog:
        groups.setdefault(et.category, []).append(et)
    subs = core().outbox.subscriptions
    return render_template("events.html", groups={k: v for k, v in groups.items() if v},
                           enabled={s.event_type: s.enabled for s in subs.all()})


@bp.route("/events/<name>", methods=["GET", "POST"])
def event(name):
    c = core()
    et = c.factory.catalog.get(name)  # a MockNorceError: on_error's page, with its status
    errors: list = []
    url_errors: list = []  # the subscriber URL's own problems, shown at its field (not as schema errors)
    values: dict = {}
    if request.method == "POST":
        form = request.form
        invalid = bool(form.get("invalid"))
        try:
            overrides, omit, values = fire_request(et, form)
            payload, did = c.outbox.fire(name, overrides=overrides, omit=omit, url=form.get("url") or None,
                                         market=form.get("market") or None, allow_invalid=invalid)
        except InvalidPayload as exc:
            errors = exc.errors
        except (SubscriptionError, NoSubscriber) as exc:
            url_errors = [exc.message]
        except MockNorceError as exc:
            errors = [("$", exc.message)]
        else:
            if did is None:
                flash(f"{name} is OFF in the subscriptions: nothing was recorded or sent (as in Norce).", "warn")
                return redirect(url_for("ui.event", name=name))
            note = " (invalid on purpose: it breaks the schema)" if not payload.valid else ""
            flash(f"{name} fired as delivery {did}{note}.", "ok")
            return redirect(url_for("ui.delivery", delivery_id=did))
        sample = {f: coerce(et, f, v) for f, v in values.items() if not form.get(f"omit_{f}")}
        seed = None
    else:
        seed = form_number(request.args.get("seed"), "seed", SEED_MIN, SEED_MAX, integer=True)
        if seed is None:
            seed = random.randrange(10**6)
        sample = c.factory.generate(name, seed=seed, market=request.args.get("market") or None).body
    fields = [_field_view(et, f, sample, values, errors) for f in et.fields]
    target = c.outbox.subscriptions.get(name)
    return render_template("event.html", et=et, fields=fields, seed=seed, errors=errors, url_errors=url_errors,
                           sample=sample, markets=c.factory.tenant.markets, target=target,
                           effective_url=target.url or c.outbox.subscriptions.default_url,
                           form=request.form if request.method == "POST" else {}), \
        (422 if errors or url_errors else 200)


def fire_request(et, form) -> tuple[dict, list, dict]:
    """(overrides, omit, typed values) of the fire form: its fields, or its raw JSON body.

    In raw mode the JSON object is the body: its members are the overrides and every schema
    field it leaves out is omitted, so the payload is exactly the text (big integers too:
    Python's ints are exact). Bad JSON is a MockNorceError shown at ``$``."""
    if form.get("mode") == "raw":
        body = safe_loads(form.get("raw", ""))
        if not isinstance(body, dict):
            raise MockNorceError("the raw JSON must be an object ({...}), the bare event")
        return body, [f for f in et.fields if f not in body], {f: _as_text(body[f]) for f in et.fields if f in body}
    values = {f: form.get(f"field_{f}", "") for f in et.fields}
    omit = [f for f in et.fields if form.get(f"omit_{f}")]
    return {f: coerce(et, f, v) for f, v in values.items() if f not in omit}, omit, values


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _field_view(et, name: str, sample: dict, posted: dict, errors: list) -> dict:
    schema = et.schema["properties"].get(name, {})
    value = posted.get(name) if posted else sample.get(name, "")
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return {
        "name": name, "type": schema.get("type"), "format": schema.get("format"), "enum": schema.get("enum"),
        "required": name in et.required, "description": schema.get("description", ""),
        "value": "" if value is None else value, "absent": not posted and name not in sample,
        "unconfirmed": bool(schema.get("x-norce-unconfirmed")),
        "errors": [r for p, r in errors if p == f"$.{name}" or (p == "$" and f"'{name}'" in r)],
    }


@bp.get("/scenarios")
def scenarios():
    library = list(core().library)
    return render_template("scenarios.html", scenarios=library, problems=core().library.problems,
                           time_scale=core().outbox.time_scale, outlines={s.name: outline(s) for s in library})


@bp.post("/scenarios/<name>/run")
def run_scenario(name):
    form = request.form
    try:
        seed = form_number(form.get("seed"), "seed", SEED_MIN, SEED_MAX, integer=True)
        scale = form_number(form.get("time_scale"), "time scale", 0, TIME_SCALE_MAX)
        run = core().runs.start_run(name, seed=seed, url=form.get("url") or None, time_scale=scale,
                                    chaos=form_chaos(form.get("chaos")))
    except (ValueError, MockNorceError) as exc:
        flash(f"Could not start {name}: {getattr(exc, 'message', 'seed and time scale must be numbers')}", "error")
        return redirect(url_for("ui.scenarios"))
    return redirect(url_for("ui.run", run_id=run["id"]))


@bp.get("/runs")
def runs():
    return render_template("runs.html", runs=[run_view(r) for r in core().runs.list(100)])


@bp.get("/runs/<run_id>")
def run(run_id):
    found = core().runs.detail(run_id)  # a MockNorceError: on_error's page, with its status
    items, total = core().outbox.store.deliveries(run_id=run_id, limit=200)
    return render_template("run.html", run=run_view(found), deliveries=[delivery_view(d) for d in items], total=total)


@bp.post("/runs/<run_id>/cancel")
def cancel_run(run_id):
    try:
        core().runs.cancel(run_id)
        flash("Run cancelled; deliveries already made go on.", "ok")
    except MockNorceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("ui.run", run_id=run_id))


@bp.get("/sink")
def sink():
    return render_template("sink.html", items=[sink_view(r) for r in core().sink.recent(200)],
                           received=core().sink.received)


@bp.post("/sink-clear")  # outside /sink/, which belongs wholly to the open receiving end
def sink_clear():
    core().sink.clear()
    return redirect(url_for("ui.sink"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    token = core().settings.api_token
    error = None
    if request.method == "POST":
        if token and token_matches(request.form.get("token"), token):
            session["authed"] = True
            return redirect(safe_next(request.args.get("next")))
        error = "That is not the token."
    return render_template("login.html", error=error), (401 if error else 200)


@bp.app_errorhandler(404)
def not_found(exc):
    if is_api_request():
        return error_response(404, "not_found", "no such resource")
    return render_template("error.html", code=404, message="There is nothing here."), 404


@bp.app_errorhandler(403)
def forbidden(exc):
    if is_api_request():
        return error_response(403, "forbidden", exc.description)
    return render_template("error.html", code=403, message=exc.description), 403
