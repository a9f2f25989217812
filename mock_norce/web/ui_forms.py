"""The UI's settings forms: subscriptions and schedules, on the UI's Blueprint.

Kept apart from ui.py (the pages) for size; the routes are ``ui.*`` like every other page.
Every URL and header a page shows goes through the same masking as the API (views).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from mock_norce.errors import MockNorceError, ScheduleError, SubscriptionError
from mock_norce.limits import COUNT_MAX
from mock_norce.settings import CONTENT_TYPES, POLICIES, REDIRECT_HEADER_RULES
from mock_norce.delivery.subscriptions import MASK, unmask_url
from mock_norce.web.api import core
from mock_norce.web.ui_chaos import form_chaos
from mock_norce.web.ui_shared import bp, form_number
from mock_norce.web.ui_snippets import remember_schedule
from mock_norce.web.views import schedule_view, subscription_view


@bp.get("/subscriptions")
def subscriptions():
    return _subscriptions_page(saved=request.args.get("saved"))


def _subscriptions_page(saved: str | None = None, failed: dict | None = None, status: int = 200):
    """The page; ``saved`` (a type) shows its confirmation inside its row, ``failed`` (a refused
    save) keeps that row's typed values, its message beside the field at fault (aria-invalid)
    and a line under its Save button: next to what the reader pressed, not at the top of a
    page scrolled away from it."""
    subs = core().outbox.subscriptions
    return render_template("subscriptions.html", default_url=subs.default_url, saved=saved, failed=failed or {},
                           subs=[subscription_view(s, subs) for s in subs.all()], sending=subs.sending_default,
                           choices={"policy": POLICIES, "content_type": CONTENT_TYPES,
                                    "redirect_headers": REDIRECT_HEADER_RULES}), status


@bp.post("/subscriptions/<name>")
def update_subscription(name):
    subs = core().outbox.subscriptions
    try:
        current = subs.get(name)
        headers = {}
        for line in request.form.get("headers", "").splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise SubscriptionError(f"header line {line.strip()!r} needs the form Name: value", field="headers")
            key, value = key.strip(), value.strip()
            headers[key] = current.headers.get(key, value) if value == MASK else value
        url = unmask_url(request.form.get("url", "").strip() or None, current.url)
        chaos = form_chaos(request.form.get("chaos"))
        # Only a changed chaos is set: setting it starts the type's chaos stream again from 0.
        changed = {} if chaos == (current.chaos.to_dict() if current.chaos else None) else {"chaos": chaos}
        # How its events are sent: an empty choice is the global setting; the optional fields
        # are ticked when posted, so those not ticked are the ones omitted.
        posted = set(request.form.getlist("posted"))
        subs.update(name, url=url, headers=headers,
                    enabled=bool(request.form.get("enabled")),
                    **{k: request.form.get(k) or None for k in ("policy", "content_type", "redirect_headers")},
                    omit=[f for f in subs.optional_fields(name) if f not in posted], **changed)
    except MockNorceError as exc:
        if not any(s.event_type == name for s in subs.all()):
            raise  # no such type: on_error's 404 page
        return _subscriptions_page(failed={
            "event_type": name, "field": getattr(exc, "field", None) or "headers", "message": exc.message,
            "url": request.form.get("url", ""), "headers": request.form.get("headers", ""),
            "chaos": request.form.get("chaos", ""),
            "enabled": bool(request.form.get("enabled")),
            **{k: request.form.get(k, "") for k in ("policy", "content_type", "redirect_headers")},
            "posted": request.form.getlist("posted")}, status=422)
    # The anchor scrolls to the saved row, where its confirmation is.
    return redirect(url_for("ui.subscriptions", saved=name) + f"#sub-{name}")


@bp.get("/schedules")
def schedules():
    return _schedules_page({})


def _schedules_page(form, status: int = 200, errors: dict | None = None):
    """The page; after a refused form, ``errors`` maps the field at fault to its message."""
    c = core()
    return render_template("schedules.html", schedules=[schedule_view(s) for s in c.schedules.list()],
                           types=c.factory.catalog.names(), scenarios=[s.name for s in c.library], form=form,
                           errors=errors or {}), status


def _form_float(form, key: str, field: str | None = None) -> float:
    """A number typed in the schedule form, or a ScheduleError naming its field."""
    raw = form.get(key) or "0"
    try:
        return float(raw)
    except ValueError:
        raise ScheduleError(f"{key} must be a number, got {raw!r}", field=field or key) from None


@bp.post("/schedules")
def create_schedule():
    c = core()
    form = request.form
    data: dict = {}
    try:
        if form.get("name"):
            data["name"] = form["name"].strip()
        what = form.get("what")
        if what == "event":
            data["event"] = form.get("event")
        elif what == "scenario":
            data["scenario"] = form.get("scenario")
        elif what == "mix":
            mix = {}
            for line in form.get("mix", "").splitlines():
                if line.strip():
                    name, _, weight = line.partition(":")
                    mix[name.strip()] = _form_float({"weight": weight or "1"}, "weight", field="mix")
            data["mix"] = mix
        when = form.get("when")
        if when == "rate":
            data["rate"] = _form_float(form, "rate")
            data["rate_per"] = form.get("rate_per", "second")
            if form.get("jitter"):
                data["jitter"] = form["jitter"]
        elif when in ("interval", "cron"):
            data[when] = form.get(when, "")
        for key in ("duration", "url"):
            if form.get(key):
                data[key] = form[key].strip()
        if form.get("chaos", "").strip():
            data["chaos"] = form_chaos(form["chaos"])
        if form.get("count"):
            try:
                data["count"] = form_number(form["count"], "count", 1, COUNT_MAX, integer=True)
            except MockNorceError as exc:
                raise ScheduleError(exc.message, field="count") from None
        created = c.schedules.create(data)
    except MockNorceError as exc:
        flash(f"Not created: {exc.message}", "error")
        return _schedules_page(form, 422, {exc.field: exc.message} if getattr(exc, "field", None) else {})
    remember_schedule(created["id"], data)
    flash(f"Schedule {created['id']} created.", "ok")
    return redirect(url_for("ui.schedule", sid=created["id"]))


@bp.get("/schedules/<sid>")
def schedule(sid):
    found = core().schedules.view(sid)  # a MockNorceError: on_error's page, with its status
    return render_template("schedule.html", s=schedule_view(found))


@bp.post("/schedules/<sid>/<action>")
def schedule_action(sid, action):
    service = core().schedules
    try:
        if action == "pause":
            service.pause(sid)
        elif action == "resume":
            service.resume(sid)
        elif action == "delete":
            service.delete(sid)
            flash(f"Schedule {sid} deleted.", "ok")
            return redirect(url_for("ui.schedules"))
        else:
            abort(404)
    except MockNorceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("ui.schedule", sid=sid))
