"""kill -9 a process with hundreds of deliveries in flight, restart it: nothing is lost."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from ..conftest import DATA, ROOT
from ..servers import Server, response

COUNT = 400


def start_child(db: str, url: str, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(DATA / "outbox_child.py"), db, url, str(count)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)


def unfinished(db: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM deliveries WHERE due IS NOT NULL").fetchone()[0]


def test_sigkill_loses_nothing(tmp_path):
    rng = random.Random(1)
    lock = threading.Lock()
    healthy = {"on": False}

    def flaky(req, conn):
        time.sleep(0.002)
        with lock:
            ok = healthy["on"] or rng.random() < 0.5
        return response(200 if ok else 503)
    server = Server(flaky)
    db = str(tmp_path / "crash.db")
    try:
        child = start_child(db, server.url, COUNT)
        assert child.stdout.readline().startswith("resumed 0")
        assert child.stdout.readline().strip() == "emitted"
        time.sleep(0.3)  # let it deliver some, retry some, hold some in flight
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        assert child.returncode == -signal.SIGKILL
        left = unfinished(db)
        assert 0 < left < COUNT, f"the kill should land mid-way; {left} unfinished"

        healthy["on"] = True
        child = start_child(db, server.url, 0)
        assert child.stdout.readline().strip() == f"resumed {left}"
        deadline = time.time() + 60
        while unfinished(db) and time.time() < deadline:
            time.sleep(0.1)
        child.send_signal(signal.SIGTERM)
        child.kill()
        child.wait(10)

        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            statuses = dict(conn.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall())
            stored = conn.execute("SELECT count(DISTINCT body) FROM deliveries").fetchone()[0]
        assert stored == COUNT
        assert statuses == {"delivered": COUNT}, statuses
        received = {json.loads(r.body)["OrderNo"] for r in server.requests if r.body}
        assert received >= {f"C{i}" for i in range(COUNT)}  # every event arrived at least once
    finally:
        server.close()
