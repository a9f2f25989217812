"""Start `mock-norce serve` as its own process for a benchmark, on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_serve(subscriber_url: str, data: Path, timeout: float = 30.0) -> tuple[subprocess.Popen, str]:
    """(process, base URL) of a `mock-norce serve` writing its database under `data`."""
    log = Path(data) / "serve.log"
    env = dict(os.environ, MOCK_NORCE_PORT="0", MOCK_NORCE_DATA_DIR=str(data),
               MOCK_NORCE_SUBSCRIBER_URL=subscriber_url)
    proc = subprocess.Popen([sys.executable, "-m", "mock_norce", "serve"], cwd=ROOT, env=env,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        for line in log.read_text().splitlines():
            if " on http://" in line:
                return proc, line.split(" on ", 1)[1].split()[0].rstrip("/")
        time.sleep(0.05)
    raise RuntimeError("serve did not start:\n" + log.read_text())
