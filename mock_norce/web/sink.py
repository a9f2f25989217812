"""The built-in sink's receiving end: ``/sink/<path>``, a subscriber inside mock-norce.

Its own Blueprint because it is the one part of the app open to anyone: a webhook sender
carries neither the API token nor a CSRF token (security.py lets exactly the views marked
``open_to_senders`` through). The UI's "clear" action is a UI route, with both checks.

``?delay=`` makes a request sleep in a server thread. At most ``threads - 4`` (at least 1)
sleep at once, so delays can never take every thread; beyond that the sink answers 503
``sink_busy`` at once, and records the request with that status.
"""

from __future__ import annotations

import threading
import time

from flask import Blueprint, current_app, jsonify, request

from mock_norce.web.security import open_to_senders

bp = Blueprint("sink", __name__)
SLOTS = "mock_norce.sink_delay_slots"
THREADS_KEPT_FREE = 4


def delay_slots(threads: int) -> int:
    return max(1, threads - THREADS_KEPT_FREE)


@bp.record_once
def _make_slots(state) -> None:
    threads = state.app.extensions["mock_norce"].settings.threads
    state.app.extensions[SLOTS] = threading.BoundedSemaphore(delay_slots(threads))


@bp.route("/sink/", defaults={"path": ""}, methods=["GET", "POST", "PUT"])
@bp.route("/sink/<path:path>", methods=["GET", "POST", "PUT"])
@open_to_senders
def receive(path):
    sink = current_app.extensions["mock_norce"].sink
    status, delay, fail_rate = sink.behaviour(request.args)
    args = (path, request.query_string.decode("latin-1"), request.method, list(request.headers.items()),
            request.get_data())
    slots = current_app.extensions[SLOTS]
    if delay and not slots.acquire(blocking=False):
        record = sink.receive(*args, 503, 0.0, 0.0)
        answer = jsonify(error="sink_busy", received=record.id, status=503,
                         message="the sink is already delaying as many requests as it may "
                                 "(server threads - 4); try again or use a shorter delay")
        answer.headers["Retry-After"] = "1"
        return answer, 503
    record = sink.receive(*args, status, delay, fail_rate)
    if delay:
        try:
            time.sleep(delay)
        finally:
            slots.release()
    return jsonify(received=record.id, status=record.status), record.status
