"""The built-in sink's receiving end: ``/sink/<path>``, a subscriber inside mock-norce.

Its own Blueprint because it is the one part of the app open to anyone: a webhook sender
carries neither the API token nor a CSRF token (security.py lets exactly the views marked
``open_to_senders`` through). The UI's "clear" action is a UI route, with both checks.

``?delay=`` makes a request sleep in a server thread, and so does a reader waiting for
requests (``GET /api/sink?wait=``). At most ``threads - 4`` (at least 1) sleep at once, delays
and waiting readers together, so they can never take every thread: the sink they wait for
and the rest of the API always have threads left. Beyond that a delayed request is answered
503 ``sink_busy`` at once (and recorded with that status), and so is a waiting reader.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

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


def sleep_in_thread(sleep: Callable[[], object]):
    """Run `sleep` (a wait of a reader) in one of the sleeping slots; None when it ran, or the
    503 ``sink_busy`` answer when every slot is taken."""
    slots = current_app.extensions[SLOTS]
    if not slots.acquire(blocking=False):
        answer = jsonify(error="sink_busy", message="too many requests are delayed by the sink or waiting for "
                                                    "it at once (server threads - 4); try again")
        answer.status_code = 503
        answer.headers["Retry-After"] = "1"
        return answer
    try:
        sleep()
    finally:
        slots.release()
    return None


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
