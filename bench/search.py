"""Benchmark: the delivery log's search and filters with a million deliveries in the file.

Fills a file as bench/growth.py does (real bodies of a day's mix of types, about 3% dead with
17 attempts each; 500 distinct bodies per type, so an OrderNo matches a few thousand rows),
marks 0.5% as timed out (``last_error_class``), then times ``DeliveryLog.find`` (what the API
and the UI's log page call) for each filter: median and max of --calls runs, page of 50 and
total. Also the cost of the search index at write time: ``add_events`` of batches of 20,000
with the FTS5 trigger and without it, on the full file.

    python bench/search.py [--size 1000000] [--calls 20] [--db /tmp/search-bench.sqlite]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from growth import BATCH, Filler, db_mb  # noqa: E402

from mock_norce.storage.database import Database  # noqa: E402
from mock_norce.storage.deliveries import DeliveryLog  # noqa: E402
from mock_norce.storage.log_query import LogFilter  # noqa: E402
from mock_norce.storage.schema import VERSION_3  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--db", type=Path)
    args = ap.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "search.sqlite"
    filler = Filler(path, "http://127.0.0.1:9/hook")
    t0 = time.perf_counter()
    have = filler.fill(args.size)
    print(f"{have:,} deliveries in {path} ({db_mb(path):,.0f} MB), filled in {time.perf_counter() - t0:,.0f} s")
    store = DeliveryLog(Database(path))
    try:
        with store.database.transaction() as db:
            db.execute("UPDATE deliveries SET last_error_class='timeout', last_status_code=NULL"
                       " WHERE status='retrying' AND last_error_class IS NULL AND id % 2 = 0")
        with store.database.reader() as db:
            newest = db.execute("SELECT max(id), max(created), min(created) FROM deliveries").fetchone()
            sample = json.loads(db.execute("SELECT body FROM deliveries WHERE type='OrderConfirmedEvent'"
                                           " ORDER BY id DESC LIMIT 1").fetchone()[0])
        hour = newest[1] - 3600
        cases = [
            ("plain (newest 50)", LogFilter()),
            ("q=<an OrderNo>", LogFilter(q=sample["OrderNo"])),
            ("q=<an OrderId>", LogFilter(q=str(sample["OrderId"]))),
            ("q=<first and last name>", LogFilter(q=f"{sample['FirstName']} {sample['LastName']}")),
            ("q=<a first name> (common)", LogFilter(q=sample["FirstName"])),
            ("q=SO-1* (prefix)", LogFilter(q="SO-1*")),
            ("q=SO-13660* (prefix)", LogFilter(q="SO-13660*")),
            ("q=1042 (every payload)", LogFilter(q="1042")),
            ("q=<no such value>", LogFilter(q="no-such-value")),
            ("code=503", LogFilter(code="503")),
            ("code=5xx", LogFilter(code="5xx")),
            ("code=2xx", LogFilter(code="2xx")),
            ("error=timeout", LogFilter(error_class="timeout")),
            ("since=<the last hour>", LogFilter(since=hour)),
            ("since/until <an hour a week ago>", LogFilter(since=hour - 7 * 86400, until=newest[1] - 7 * 86400)),
            ("status=dead&code=5xx", LogFilter(status="dead", code="5xx")),
            ("q=<OrderNo>&status=delivered&since", LogFilter(q=sample["OrderNo"], status="delivered", since=newest[2])),
            ("type&run (counted, capped)", LogFilter(event_type="OrderConfirmedEvent", run_id=filler.schedules[0])),
        ]
        print(f"\n{'filter':40} {'median ms':>10} {'max ms':>8} {'total':>10}")
        for label, f in cases:
            times = []
            for _ in range(args.calls):
                t = time.perf_counter()
                items, total, exact = store.find(f, limit=50)
                times.append((time.perf_counter() - t) * 1000)
            shown = f"{total:,}" + ("" if exact else "+")
            print(f"{label:40} {statistics.median(times):10.1f} {max(times):8.1f} {shown:>10}")
        for label, order, offset in (("oldest 50 (order=asc)", "asc", 0), ("page 1000 (offset 49,950)", "desc", 49_950)):
            times = []
            for _ in range(args.calls):
                t = time.perf_counter()
                store.find(LogFilter(), limit=50, offset=offset, order=order)
                times.append((time.perf_counter() - t) * 1000)
            print(f"{label:40} {statistics.median(times):10.1f} {max(times):8.1f}")
        # Write cost of the index: add_events with and without the trigger that fills it.
        print()
        body = json.dumps(sample).encode()
        trigger = VERSION_3[VERSION_3.index("CREATE TRIGGER IF NOT EXISTS deliveries_searchable"):]
        trigger = trigger[:trigger.index("END;") + 4]
        with store.database.transaction() as db:
            db.execute(trigger)  # (a run stopped in the middle may have left it dropped)
        for label in ("with the search index", "without it (trigger dropped)"):
            rates = []
            for _ in range(3):
                items = [("OrderConfirmedEvent", body, True, None, "http://127.0.0.1:9/hook", {}, 1.0, 1e12)] * BATCH
                t = time.perf_counter()
                store.add_events(items, newest[1])
                rates.append(BATCH / (time.perf_counter() - t))
            print(f"add_events {label:32} {statistics.median(rates):10,.0f} deliveries/s")
            with store.database.transaction() as db:
                db.execute("DROP TRIGGER IF EXISTS deliveries_searchable")
        with store.database.transaction() as db:  # put it back (the file may be kept with --db)
            db.execute(trigger)
    finally:
        store.close()


if __name__ == "__main__":
    main()
