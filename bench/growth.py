"""Benchmark: API, dashboard and start-up of `mock-norce serve` as the log grows to a million.

Fills one SQLite file in steps (default 10,000, 100,000 and 1,000,000 retained deliveries,
MOCK_NORCE_RETENTION_MAX=0) without HTTP: `DeliveryLog(Database(path)).add_events(...)` in batches of 20,000
with real generated bodies (a pool per type) of a day's mix of types, a third of them tagged
with a schedule and a tenth with a scenario run (rows in `runs` too), then their outcomes in
the same batch by direct SQL through the DeliveryLog's writer: about 95.5% delivered (one attempt
row each), 3% dead (17 failed attempt rows each), 1% retrying and 0.5% pending with their
next attempt a day or more ahead (so nothing is sent). The counts by status/type/run are the
triggers' work, as in the service.

At each size, `mock-norce serve` is started on the file (its own process; subscriber:
bench/sink_server.py) and measured with real HTTP (one http.client keep-alive connection):

  start-up   process start to the URL announced and to the first `/healthz` 200; next to it
             `PRAGMA quick_check(5)` of the file alone (serve runs it at start; warm page cache)
  reads      median and p99 of --calls calls each of GET /api/deliveries (plain, ?type=,
             ?status=dead, ?run= of a scenario run and of a schedule), /api/stats, /metrics
             and the dashboard `/`
  ?wait=5    p99 of --waits calls of POST /api/events/OrderConfirmedEvent?wait=5 alone, with a
             second client refreshing the dashboard every 100 ms, and refreshing it continuously
             (a browser refreshes it every 2 s), the three in 3 interleaved rounds; with the
             ratio of each p99 to the one alone

Baselines measured in the same run: GET /api/events (a trivial JSON answer) for the reads, the
?wait=5 run alone for the dashboard runs. Targets: every read under 20 ms (p99) at 1,000,000;
the ?wait=5 p99 unchanged by the dashboard (ratio about 1).

    python bench/growth.py [--sizes 10000,100000,1000000] [--calls 100] [--waits 300] [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from deliver import start_sink  # noqa: E402
from serving import Client, pct, start_serve, stop_serve  # noqa: E402

from mock_norce.app import build_factory  # noqa: E402
from mock_norce.settings import Settings  # noqa: E402
from mock_norce.storage.database import Database  # noqa: E402
from mock_norce.storage.deliveries import DeliveryLog  # noqa: E402

TARGET_READ_MS = 20.0
BATCH = 20_000
POOL = 500  # distinct bodies per event type
# A day's mix: order flow first, catalogue and stock next, customers, suppliers, jobs.
WEIGHTS = {
    "OrderConfirmedEvent": 15, "OrderReceivedEvent": 8, "OrderPaymentReceivedEvent": 8, "OrderDeliveredEvent": 7,
    "OrderPartlyDeliveredEvent": 2, "OrderReadyForPickupEvent": 3, "OrderCancelledEvent": 2,
    "InvoiceCaptureCompletedEvent": 5, "SubscriptionFailedEvent": 1,
    "SkuChangedNotification": 10, "SkuPriceChangedNotification": 8, "SkuOnHandBreakPointNotification": 4,
    "TranslationRequestedNotification": 2, "CustomerChangedNotification": 7, "CompanyChangedNotification": 2,
    "SupplierSkuChangedNotification": 4, "SupplierSkuOnHandChangedNotification": 4,
    "SupplierSkuPriceChangedNotification": 2, "JobCompletedEvent": 1,
}
SCENARIOS = ("web-order", "pos-order", "click-and-collect", "order-cancelled", "customer-changes")
ENDPOINTS = [
    ("GET /api/events (baseline)", "/api/events"),
    ("GET /api/deliveries", "/api/deliveries"),
    ("  ?type=OrderConfirmedEvent", "/api/deliveries?type=OrderConfirmedEvent"),
    ("  ?status=dead", "/api/deliveries?status=dead"),
    ("  ?run=<scenario run>", "/api/deliveries?run={run}"),
    ("  ?run=<schedule>", "/api/deliveries?run={schedule}"),
    ("GET /api/stats", "/api/stats"),
    ("GET /metrics", "/metrics"),
    ("GET / (dashboard)", "/"),
]

WAIT_RUNS = (("alone", None), ("dashboard every 100 ms", 0.1), ("dashboard continuously", 0.0))


class Filler:
    """Grows one database file to a number of deliveries, in batches, without the service."""

    def __init__(self, path: Path, url: str, seed: int = 1):
        self.path = path
        self.url = url
        self.rng = random.Random(seed)
        factory = build_factory(Settings.from_env())
        names = [n for n in WEIGHTS if n in factory.catalog.names()]
        self.types = names
        self.weights = [WEIGHTS[n] for n in names]
        self.pools = {n: [factory.generate(n, seed=i).to_bytes() for i in range(POOL)] for n in names}
        self.schedules = [f"s-{uuid.UUID(int=self.rng.getrandbits(128)).hex[:10]}" for _ in range(10)]
        self.runs: list[str] = []
        self.tagged: Counter = Counter()  # deliveries per schedule
        self.clock = time.time() - 30 * 86400  # the log starts a month ago

    def count(self) -> int:
        conn = sqlite3.connect(self.path)
        try:
            return conn.execute("SELECT coalesce(sum(n), 0) FROM delivery_counts").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
        finally:
            conn.close()

    def fill(self, upto: int) -> int:
        store = DeliveryLog(Database(self.path))
        try:
            have = self.count()
            while have < upto:
                n = min(BATCH, upto - have)
                self._batch(store, n)
                have += n
        finally:
            store.close()
        return have

    def _batch(self, store: DeliveryLog, n: int) -> None:
        rng = self.rng
        types = rng.choices(self.types, self.weights, k=n)
        items, run_rows = [], []
        sched = self.schedules[rng.randrange(len(self.schedules))]
        run_left, run_id = 0, None
        for etype in types:
            tag = rng.random()
            if tag < 0.33:
                rid = sched
                self.tagged[sched] += 1
            elif tag < 0.43:
                if run_left == 0:
                    run_id, run_left = uuid.UUID(int=rng.getrandbits(128)).hex[:12], rng.randint(4, 12)
                    self.runs.append(run_id)
                    run_rows.append((run_id, rng.choice(SCENARIOS), rng.getrandbits(62), "completed", 1.0, None,
                                     self.clock, self.clock + 30, run_left, None))
                rid = run_id
                run_left -= 1
            else:
                rid = None
            items.append((etype, rng.choice(self.pools[etype]), True, rid, self.url, {}, 1.0, self.clock))
        now = self.clock
        ids = store.add_events(items, now)
        updates, attempts = [], []
        hops_ok = json.dumps([{"url": self.url, "method": "POST", "status": 204, "latency_ms": 0.4}])
        hops_bad = json.dumps([{"url": self.url, "method": "POST", "status": 503, "latency_ms": 0.9}])
        for did in ids:
            r = rng.random()
            started = now + rng.random() * 0.5
            if r < 0.955:
                updates.append(("delivered", 1, None, started + 0.001, 204, None, did))
                attempts.append((did, 1, started, self.url, "POST", 204, 0.4 + rng.random(), None, None,
                                 '[["Content-Length", "0"]]', b"", 0, hops_ok))
            elif r < 0.985:
                updates.append(("dead", 17, None, started + 79200, 503, None, did))
                for k in range(17):
                    attempts.append((did, k + 1, started + k * 4600, self.url, "POST", 503, 0.9, None, None,
                                     '[["Content-Length", "11"]]', b"unavailable", 0, hops_bad))
            elif r < 0.995:
                tries = rng.randint(1, 5)
                updates.append(("retrying", tries, time.time() + 86400 * (1 + rng.random()), None, 503, None, did))
                for k in range(tries):
                    attempts.append((did, k + 1, started + k * 10, self.url, "POST", 503, 0.9, None, None,
                                     '[["Content-Length", "11"]]', b"unavailable", 0, hops_bad))
            else:
                updates.append(("pending", 0, time.time() + 86400 * (2 + rng.random()), None, None, None, did))
        with store.database.transaction() as db:
            db.executemany("UPDATE deliveries SET status=?, attempts=?, due=?, finished=?, last_status_code=?,"
                           " last_error=? WHERE id=?", updates)
            db.executemany(
                "INSERT INTO attempts(delivery_id, number, started, url, method, status_code, latency_ms,"
                " error_class, error, response_headers, response_body, body_truncated, hops)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", attempts)
            db.executemany("INSERT OR REPLACE INTO runs(id, scenario, seed, status, time_scale, url, started,"
                           " finished, events, error) VALUES (?,?,?,?,?,?,?,?,?,?)", run_rows)
        self.clock += n * 0.05  # 20 deliveries a second, on the fake clock


def quick_check_seconds(path: Path) -> float:
    conn = sqlite3.connect(path)
    try:
        t0 = time.perf_counter()
        result = conn.execute("PRAGMA quick_check(5)").fetchall()
        took = time.perf_counter() - t0
    finally:
        conn.close()
    assert result == [("ok",)], result
    return took


def db_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def time_reads(client: Client, paths: list[tuple[str, str]], calls: int) -> dict[str, list[float]]:
    """ms per endpoint; endpoints interleaved call by call, so load noise hits all alike."""
    out: dict[str, list[float]] = {label: [] for label, _ in paths}
    for i in range(calls + 5):  # 5 warm-up rounds
        for label, path in paths:
            status, _, ms = client.request("GET", path)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status}")
            if i >= 5:
                out[label].append(ms)
    return out


def time_waits(base: str, calls: int, dashboard_every: float | None) -> tuple[list[float], list[float]]:
    """ms of POST ...?wait=5 calls, with a second client refreshing `/` every `dashboard_every`
    seconds (0: continuously, None: not at all); also the dashboard's own times."""
    stop = threading.Event()
    dash: list[float] = []
    errors: list[BaseException] = []

    def refresh() -> None:
        c = Client(base, timeout=30)
        try:
            while not stop.is_set():
                status, _, ms = c.request("GET", "/")
                if status != 200:
                    raise RuntimeError(f"GET /: {status}")
                dash.append(ms)
                if dashboard_every:
                    stop.wait(dashboard_every)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)
        finally:
            c.close()

    thread = None
    if dashboard_every is not None:
        thread = threading.Thread(target=refresh, daemon=True)
        thread.start()
        time.sleep(0.3)
    client = Client(base, timeout=30)
    times = []
    try:
        for i in range(calls + 10):
            status, content, ms = client.request("POST", "/api/events/OrderConfirmedEvent?wait=5", {"seed": i})
            if status != 200 or json.loads(content)["delivery"]["status"] != "delivered":
                raise RuntimeError(f"?wait=5 call: {status} {content[:200]!r}")
            if i >= 10:
                times.append(ms)
    finally:
        client.close()
        stop.set()
        if thread is not None:
            thread.join(35)
    if errors:
        raise errors[0]
    return times, dash


def measure(size: int, path: Path, filler: Filler, sink_url: str, tmp: Path, args) -> dict:
    t0 = time.perf_counter()
    have = filler.fill(size)
    fill_s = time.perf_counter() - t0
    qc = quick_check_seconds(path)
    env = {"MOCK_NORCE_DATABASE": str(path), "MOCK_NORCE_RETENTION_MAX": "0"}
    proc = None
    try:
        t0 = time.perf_counter()
        proc, base = start_serve(sink_url, tmp, timeout=600, env=env)
        announced = time.perf_counter() - t0
        client = Client(base, timeout=60)
        while True:
            try:
                if client.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.perf_counter() - t0 > 600:
                raise RuntimeError("/healthz not 200 within 600 s")
            time.sleep(0.01)
        healthy = time.perf_counter() - t0
        run = filler.runs[len(filler.runs) // 2]
        schedule = filler.tagged.most_common(1)[0][0]
        paths = [(label, p.format(run=run, schedule=schedule)) for label, p in ENDPOINTS]
        reads = time_reads(client, paths, args.calls)
        stats = client.json("GET", "/api/stats")["deliveries"]
        client.close()
        # The three conditions in interleaved rounds, so a burst of load from elsewhere on the
        # machine does not fall on one of them only.
        waits: dict[str, tuple[list[float], list[float]]] = {}
        rounds = 3
        for k in range(rounds):
            for label, every in WAIT_RUNS:
                times, dash = time_waits(base, args.waits // rounds, every)
                got = waits.setdefault(label, ([], []))
                got[0].extend(times)
                got[1].extend(dash)
    finally:
        stop_serve(proc)
    return {"size": have, "total": sum(stats.values()), "fill_s": fill_s, "db_mb": db_mb(path),
            "quick_check_s": qc, "announced_s": announced, "healthy_s": healthy, "reads": reads, "waits": waits}


def report(r: dict) -> None:
    print(f"\n=== {r['size']:,} deliveries in the log (counted by /api/stats: {r['total']:,}); database "
          f"{r['db_mb']:,.0f} MB; filled in {r['fill_s']:.1f} s ===")
    print(f"start-up: URL announced {r['announced_s']:.2f} s, /healthz 200 {r['healthy_s']:.2f} s after "
          f"process start; PRAGMA quick_check(5) of the file alone {r['quick_check_s']:.2f} s "
          f"({r['quick_check_s'] / r['healthy_s'] * 100:.0f}% of it)")
    base = statistics.median(r["reads"]["GET /api/events (baseline)"])
    print(f"{'read (' + str(len(next(iter(r['reads'].values())))) + ' calls each)':<32} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'max ms':>8} {'p50/baseline':>13}")
    worst = 0.0
    for label, values in r["reads"].items():
        p99 = pct(values, 99)
        if "baseline" not in label:
            worst = max(worst, p99)
        print(f"{label:<32} {statistics.median(values):>8.2f} {p99:>8.2f} {max(values):>8.2f}"
              f" {statistics.median(values) / base:>13.1f}")
    alone = pct(r["waits"]["alone"][0], 99)
    print(f"{'POST ?wait=5 (' + str(len(r['waits']['alone'][0])) + ' calls)':<32} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'max ms':>8} {'p99/alone':>13}  dashboard p50/p99 ms (refreshes)")
    for label, (times, dash) in r["waits"].items():
        d = f"{statistics.median(dash):.1f}/{pct(dash, 99):.1f} ({len(dash)})" if dash else "-"
        print(f"  {label:<30} {statistics.median(times):>8.2f} {pct(times, 99):>8.2f} {max(times):>8.2f}"
              f" {pct(times, 99) / alone:>13.2f}  {d}")
    r["worst_read_p99"] = worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="deliveries in the log at each step")
    parser.add_argument("--calls", type=int, default=100, help="calls per read endpoint")
    parser.add_argument("--waits", type=int, default=300, help="?wait=5 calls per run")
    parser.add_argument("--quick", action="store_true", help="sizes 10000,50000; 50 calls; 100 waits")
    parser.add_argument("--keep", metavar="DIR", help="build the database in DIR and keep it (default: a temp dir)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.calls, args.waits = "10000,50000", 50, 100
    sizes = sorted(int(s) for s in args.sizes.split(","))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = Path(args.keep) if args.keep else tmp
        data.mkdir(parents=True, exist_ok=True)
        path = data / "growth.db"
        sink, sink_port = start_sink(tmp)
        results = []
        try:
            sink_url = f"http://127.0.0.1:{sink_port}/hook"
            filler = Filler(path, sink_url)
            for size in sizes:
                results.append(measure(size, path, filler, sink_url, tmp, args))
                report(results[-1])
                sys.stdout.flush()
        finally:
            sink.terminate()
            sink.wait()
    print(f"\nsummary ({time.perf_counter() - started:.0f} s in all):")
    print(f"{'deliveries':>12} {'start s':>8} {'quick_check s':>14} {'worst read p99 ms':>18} {'wait p99 ms':>12}"
          f" {'+dash 100ms':>12} {'+dash cont.':>12}")
    for r in results:
        w = r["waits"]
        alone = pct(w["alone"][0], 99)
        print(f"{r['size']:>12,} {r['healthy_s']:>8.2f} {r['quick_check_s']:>14.2f} {r['worst_read_p99']:>18.2f}"
              f" {alone:>12.2f} {pct(w['dashboard every 100 ms'][0], 99) / alone:>11.2f}x"
              f" {pct(w['dashboard continuously'][0], 99) / alone:>11.2f}x")
    last = results[-1]
    ok_reads = last["worst_read_p99"] < TARGET_READ_MS
    ratio = pct(last["waits"]["dashboard every 100 ms"][0], 99) / pct(last["waits"]["alone"][0], 99)
    print(f"targets at {last['size']:,}: every read p99 < {TARGET_READ_MS:g} ms {'MET' if ok_reads else 'MISSED'} "
          f"(worst {last['worst_read_p99']:.2f} ms); ?wait=5 p99 with the dashboard every 100 ms / alone "
          f"{ratio:.2f} ({'MET' if ratio <= 1.25 else 'MISSED'}: at most 1.25)")


if __name__ == "__main__":
    main()
