"""The UI's pages about what was received: the detail of one request the built-in sink kept,
with the delivery attempt that sent it.

mock-norce sends Norce's wire format (no delivery id in a header), so the sender is found
the way a person would: the attempt whose delivery has exactly these body bytes and that
started shortly before the request arrived (within the POST timeout), one to this sink path
first. A request from anything else (curl, another sender) has none, and the page says so.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, render_template

from mock_norce.web.api import core
from mock_norce.web.ui_shared import bp
from mock_norce.web.views import sink_view


@bp.get("/sink-requests/<int:rid>")  # outside /sink/, which belongs wholly to the receiving end
def sink_request(rid):
    record = core().sink.get(rid)
    if record is None:
        abort(404)
    return render_template("sink_request.html", r=sink_view(record), sender=sender_of(record))


def sender_of(record) -> dict | None:
    """The attempt that sent this sink request (delivery_id, number, started, url), or None."""
    timeout = core().settings.timeout
    found = core().outbox.store.attempts_sending(record.body.encode("utf-8"), record.received - timeout - 1.0,
                                                 record.received + 1.0)
    if not found:
        return None
    path = "/sink/" + record.path
    # The same body can be sent twice (a retry, a redelivery): this path first, then the
    # attempt that started closest to the arrival.
    # The path compared whole: /sink/a must not take an attempt to /sink/ab for its own.
    return min(found, key=lambda a: (urlsplit(a["url"]).path != path, abs(record.received - a["started"])))
