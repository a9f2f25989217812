"""Take the README's screenshots from the real app: docs/screenshots/<page>-<width>.png.

Starts `mock-norce serve` (its own data in a temp dir; the built-in sink as subscriber), makes
the state worth showing through the control API (events delivered, one answered 503 and
retrying, a scenario run, a soak schedule running for a few seconds), then opens each page in
Debian's Chromium (Playwright) at 1366 px and 390 px wide and saves a full-page PNG.

    python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_norce.testing.server import start  # noqa: E402

WIDTHS = (1366, 390)


def make_state(client) -> dict[str, str]:
    """The pages to shoot, as (name -> path), after making something to show on each."""
    for seed in range(1, 6):
        client.fire("OrderConfirmedEvent", seed=seed, wait=5)
    client.fire("SkuPriceChangedNotification", seed=7, wait=5)
    # A subscriber answering 503: the delivery page shows its attempts and the next one.
    failing = client.fire("OrderDeliveredEvent", seed=8, url=client.sink.url("flaky", status=503))
    run = client.run("web-order", seed=42)
    client.wait_run(run, timeout=30)
    schedule = client.call("POST", "/api/schedules", {"name": "soak: a day's mix", "mix": {
        "web-order": 6, "click-and-collect": 2, "order-cancelled": 1}, "rate": 40, "rate_per": "second",
        "duration": "60s", "seed": 1})
    time.sleep(8)  # the schedule's figures: some seconds of points on its chart
    return {
        "dashboard": "/",
        "fire-form": "/events/OrderConfirmedEvent?seed=42",
        "delivery": f"/deliveries/{failing.id}",
        "schedule": f"/schedules/{schedule['id']}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    server = start({"MOCK_NORCE_TIME_SCALE": "0.01"}, cwd=ROOT)
    try:
        client = server.client()
        pages = make_state(client)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
            try:
                for width in WIDTHS:
                    context = browser.new_context(viewport={"width": width, "height": 900})
                    page = context.new_page()
                    for name, path in pages.items():
                        page.goto(server.url + path, wait_until="load")
                        page.wait_for_timeout(1500)  # the live parts' first refresh (chart, countdowns)
                        target = args.out / f"{name}-{width}.png"
                        page.screenshot(path=str(target), full_page=True)
                        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
                    context.close()
            finally:
                browser.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
