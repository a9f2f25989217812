"""Benchmark: payloads per second for generate + validate, per event type.

Prints, for every type, the median rate of ``EventFactory.generate`` (which draws the payload
and validates it against its schema) over a few rounds, and its ratio to ``json.dumps`` of a
fixed, similar dict measured in the same run, so the figures can be compared across machines.
Target (issue 2): at least 10,000 payloads/s on one core for the order events.

    python bench/generate.py [--seconds 0.4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mock_norce.app import build_factory  # noqa: E402
from mock_norce.settings import Settings  # noqa: E402

FIXED = {"ClientId": 1042, "ApplicationId": 1101, "OrderId": 2187292606, "OrderNo": "SO-1425473",
         "ClientOrderRef": "8333528", "CellPhone": "+46737299005", "FirstName": "Kristian",
         "LastName": "Karlsson", "Source": "WEB"}


def rate(fn, seconds: float) -> float:
    """Calls per second of fn, run in batches for about `seconds`."""
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            fn()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.4, help="time per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per figure (median)")
    args = parser.parse_args()

    factory = build_factory(Settings.from_env())
    baseline = statistics.median(rate(lambda: json.dumps(FIXED), args.seconds) for _ in range(args.rounds))
    print(f"baseline json.dumps(fixed order dict): {baseline:,.0f}/s")
    print(f"{'event type':<38} {'stream/s':>10} {'ratio':>7} {'seeded/s':>10} {'ratio':>7}")
    order_rates = []
    for et in factory.catalog:
        rng = random.Random(1)
        stream = statistics.median(
            rate(lambda: factory.generate(et.name, rng=rng), args.seconds) for _ in range(args.rounds))
        seeds = iter(range(10**9))
        # A fresh seed per payload, as an API call with "seed" does.
        seeded = statistics.median(
            rate(lambda: factory.generate(et.name, seed=next(seeds)), args.seconds) for _ in range(args.rounds))
        if et.name.startswith("Order"):
            order_rates.append(min(stream, seeded))
        print(f"{et.name:<38} {stream:>10,.0f} {stream / baseline:>7.3f} {seeded:>10,.0f} {seeded / baseline:>7.3f}")
    worst = min(order_rates)
    verdict = "meets" if worst >= 10_000 else "MISSES"
    print(f"slowest order event: {worst:,.0f} payloads/s ({verdict} the 10,000/s target)")


if __name__ == "__main__":
    main()
