"""Endpoints built for the battery: one that passes every case, one to fail or warn each.

Each is a handler for tests/servers.py's Server (a raw-socket HTTP server on 127.0.0.1, one
thread per connection), so the battery's requests go through the real Sender over TCP.
"""

from __future__ import annotations

import json
import threading
import time

from ..servers import answer, response


def ok(req, conn):
    return response(200, b'{"ok":true}', {"Content-Type": "application/json"})


def conflict_on_duplicates():
    """409 for a body seen before at the same path: the idempotency check many receivers get wrong
    (per path: Norce sends one order's Confirmed and Delivered with the same body, to two URLs)."""
    seen: set[tuple[str, bytes]] = set()
    lock = threading.Lock()

    def handle(req, conn):
        with lock:
            dup = (req.path, req.body) in seen
            seen.add((req.path, req.body))
        return response(409, b'{"error":"duplicate"}') if dup else response(200)
    return handle


def rejects_big_ids(req, conn):
    """400 for an OrderId a double cannot hold (a JavaScript or JSON-as-double parser)."""
    data = json.loads(req.body)
    order_id = data.get("OrderId") if isinstance(data, dict) else None
    return response(400, b"OrderId out of range") if isinstance(order_id, int) and order_id > 2**53 else response(200)


def rejects_non_ascii(req, conn):
    """500 for any byte past ASCII (a receiver decoding Latin-1 or ASCII)."""
    return response(500, b"UnicodeDecodeError") if any(b > 127 for b in req.body) else response(200)


def needs_every_field(req, conn):
    """422 when an OrderConfirmedEvent has no FirstName (a receiver that takes optional fields for granted)."""
    data = json.loads(req.body)
    if "OrderNo" in data and "FirstName" not in data:
        return response(422, b'{"error":"FirstName is required"}')
    return response(200)


def one_at_a_time():
    """503 while another request is in flight: a receiver that fails under concurrency."""
    busy = [0]
    lock = threading.Lock()

    def handle(req, conn):
        with lock:
            busy[0] += 1
            crowded = busy[0] > 1
        try:
            time.sleep(0.3)  # long enough for the burst's requests to overlap
            return response(503, b"busy") if crowded else response(200)
        finally:
            with lock:
                busy[0] -= 1
    return handle


def first_slow(seconds: float):
    """The first request answered after `seconds`, the rest at once."""
    first = threading.Event()

    def handle(req, conn):
        if not first.is_set():
            first.set()
            time.sleep(seconds)
        return response(200)
    return handle


def redirect(status: int, to: str = "/final"):
    """`status` to `to` for /hook; `to` answers 200 to anything (GET included)."""
    def handle(req, conn):
        if req.path.startswith("/hook"):
            return response(status, b"", {"Location": to})
        if req.path.startswith("/final"):
            return response(200)
        return response(404, b"no such path")
    return handle


__all__ = ["answer", "conflict_on_duplicates", "first_slow", "needs_every_field", "ok", "one_at_a_time",
           "redirect", "rejects_big_ids", "rejects_non_ascii"]
