"""Benchmark: what the pytest plugin costs each test (issue 13).

Starts one `mock-norce serve` exactly as the plugin does (mock_norce.testing.server.start: a
child process, a free port, its own temp data) and times, N times each (default 100):

- **per test**: what the `mock_norce` fixture and a minimal test do: `reset()`, then
  `fire("OrderConfirmedEvent", wait=5)` until delivered to the built-in sink, then
  `sink.wait(1)`;
- **baseline**, measured in the same run on the same server: the same fire and sink wait
  without the reset (what a test costs anyway), and a bare `GET /healthz` round trip.

Prints the medians and p90s and the ratios against the baselines (absolute times are noisy on
a shared machine; the ratios are what to compare between runs).

    python bench/plugin.py [--runs 100]
"""

from __future__ import annotations

import argparse
import statistics
import time

from mock_norce.testing.server import start


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()
    with start() as server:
        client = server.client()

        def per_test():
            client.reset()
            client.fire("OrderConfirmedEvent", wait=5)
            client.sink.wait(1)

        def fire_only():
            before = len(client.sink.requests(limit=1000))
            client.fire("OrderConfirmedEvent", wait=5)
            client.sink.wait(min(before + 1, 1000))

        timed(per_test, 10)  # warm-up: imports, the first connection, SQLite pages
        rows = [("reset + fire + wait (per test)", timed(per_test, args.runs))]
        client.reset()
        rows.append(("fire + wait, no reset", timed(fire_only, args.runs)))
        rows.append(("GET /healthz", timed(client.healthy, args.runs)))
    med = {name: statistics.median(v) for name, v in rows}
    for name, values in rows:
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:<32} median {med[name]:7.2f} ms   p90 {p90:7.2f} ms")
    first, plain, health = (med[name] for name, _ in rows)
    print(f"per test / fire without reset: {first / plain:.2f}; per test / healthz: {first / health:.1f}")
    print(f"the reset itself: ~{first - plain:.2f} ms a test")


if __name__ == "__main__":
    main()
