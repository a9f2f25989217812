"""Start `mock-norce serve` as its own process for a benchmark, on a free port; small helpers
shared by the benchmarks that talk to it (a keep-alive client, RSS, percentiles, a closed port)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_serve(subscriber_url: str, data: Path, timeout: float = 30.0,
                env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """(process, base URL) of a `mock-norce serve` writing its database under `data`.

    `env` adds or overrides MOCK_NORCE_* variables. The process is killed if it does not
    announce its URL within `timeout` seconds.
    """
    log = Path(data) / "serve.log"
    full_env = dict(os.environ, MOCK_NORCE_PORT="0", MOCK_NORCE_DATA_DIR=str(data),
                    MOCK_NORCE_SUBSCRIBER_URL=subscriber_url)
    full_env.update(env or {})
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mock_norce", "serve"], cwd=ROOT, env=full_env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in log.read_text().splitlines():
                if " on http://" in line:
                    return proc, line.split(" on ", 1)[1].split()[0].rstrip("/")
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("serve did not start:\n" + log.read_text())
    except BaseException:
        stop_serve(proc)
        raise


def stop_serve(proc: subprocess.Popen | None, grace: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def closed_port() -> int:
    """A port on 127.0.0.1 that was just bound and closed: a connection to it is refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    """A /proc/<pid>/status memory figure (VmRSS, VmHWM, ...) in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


class Client:
    """One keep-alive HTTP/1.1 connection to the service; reconnects after a failure."""

    def __init__(self, base: str, timeout: float = 60.0):
        self.host = base.split("//", 1)[1].split("/", 1)[0]
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, bytes, float]:
        """(status, body, milliseconds from sending to the whole answer read)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, timeout=self.timeout)
        data = json.dumps(body) if isinstance(body, (dict, list)) else body
        # The API takes writes as JSON only, even a POST without a body.
        headers = {**({"Content-Type": "application/json"} if data is not None or method != "GET" else {}),
                   **(headers or {})}
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, data, headers)
            resp = self.conn.getresponse()
            content = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        ms = (time.perf_counter() - t0) * 1000
        if resp.will_close:
            self.close()
        return resp.status, content, ms

    def json(self, method: str, path: str, body=None):
        status, content, _ = self.request(method, path, body)
        data = json.loads(content or b"null")
        if status >= 400:
            raise RuntimeError(f"{method} {path}: {status} {data}")
        return data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
