"""Benchmark: sustained deliveries per second through the whole pipeline, against a plain client.

Starts a fast local subscriber (bench/sink_server.py, its own process), then measures in the
same run:
  plain     http.client keep-alive connection POSTing pre-generated bodies, one after another;
  pipeline  Outbox.fire: generate + validate + commit to SQLite (WAL file) + schedule, with the
            dispatcher's worker POSTing and the writer thread recording every attempt.
Prints both rates and the ratio. Target (issue 3): pipeline >= 50% of plain.

    python bench/deliver.py [--events 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_norce.events import factory_from_settings  # noqa: E402
from mock_norce.outbox import Outbox  # noqa: E402
from mock_norce.settings import Settings  # noqa: E402


def start_sink(tmp: Path) -> tuple[subprocess.Popen, int]:
    port_file = tmp / "port"
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench/sink_server.py"), str(port_file)])
    for _ in range(200):
        if port_file.exists() and port_file.read_text():
            return proc, int(port_file.read_text())
        time.sleep(0.02)
    raise RuntimeError("sink did not start")


def plain(port: int, bodies: list[bytes]) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/json", "User-Agent": "plain"}
    start = time.perf_counter()
    for body in bodies:
        conn.request("POST", "/hook", body, headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 204
    elapsed = time.perf_counter() - start
    conn.close()
    return len(bodies) / elapsed


def pipeline(port: int, count: int, tmp: Path, factory, round_no: int) -> float:
    settings = Settings(subscriber_url=f"http://127.0.0.1:{port}/hook")
    outbox = Outbox.from_settings(settings, database=str(tmp / f"bench-{round_no}.db"), factory=factory)
    done = threading.Event()
    delivered = [0]

    def count_delivered(record):
        if record.status == "delivered":
            delivered[0] += 1
            if delivered[0] == count:
                done.set()
    outbox.dispatcher.listeners.append(count_delivered)
    outbox.start()
    start = time.perf_counter()
    for i in range(count):
        outbox.fire("OrderConfirmedEvent", seed=i)
    if not done.wait(120):
        raise RuntimeError(f"only {delivered[0]} of {count} delivered")
    elapsed = time.perf_counter() - start
    outbox.stop()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    factory = factory_from_settings(Settings.from_env())
    bodies = [factory.generate("OrderConfirmedEvent", seed=i).to_bytes() for i in range(args.events)]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sink, port = start_sink(tmp)
        try:
            plain_rates, pipe_rates = [], []
            for r in range(args.rounds):
                plain_rates.append(plain(port, bodies))
                pipe_rates.append(pipeline(port, args.events, tmp, factory, r))
                print(f"round {r + 1}: plain {plain_rates[-1]:,.0f}/s  pipeline {pipe_rates[-1]:,.0f}/s")
        finally:
            sink.terminate()
            sink.wait()
    p, q = statistics.median(plain_rates), statistics.median(pipe_rates)
    print(f"plain keep-alive client (http.client): {p:,.0f} deliveries/s (median of {args.rounds})")
    print(f"full pipeline (generate+validate+store+POST+record): {q:,.0f} deliveries/s")
    print(f"ratio pipeline/plain: {q / p:.2f} ({'meets' if q / p >= 0.5 else 'MISSES'} the 0.50 target)")


if __name__ == "__main__":
    main()
