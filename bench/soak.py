"""Benchmark: a soak at the highest rate one mock-norce process sustains, for minutes.

In one run:
  1. a fast subscriber (bench/sink_server.py, its own process) and the *plain-client
     ceiling*: an http.client keep-alive loop posting a payload-sized body, events/s;
  2. `mock-norce serve` (its own process, a SQLite file) and a ramp: a soak schedule (a mix
     of realistic-day and web-order) at increasing rates for --step seconds each, to find
     the highest rate it holds (achieved within 1% of requested, nothing left behind,
     p99 lateness under 1 s);
  3. the soak itself at that rate (never below 1,000/s) for --duration seconds, printing
     achieved events/s, its ratio to the ceiling, p99 latency and lateness, the RSS of the
     serve process after warm-up, in the middle and at the end, and the database size.
Targets (issue 6): within 1% of the requested rate up to 1,000 events/s; RSS growth under
10% after warm-up.

    python bench/soak.py [--duration 180] [--step 15] [--rates 500,1000,1500,2000,3000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from deliver import start_sink  # noqa: E402
from serving import start_serve  # noqa: E402

BODY = json.dumps({"ClientId": 1042, "ApplicationId": 1101, "OrderId": 2191990271, "OrderNo": "SO-1724467",
                   "ClientOrderRef": "6113389", "CellPhone": "+46737299005", "FirstName": "Jerry",
                   "LastName": "Olander", "Source": "WEB"})


def ceiling(port: int, seconds: float = 5.0) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/json"}
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        conn.request("POST", "/hook", BODY, headers)
        conn.getresponse().read()
        n += 1
    return n / (time.perf_counter() - start)


def api(base: str, method: str, path: str, body: dict | None = None):
    conn = http.client.HTTPConnection(base.split("//")[1].split("/")[0], timeout=30)
    conn.request(method, path, json.dumps(body) if body is not None else None, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read() or b"null")
    conn.close()
    if resp.status >= 400:
        raise RuntimeError(f"{method} {path}: {resp.status} {data}")
    return data


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def db_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.glob("mock-norce.db*")) / 1e6


def soak(base: str, rate: float, seconds: float, pid: int, samples: dict | None = None) -> dict:
    """Run a soak schedule to its end (and its deliveries to theirs); its final figures."""
    s = api(base, "POST", "/api/schedules", {"name": f"soak-{rate:g}-{time.time_ns()}",
                                             "mix": {"realistic-day": 3, "web-order": 1},
                                             "rate": rate, "duration": f"{seconds}s"})
    start = time.time()
    while True:
        time.sleep(0.5)
        elapsed = time.time() - start
        if samples is not None:
            for label, at in (("warm-up", 0.2), ("middle", 0.5), ("end", 0.98)):
                if label not in samples and elapsed >= at * seconds:
                    samples[label] = rss_mb(pid)
        view = api(base, "GET", f"/api/schedules/{s['id']}")
        f = view["figures"]
        if view["status"] == "finished" and f["delivered"] + f["dead"] >= f["generated"]:
            break
        if elapsed > seconds + 60:
            break  # it could not keep up; report what it did
    if samples is not None:
        for label in ("warm-up", "middle", "end"):
            samples.setdefault(label, rss_mb(pid))  # a short soak can end between two polls
    f = api(base, "GET", f"/api/schedules/{s['id']}/figures")["summary"]
    f["requested"] = rate
    f["window"] = seconds
    # Achieved: events delivered per second, from the schedule's start to the last delivery
    # (a sender that falls behind stretches that span, and the rate drops).
    f["achieved"] = f["delivered"] / max(seconds, (f["last_delivered"] or f["start"]) - f["start"])
    f["left_behind"] = f["generated"] - f["delivered"] - f["dead"]
    return f


def holds(f: dict) -> bool:
    return (abs(f["achieved"] - f["requested"]) <= 0.01 * f["requested"]
            and f["left_behind"] == 0 and (f["lateness_ms"]["p99"] or 0) < 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of the main soak")
    parser.add_argument("--step", type=float, default=15.0, help="seconds per ramp step")
    parser.add_argument("--rates", default="500,1000,1500,2000,3000,4000", help="ramp rates, events/s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sink, sink_port = start_sink(tmp)
        proc = None
        try:
            top = ceiling(sink_port)
            print(f"plain-client ceiling (one keep-alive http.client): {top:,.0f} events/s")
            proc, base = start_serve(f"http://127.0.0.1:{sink_port}/hook", tmp)
            best = None
            for rate in [float(r) for r in args.rates.split(",")]:
                f = soak(base, rate, args.step, proc.pid)
                ok = holds(f)
                print(f"ramp {rate:>6,.0f}/s for {args.step:g} s: achieved {f['achieved']:,.1f}/s, "
                      f"left behind {f['left_behind']}, lateness p99 {f['lateness_ms']['p99']} ms "
                      f"-> {'holds' if ok else 'does not hold'}", flush=True)
                if not ok:
                    break
                best = rate
            rate = max(best or 1000.0, 1000.0)
            samples: dict = {}
            start_rss = rss_mb(proc.pid)
            f = soak(base, rate, args.duration, proc.pid, samples)
            size = db_mb(tmp)
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
            sink.terminate()
            sink.wait()
    within = abs(f["achieved"] - rate) / rate * 100
    growth = (samples.get("end", 0) - samples.get("warm-up", 1)) / samples.get("warm-up", 1) * 100
    print(f"\nsoak at {rate:,.0f} events/s for {args.duration:g} s (a mix of realistic-day and web-order):")
    print(f"  achieved {f['achieved']:,.1f} events/s ({within:.2f}% off the requested rate), "
          f"delivered {f['delivered']:,} of {f['generated']:,}, dead {f['dead']}, left behind {f['left_behind']}")
    print(f"  ratio to the plain-client ceiling: {f['achieved'] / top:.2f}")
    print(f"  subscriber latency p50/p95/p99: {f['latency_ms']['p50']}/{f['latency_ms']['p95']}/"
          f"{f['latency_ms']['p99']} ms; lateness p99 {f['lateness_ms']['p99']} ms, max {f['lateness_ms']['max']} ms")
    print(f"  RSS: start {start_rss:.1f} MB, after warm-up {samples.get('warm-up', 0):.1f} MB, middle "
          f"{samples.get('middle', 0):.1f} MB, end {samples.get('end', 0):.1f} MB (growth after warm-up {growth:+.1f}%)")
    print(f"  database size at the end: {size:.1f} MB (retention keeps 100,000 finished deliveries)")
    print(f"targets: rate within 1% {'MET' if within <= 1 else 'MISSED'}; "
          f"RSS growth < 10% {'MET' if growth < 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
