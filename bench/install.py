"""Benchmark: from `pip install` to the first delivered event, as a new user meets it (issue 13).

Builds a wheel of this checkout (not timed: a user installs a published one), then in a fresh
temp directory, timing each step with the wall clock:

1. `python -m venv` (a clean venv, no system site-packages);
2. `pip install <wheel>` with every dependency (pip's own cache as the user has it: pass
   --no-cache for a cold one);
3. `mock-norce serve` from `/` until `/healthz` answers;
4. the first `POST /api/events/OrderConfirmedEvent?wait=5` until delivered to the sink.

Baseline in the same run: steps 1 and 2 for Flask alone (the floor any Flask service pays),
so the ratio says what mock-norce's own dependencies add.

    python bench/install.py [--no-cache]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_norce.testing.server import start  # noqa: E402


def step(command: list[str], **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kw)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-cache", action="store_true", help="pip without its cache (a cold first install)")
    args = ap.parse_args()
    cache = ["--no-cache-dir"] if args.no_cache else []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)],
                       check=True, capture_output=True)
        [wheel] = (tmp / "dist").glob("*.whl")
        venv = step([sys.executable, "-m", "venv", str(tmp / "venv")])
        pip = step([str(tmp / "venv/bin/python"), "-m", "pip", "install", "-q", *cache, str(wheel)])
        base_venv = step([sys.executable, "-m", "venv", str(tmp / "flask")])
        base_pip = step([str(tmp / "flask/bin/python"), "-m", "pip", "install", "-q", *cache, "flask"])
        t0 = time.perf_counter()
        server = start(python=str(tmp / "venv/bin/python"), cwd="/", data_dir=tmp / "data")
        ready = time.perf_counter() - t0
        try:
            t1 = time.perf_counter()
            request = urllib.request.Request(server.url + "/api/events/OrderConfirmedEvent?wait=5", b"{}",
                                             {"Content-Type": "application/json"})
            status = json.load(urllib.request.urlopen(request, timeout=10))["delivery"]["status"]
            first = time.perf_counter() - t1
        finally:
            server.stop()
    total = venv + pip + ready + first
    print(f"venv {venv:.1f} s, pip install {pip:.1f} s, serve ready {ready:.2f} s, first event {status} "
          f"in {first * 1000:.0f} ms")
    print(f"pip install -> first delivered event: {total:.1f} s")
    print(f"baseline (venv + pip install flask): {base_venv + base_pip:.1f} s; "
          f"ratio venv+install mock-norce / flask: {(venv + pip) / (base_venv + base_pip):.2f}")


if __name__ == "__main__":
    main()
