"""Start ``mock-norce serve`` as a child process for a test session: a free port, its own data.

The server is the same one users run (not an in-process app), so a test suite sees exactly the
delivery engine, timings and answers of a real one. The port is chosen by the OS (``--port 0``)
and read back from the server's first line, so parallel sessions (pytest-xdist workers) never
race for one.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Mapping

from mock_norce.testing.client import Client

_LISTENING = re.compile(r"^mock-norce \S+ on (http://\S+?)/? ")


class ServerFailed(RuntimeError):
    """``mock-norce serve`` exited or did not come up; the message carries its own output."""


class Server:
    """A running ``mock-norce serve``; ``stop()`` ends it (SIGTERM, then SIGKILL after 10 s)."""

    def __init__(self, process: subprocess.Popen, url: str, data_dir: Path, output: list[str],
                 owned_dir: tempfile.TemporaryDirectory | None):
        self.process, self.url, self.data_dir = process, url, data_dir
        self._output, self._owned_dir = output, owned_dir

    def client(self, token: str | None = None) -> Client:
        return Client(self.url, token=token)

    @property
    def output(self) -> str:
        """What the server printed so far (stdout and stderr)."""
        return "".join(self._output)

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._owned_dir is not None:
            self._owned_dir.cleanup()
            self._owned_dir = None
        return self.process.returncode

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start(env: Mapping[str, str] | None = None, data_dir: str | Path | None = None, startup_timeout: float = 30.0,
          args: tuple[str, ...] = (), python: str = sys.executable, cwd: str | Path | None = None) -> Server:
    """Start a server on 127.0.0.1 and a free port; its databases in ``data_dir`` (default: a new temp dir).

    ``env`` adds MOCK_NORCE_* settings (e.g. ``{"MOCK_NORCE_TIME_SCALE": "0.001"}``); ``python``
    is the interpreter whose mock-norce runs (another venv's, say). Raises
    ServerFailed with the server's own words when it exits or is not ready in time.
    """
    owned = None
    if data_dir is None:
        owned = tempfile.TemporaryDirectory(prefix="mock-norce-")
        data_dir = owned.name
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_NORCE_")}
    child_env.update({"MOCK_NORCE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"})
    child_env.update(env or {})
    command = [python, "-m", "mock_norce", "serve", "--host", "127.0.0.1", "--port", "0", *args]
    process = subprocess.Popen(command, env=child_env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
    output: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # keeps reading for the server's whole life, so its pipe never fills up
        for line in process.stdout:
            output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, name="mock-norce-output", daemon=True).start()
    deadline = time.monotonic() + startup_timeout
    url = None
    try:
        while url is None:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise ServerFailed(f"mock-norce did not start within {startup_timeout:g} s:\n{''.join(output)}") from None
            if line is None:
                process.wait()
                raise ServerFailed(f"mock-norce exited with status {process.returncode}:\n{''.join(output)}")
            found = _LISTENING.match(line)
            if found:
                url = found.group(1)
        server = Server(process, url, Path(data_dir), output, owned)
        client = server.client(token=(env or {}).get("MOCK_NORCE_API_TOKEN"))
        while not client.healthy():
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServerFailed(f"mock-norce at {url} never became ready:\n{''.join(output)}")
            time.sleep(0.02)
        return server
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait()
        if owned is not None:
            owned.cleanup()
        raise
