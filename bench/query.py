"""Benchmark: Query API lookups in a big world, next to /healthz in the same run.

Fills a fresh database with --orders orders (default 1,000,000; each with its rows and its
buyer's address, built by the world's own builder, written in batches straight into SQLite),
starts `mock-norce serve` on it, takes a token from the identity endpoint, then interleaves
--calls requests of each kind on one keep-alive connection:

  healthz   GET /healthz
  keyed     GET /commerce/query/2.0/Orders/Orders({random id})?$expand=Items
  filter    GET /commerce/query/2.0/Orders/Orders?$filter=OrderNo eq '{random number}'

and prints p50/p99 of each and their ratio to /healthz. Target: p99 under 10 ms for keyed
and filter at 1,000,000 orders.

    python bench/query.py [--orders 1000000] [--calls 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from serving import Client, closed_port, pct, start_serve, stop_serve  # noqa: E402

from mock_norce.catalogue.tenant import load_tenant  # noqa: E402
from mock_norce.settings import Settings  # noqa: E402
from mock_norce.storage.database import Database  # noqa: E402
from mock_norce.world import builder  # noqa: E402
from mock_norce.world.model import load_model  # noqa: E402
from mock_norce.world.world import World  # noqa: E402

TARGET_P99_MS = 10.0
FIRST_ID = 2147500000


def fill(path: Path, orders: int) -> None:
    settings = Settings()
    tenant = load_tenant(settings.tenant_path)
    database = Database(path)
    world = World(load_model(settings.fixtures_dir / "query-model.yaml"), tenant, database)
    world.prepare()
    now = time.time()
    batch: dict[str, list] = {}
    started = time.monotonic()
    for n in range(orders):
        order_id = FIRST_ID + n
        market = tenant.markets[n % len(tenant.markets)]
        facts = {"OrderNo": f"SO-{order_id}", "ClientOrderRef": str(6000000 + n), "Source": "WEB",
                 "FirstName": "Anna", "LastName": "Berg", "CellPhone": "+46701234567"}
        for kind, rows in builder.new_order(tenant, market, order_id, facts, builder.CONFIRMED, now,
                                                world.ids).items():
            batch.setdefault(kind, []).extend(rows)
        if (n + 1) % 20000 == 0 or n + 1 == orders:
            with database.transaction() as db:
                world.rows.insert_all(db, batch)
            batch = {}
            print(f"  {n + 1:>9,} orders written ({time.monotonic() - started:.0f} s)", flush=True)
    database.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        print(f"filling the world with {args.orders:,} orders ...")
        fill(Path(Settings(data_dir=data).world_path()), args.orders)
        proc, base = start_serve(f"http://127.0.0.1:{closed_port()}/", data, timeout=300)
        try:
            client = Client(base)
            status, body, _ = client.request(
                "POST", "/identity/1.0/connect/token",
                b"grant_type=client_credentials&client_id=bench&client_secret=bench&scope=playground",
                {"Content-Type": "application/x-www-form-urlencoded"})
            if status != 200:
                raise RuntimeError(f"token: {status} {body[:200]!r}")
            auth = {"Authorization": f"Bearer {json.loads(body)['access_token']}", "ApplicationId": "1101"}
            rng = random.Random(1)
            times: dict[str, list[float]] = {"healthz": [], "keyed": [], "filter": []}
            for i in range(args.calls + 50):  # the first 50 rounds warm the caches and are not counted
                order_id = FIRST_ID + rng.randrange(args.orders)
                keyed = f"/commerce/query/2.0/Orders/Orders({order_id})?$expand=Items"
                number = FIRST_ID + rng.randrange(args.orders)
                filt = "/commerce/query/2.0/Orders/Orders?$filter=" + urllib.parse.quote(f"OrderNo eq 'SO-{number}'")
                for kind, path, headers in (("healthz", "/healthz", None), ("keyed", keyed, auth),
                                            ("filter", filt, auth)):
                    status, content, ms = client.request("GET", path, headers=headers)
                    if status != 200:
                        raise RuntimeError(f"GET {path}: {status} {content[:300]!r}")
                    if kind == "keyed" and not json.loads(content)["Items"]:
                        raise RuntimeError(f"{path}: an order without rows")
                    if kind == "filter" and len(json.loads(content)["value"]) != 1:
                        raise RuntimeError(f"{path}: expected one order")
                    if i >= 50:
                        times[kind].append(ms)
            client.close()
        finally:
            stop_serve(proc)
    base_p50 = pct(times["healthz"], 50)
    print(f"\n{args.orders:,} orders, {args.calls} calls each (interleaved, one keep-alive connection)")
    print(f"{'request':<10} {'p50 ms':>8} {'p99 ms':>8} {'p50 / healthz':>14}")
    ok = True
    for kind, values in times.items():
        p50, p99 = pct(values, 50), pct(values, 99)
        print(f"{kind:<10} {p50:8.2f} {p99:8.2f} {p50 / base_p50:14.1f}x")
        if kind != "healthz" and p99 >= TARGET_P99_MS:
            ok = False
    print(f"target: p99 under {TARGET_P99_MS:.0f} ms for keyed and filter: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
