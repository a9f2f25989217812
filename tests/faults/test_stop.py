"""Stopping under load: SIGTERM is orderly and quick, kill -9 loses nothing committed.

A rate schedule feeds a real `mock-norce serve` while a local subscriber answers; the
process is stopped mid-stream, started again on the same database, and every delivery in
the log must reach the subscriber (at least once) and end delivered.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time

import pytest

from ..servers import http, response
from .test_engine import wait_for


def unfinished(db: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM deliveries WHERE due IS NOT NULL").fetchone()[0]


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_stop_under_load_loses_nothing(how, served, serve, tmp_path):
    lock = threading.Lock()
    received: set[int] = set()

    def subscriber(req, conn):
        time.sleep(0.001)
        with lock:
            received.add(json.loads(req.body)["OrderId"])
        return response(200)
    sub = serve(subscriber)
    db = str(tmp_path / "data" / "mock-norce.db")
    s = served(MOCK_NORCE_SUBSCRIBER_URL=sub.url)
    status, schedule = http("POST", s.url + "/api/schedules",
                            {"event": "OrderConfirmedEvent", "rate": 800, "duration": "60s", "seed": 3})
    assert status == 201
    wait_for(lambda: len(received) > 500, 20)
    if how == "sigterm":
        took = s.stop()
        assert s.proc.returncode == 0 and took < 5, (took, s.output()[-2000:])
        assert "Traceback" not in s.output()
    else:
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait(10)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        logged = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    assert logged > 500

    again = served(MOCK_NORCE_SUBSCRIBER_URL=sub.url)
    assert http("DELETE", f"{again.url}/api/schedules/{schedule['id']}")[0] == 200
    wait_for(lambda: unfinished(db) == 0, 30)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, body FROM deliveries").fetchall()
    assert {status for status, _ in rows} == {"delivered"}
    with lock:
        missing = {json.loads(body)["OrderId"] for _, body in rows} - received
    assert not missing, f"{len(missing)} logged deliveries never reached the subscriber"
