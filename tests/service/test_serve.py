"""`mock-norce serve` as a real process: ready, delivers, keeps state on disk, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ..conftest import ROOT
from ..servers import answer, http


def test_serve_fires_to_a_subscriber_and_stops_cleanly(served, serve):
    subscriber = serve(answer(204))
    s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/hook")
    status, data = http("POST", s.url + "/api/events/OrderConfirmedEvent?wait=5", {"seed": 1})
    assert status == 200 and data["delivery"]["status"] == "delivered"
    assert json.loads(subscriber.requests[0].body) == data["payload"]
    assert subscriber.requests[0].path == "/hook"
    took = s.stop()
    assert s.proc.returncode == 0 and took < 5, s.output()
    assert "mock-norce: stopped" in s.output() and "Traceback" not in s.output()


def test_fresh_serve_delivers_to_its_own_sink(served):
    s = served()
    status, data = http("POST", s.url + "/api/events/SkuChangedNotification?wait=5", {})
    assert status == 200 and data["delivery"]["url"].endswith("/sink/default")
    assert data["delivery"]["status"] == "delivered"
    sink = http("GET", s.url + "/api/sink")[1]
    assert sink["received"] == 1 and json.loads(sink["items"][0]["body"]) == data["payload"]


def test_the_log_survives_a_restart(served, tmp_path, serve):
    subscriber = serve(answer(200))
    s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url)
    did = http("POST", s.url + "/api/events/JobCompletedEvent?wait=5", {})[1]["delivery"]["id"]
    s.stop()
    again = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url)
    status, d = http("GET", f"{again.url}/api/deliveries/{did}")
    assert status == 200 and d["status"] == "delivered"


def test_port_in_use_is_one_clear_line(served, tmp_path):
    s = served()
    port = s.url.rsplit(":", 1)[1]
    out = subprocess.run([sys.executable, "-m", "mock_norce", "serve"], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, MOCK_NORCE_PORT=port, MOCK_NORCE_DATABASE=":memory:"), timeout=30)
    assert out.returncode == 2 and "cannot listen on" in out.stderr and "Traceback" not in out.stderr


def test_a_second_process_on_the_same_database_refuses_and_says_why(served, tmp_path):
    first = served()
    out = subprocess.run([sys.executable, "-m", "mock_norce", "serve"], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, MOCK_NORCE_PORT="0", MOCK_NORCE_DATA_DIR=str(tmp_path / "data")),
                         timeout=30)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"another mock-norce process (pid {first.proc.pid})" in out.stderr
    assert http("GET", first.url + "/healthz")[0] == 200  # the first one is untouched
