"""Benchmark: memory and health of `mock-norce serve` under a backlog it cannot deliver.

Starts `mock-norce serve` (its own process, a temporary data directory) with its subscriber on
a closed port of 127.0.0.1 (bound and closed here: every attempt is refused and retried), warms
it up (a few events fired, every page read once), then reads its RSS (VmRSS of
/proc/<pid>/status) and the latency of `/healthz` and of a trivial `GET /api/events`. Then a
rate schedule (--rate events/s of OrderConfirmedEvent for --seconds, real time) fills the
backlog; when it has finished, prints the deliveries waiting (pending + retrying, from
/api/stats), the RSS at the start and at the end (and the peak, VmHWM), the RSS growth per
waiting delivery, and the latency (median and max of 50 calls) of `/healthz` at the end next
to `GET /api/events` measured in the same moment and both at the start. Also: firings the
schedule made and skipped (from serve's log), RSS and waiting deliveries at 1/4, 1/2 and 3/4
of the run with the part held in memory, and the marginal growth from those points to the
end (the in-memory window is bounded: once it is full, RSS should stay flat).

The database is the queue: only about a second of due deliveries is held in memory, so RSS
must not grow with the backlog. Targets: RSS growth under 80 bytes per waiting delivery;
`/healthz` under 50 ms at the end.

    python bench/backlog.py [--rate 3000] [--seconds 60] [--world on|off]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from serving import Client, closed_port, rss_kb, start_serve, stop_serve  # noqa: E402

TARGET_BYTES = 80
TARGET_HEALTHZ_MS = 50.0


def latencies(base: str, calls: int = 50) -> dict[str, list[float]]:
    """ms of GET /healthz and GET /api/events, interleaved (same moment, same load)."""
    client = Client(base, timeout=30)
    out: dict[str, list[float]] = {"/healthz": [], "/api/events": []}
    try:
        for _ in range(calls):
            for path in out:
                status, _, ms = client.request("GET", path)
                if status != 200:
                    raise RuntimeError(f"GET {path}: {status}")
                out[path].append(ms)
    finally:
        client.close()
    return out


def show(label: str, values: list[float]) -> str:
    return f"{label:<16} median {statistics.median(values):7.2f} ms   max {max(values):7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=3000.0, help="events per second of the schedule")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the schedule runs")
    parser.add_argument("--calls", type=int, default=50, help="calls per latency figure")
    parser.add_argument("--world", choices=("on", "off"), default="on",
                        help="MOCK_NORCE_WORLD of serve (on: its page cache, 8 MB, counts in the growth)")
    args = parser.parse_args()

    dead_url = f"http://127.0.0.1:{closed_port()}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        proc = None
        try:
            proc, base = start_serve(dead_url, Path(tmp), env={"MOCK_NORCE_WORLD": args.world})
            api = Client(base, timeout=30)
            deadline = time.time() + 30
            while api.request("GET", "/healthz")[0] != 200:
                if time.time() > deadline:
                    raise RuntimeError("/healthz never answered 200")
                time.sleep(0.05)
            # Warm-up: every code path the run uses once (and a few failing deliveries).
            for i in range(20):
                api.json("POST", "/api/events/OrderConfirmedEvent", {"seed": i})
            for path in ("/", "/api/stats", "/metrics", "/api/deliveries", "/api/schedules"):
                api.request("GET", path)
            time.sleep(1.0)
            before = latencies(base, args.calls)
            rss_start = rss_kb(proc.pid)

            sched = api.json("POST", "/api/schedules", {"event": "OrderConfirmedEvent", "rate": args.rate,
                                                        "duration": f"{args.seconds:g}s"})
            t0 = time.time()
            samples: list[tuple] = []  # (elapsed s, waiting deliveries, RSS kB, in memory)
            while True:
                time.sleep(0.5)
                elapsed = time.time() - t0
                if elapsed >= (len(samples) + 1) * args.seconds / 4 and len(samples) < 3:
                    st = api.json("GET", "/api/stats")
                    d = st["deliveries"]
                    samples.append((elapsed, d["pending"] + d["retrying"], rss_kb(proc.pid), st["backlog"]))
                view = api.json("GET", f"/api/schedules/{sched['id']}")
                if view["status"] == "finished":
                    break
                if elapsed > args.seconds + 60:
                    raise RuntimeError(f"the schedule has not finished {elapsed:.0f} s after its start")
            took = time.time() - t0
            stats = api.json("GET", "/api/stats")
            rss_end = rss_kb(proc.pid)
            peak = rss_kb(proc.pid, "VmHWM")
            after = latencies(base, args.calls)
            generated = view["figures"]["generated"]
            fired = view["fired"]
            api.close()
        finally:
            stop_serve(proc)
            log_file = Path(tmp) / "serve.log"
            log = log_file.read_text(errors="replace") if log_file.exists() else ""
    skipped = log.count("maximum number of running instances reached")
    missed = log.count("was missed by")

    d = stats["deliveries"]
    waiting = d["pending"] + d["retrying"]
    growth = (rss_end - rss_start) * 1024
    per = growth / waiting if waiting else float("nan")
    health_end = after["/healthz"]
    print(f"rate schedule {args.rate:,.0f}/s of OrderConfirmedEvent for {args.seconds:g} s "
          f"(finished after {took:.1f} s), subscriber on a closed port:")
    print(f"  firings {fired} of {args.seconds * 10:g} expected (one per 0.1 s; a late one writes more), {skipped} skipped by APScheduler (the previous one was "
          f"still running), {missed} missed; generated {generated:,} of {args.rate * args.seconds:,.0f} requested")
    print(f"  deliveries now pending {d['pending']:,}, retrying {d['retrying']:,}, "
          f"dead {d['dead']:,}, delivered {d['delivered']:,}; in memory (backlog) {stats['backlog']:,}")
    print(f"  RSS at start (baseline) {rss_start / 1024:.1f} MB, end {rss_end / 1024:.1f} MB, "
          f"peak (VmHWM) {peak / 1024:.1f} MB")
    print("  on the way: " + "; ".join(f"{t:.0f} s: {w:,} waiting ({m:,} in memory), RSS {r / 1024:.1f} MB"
                                       for t, w, r, m in samples))
    print(f"  RSS growth {growth / 1e6:+.1f} MB over {waiting:,} waiting deliveries: {per:.1f} bytes each")
    # Once the in-memory window is full, RSS should not follow the backlog any more.
    marginal = [f"from {t:.0f} s {(rss_end - r) * 1024 / (waiting - w):.1f}" for t, w, r, _ in samples if waiting > w]
    if marginal:
        print(f"  marginal growth to the end, bytes per further waiting delivery: {', '.join(marginal)}")
    print(f"latency, {args.calls} calls each (ms):")
    print("  at start   " + show("GET /healthz", before["/healthz"]))
    print("  at start   " + show("GET /api/events", before["/api/events"]))
    print("  at the end " + show("GET /healthz", health_end))
    print("  at the end " + show("GET /api/events", after["/api/events"]) + "   (baseline)")
    ratio = statistics.median(health_end) / statistics.median(after["/api/events"])
    print(f"  /healthz at the end vs GET /api/events at the end (medians): {ratio:.2f}x; "
          f"vs /healthz at start: {statistics.median(health_end) / statistics.median(before['/healthz']):.2f}x")
    ok_mem = per < TARGET_BYTES
    ok_health = statistics.median(health_end) < TARGET_HEALTHZ_MS and max(health_end) < TARGET_HEALTHZ_MS
    print(f"targets: RSS growth < {TARGET_BYTES} bytes per waiting delivery {'MET' if ok_mem else 'MISSED'} "
          f"({per:.1f}); /healthz < {TARGET_HEALTHZ_MS:g} ms at the end {'MET' if ok_health else 'MISSED'} "
          f"(median {statistics.median(health_end):.2f}, max {max(health_end):.2f})")


if __name__ == "__main__":
    main()
