"""`mock-norce serve` as a real process: ready, delivers, keeps state on disk, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

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


def serve_once(env: dict, as_user: int | None = None) -> subprocess.CompletedProcess:
    """`mock-norce serve` on a free port until it exits (it should, at start); as `as_user`
    (uid = gid) via setpriv when given: the tests run as root, whom permissions do not stop."""
    cmd = [sys.executable, "-m", "mock_norce", "serve"]
    if as_user is not None:
        cmd = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, MOCK_NORCE_PORT="0", **env))


def assert_one_line(out: subprocess.CompletedProcess, *fragments: str) -> None:
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mock-norce: error: "), out.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def other_user():
    """A uid without root's powers to run as: this one if not root, else nobody via setpriv.

    Nobody must be able to reach the checkout and its venv to import mock-norce: a clone in a
    directory made by ``mktemp -d`` (mode 700, as CI's may be) is not. For the test, every
    directory above them gets o+x (enter, not list), and its own mode back afterwards.
    """
    if os.getuid() != 0:
        yield None
        return
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot run the server as another user")
    changed = []
    for top in {ROOT, Path(sys.prefix)}:
        for directory in (top, *top.parents):
            mode = directory.stat().st_mode
            if not mode & 0o001:
                directory.chmod(mode | 0o001)
                changed.append((directory, mode))
    try:
        yield 65534
    finally:
        for directory, mode in reversed(changed):
            directory.chmod(mode)


def test_a_data_dir_that_cannot_be_made_is_one_line_naming_it_and_the_user(tmp_path):
    # Under a regular file: even root cannot make that directory.
    (tmp_path / "file").write_text("")
    data = tmp_path / "file" / "data"
    out = serve_once({"MOCK_NORCE_DATA_DIR": str(data)})
    assert_one_line(out, f"cannot write the data directory {data} (uid {os.getuid()}, gid {os.getgid()})",
                    "Not a directory", "MOCK_NORCE_DATA_DIR")


def test_a_data_dir_this_user_cannot_write_is_one_line_naming_it_and_the_user(tmp_path, other_user):
    user = other_user
    data = Path(tempfile.mkdtemp(prefix="mock-norce-ro-"))  # /tmp: every user may look inside
    try:
        data.chmod(0o555)
        out = serve_once({"MOCK_NORCE_DATA_DIR": str(data)}, as_user=user)
        uid = os.getuid() if user is None else user
        gid = os.getgid() if user is None else user
        assert_one_line(out, f"cannot write the data directory {data} (uid {uid}, gid {gid}): Permission denied")
        assert list(data.iterdir()) == []
    finally:
        shutil.rmtree(data)


def test_a_database_file_left_by_another_user_is_one_line_naming_its_owner(tmp_path, other_user):
    user = other_user
    if user is None:
        pytest.skip("needs root, to leave a file this process cannot write")
    data = Path(tempfile.mkdtemp(prefix="mock-norce-other-"))
    try:
        data.chmod(0o777)  # the directory is writable: only the file is not
        (data / "mock-norce.db").write_bytes(b"")
        (data / "mock-norce.db").chmod(0o644)
        out = serve_once({"MOCK_NORCE_DATA_DIR": str(data)}, as_user=user)
        assert_one_line(out, f"cannot write {data / 'mock-norce.db'} (uid {user}, gid {user})",
                        "belongs to uid 0, gid 0, mode 644")
    finally:
        shutil.rmtree(data)
