"""The UI's delivery log and delivery pages, and what can be done from them: redeliver (also to
another URL), retry now, bulk redeliver of a filtered set.

The list reads the same filters as ``GET /api/deliveries`` (log_filters.py); a delivery's page
shows "attempt n of N" from the policy it was created under (17 current, 10 legacy), a countdown to the next attempt (app.js, from its
time in a data attribute), its redeliveries or its original, and the same POST as a curl
command with the page's masking.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import abort, flash, redirect, render_template, request, url_for

from mock_norce.delivery import policy
from mock_norce.errors import MockNorceError
from mock_norce.limits import BULK_REDELIVER_MAX, LOG_PAGE, PAGE_MAX, SEARCH_MAX
from mock_norce.web.api import DELIVERY_ID, core
from mock_norce.web.delivery_curl import curl_command, has_masked
from mock_norce.web.log_filters import ERROR_CLASSES, as_args, log_filter
from mock_norce.web.ui_shared import bp, form_number
from mock_norce.web.views import delivery_view

PER_PAGE = LOG_PAGE


@bp.get("/deliveries")
def deliveries():
    args = request.args
    page = form_number(args.get("page"), "page", 1, PAGE_MAX, integer=True) or 1
    order = "asc" if args.get("order") == "asc" else "desc"
    try:
        f = log_filter(args)
    except MockNorceError as exc:
        # A filter that cannot be used is said next to the form, the rest of the page as usual.
        return render_template("deliveries.html", items=[], total=0, exact=True, page=1, pages=1, order=order,
                               types=core().factory.catalog.names(), error_classes=ERROR_CLASSES,
                               filters=dict(args.items()), filtered=True, problem=exc.message,
                               bulk_max=BULK_REDELIVER_MAX, per_page=PER_PAGE, search_max=SEARCH_MAX), 422
    items, total, exact = core().outbox.store.find(f, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, order=order)
    pages = max(1, -(-total // PER_PAGE))
    filters = as_args(f)
    # The form shows what was typed (a time as entered), the links carry the filter as understood.
    shown = {k: args.get(k, "") for k in ("type", "status", "run", "q", "code", "error", "since", "until", "chaos")}
    return render_template("deliveries.html", items=[delivery_view(d) for d in items], total=total, exact=exact,
                           page=page, pages=pages, order=order, types=core().factory.catalog.names(),
                           error_classes=ERROR_CLASSES, filters=filters, form=shown, filtered=bool(filters),
                           problem=None, bulk_max=BULK_REDELIVER_MAX, per_page=PER_PAGE, search_max=SEARCH_MAX)


@bp.post("/deliveries/redeliver")
def redeliver_matching():
    """The bulk redeliver of the list's filtered set (the form carries the filters)."""
    try:
        f = log_filter(request.form)
    except MockNorceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("ui.deliveries"))
    back = url_for("ui.deliveries", **as_args(f))
    if f == type(f)():
        flash("Filter the log first (say, status dead): a bulk redeliver of the whole log is refused.", "error")
        return redirect(back)
    new_ids, matched, exact = core().outbox.redeliver_matching(f, BULK_REDELIVER_MAX)
    more = "" if exact else "more than "
    flash(f"Queued {len(new_ids)} redeliveries of the {more}{matched} matching deliveries"
          + (f" (the newest {BULK_REDELIVER_MAX}: at most that many a time)." if len(new_ids) < matched or not exact
             else "."), "ok")
    return redirect(back)


@bp.get(f"/deliveries/<{DELIVERY_ID}:delivery_id>")
def delivery(delivery_id):
    store = core().outbox.store
    found = store.delivery(delivery_id)
    if found is None:
        abort(404)
    d = delivery_view(found)
    user_agent = core().outbox.dispatcher.sender.user_agent
    return render_template("delivery.html", d=d, user_agent=user_agent, max_attempts=policy.named(d["policy"]).max_attempts,
                           now=core().outbox.clock(), redeliveries=store.redeliveries(delivery_id),
                           curl=curl_command(d, user_agent), curl_masked=has_masked(d),
                           entities=[(link, _entity_now(link)) for link in d["entities"]])


def _entity_now(link: dict):
    """The entity behind one of an event's ids as the Query API answers now (None: not there).

    Read in-process: the page shows it without Norce's token dance; the path is shown beside
    it for the subscriber's own code."""
    path, _, query = link["href"].partition("?")
    try:
        if link["kind"] == "job":
            return core().world.job(int(query.rpartition("=")[2]))
        _, _, _, version, namespace, resource = path.split("/", 5)
        args = dict(parse_qsl(query, keep_blank_values=True))
        return core().query.handle(version, namespace, resource, args, request.host_url.rstrip("/") + path)
    except (MockNorceError, ValueError):
        return None


@bp.post(f"/deliveries/<{DELIVERY_ID}:delivery_id>/redeliver")
def redeliver(delivery_id):
    url = (request.form.get("url") or "").strip() or None
    try:
        new_id = core().outbox.redeliver(delivery_id, url=url)
    except MockNorceError as exc:
        if exc.status == 404:
            raise  # on_error's page, with its status
        flash(f"Not redelivered: {exc.message}", "error")
        return redirect(url_for("ui.delivery", delivery_id=delivery_id))
    flash(f"Redelivering delivery {delivery_id} as delivery {new_id}" + (" to another URL." if url else "."), "ok")
    return redirect(url_for("ui.delivery", delivery_id=new_id))


@bp.post(f"/deliveries/<{DELIVERY_ID}:delivery_id>/retry")
def retry_now(delivery_id):
    try:
        core().outbox.retry_now(delivery_id)
    except MockNorceError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        flash(f"Retrying delivery {delivery_id} now.", "ok")
    return redirect(url_for("ui.delivery", delivery_id=delivery_id))
