"""The built-in sink's web part: its receiving end ``/sink/<path>`` (a subscriber inside
mock-norce) and its API, ``GET``/``DELETE /api/sink``.

Its own Blueprint because the receiving end is the one part of the app open to anyone: a
webhook sender carries neither the API token nor a CSRF token (security.py lets exactly the
views marked ``open_to_senders`` through); the API views are not marked, so they want the
token like the rest of the API. The UI's "clear" action is a UI route, with both checks.

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

from mock_norce.errors import ApiError
from mock_norce.limits import WAIT_MAX
from mock_norce.web.jsonio import number_arg
from mock_norce.web.security import open_to_senders
from mock_norce.web.views import sink_view

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


@bp.get("/api/sink")
def sink_requests():
    """Without ``count``: the latest requests, newest first (as always). With ``count``: the
    matching requests oldest first, the order they arrived in, so a test reads its events in
    the order it fired them; with ``wait`` too, once that many have arrived (or at the timeout)."""
    sink = current_app.extensions["mock_norce"].sink
    limit = number_arg("limit", 100, minimum=1, maximum=1000, integer=True)
    path = request.args.get("path") or None
    wait = number_arg("wait", 0, minimum=0, maximum=WAIT_MAX)
    if "count" in request.args and sink.keep == 0:
        raise ApiError(422, "out_of_range", "count: the sink keeps no requests (MOCK_NORCE_SINK_KEEP=0), "
                                            "so it cannot wait for any")
    count = number_arg("count", None, minimum=1, maximum=max(1, sink.keep), integer=True)
    needed = count if count is not None else (1 if wait else 0)  # ?wait= alone waits for one
    if wait and not sink.wait(needed, path, 0):
        busy = sleep_in_thread(lambda: sink.wait(needed, path, wait))
        if busy is not None:
            return busy
    found = sink.matching(path)
    items = found[:limit] if count is not None else found[::-1][:limit]
    return jsonify(received=sink.received, matched=len(found), complete=len(found) >= needed,
                   items=[sink_view(r) for r in items])


@bp.delete("/api/sink")
def sink_clear():
    return jsonify(deleted=current_app.extensions["mock_norce"].sink.clear())
