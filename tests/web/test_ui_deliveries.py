"""Deliveries like the best dashboards (issue 14, item 3), in a real browser against `mock-norce
serve`: millisecond times, "attempt n of 17" with a live countdown and Retry now, Copy as cURL
(run, and it posts the same bytes) and Copy body, redeliver to another URL with links both ways,
search and filters with newest/oldest paging, and a confirmed bulk redeliver.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from .browser import axe, new_page, shot, wait_until
from ..servers import Served, answer, http

pytestmark = [pytest.mark.slow, pytest.mark.browser]

MS_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")


def fire(base, event="OrderConfirmedEvent", **body):
    status, data = http("POST", f"{base}/api/events/{event}", body)
    assert status in (200, 202), data
    return data


def mine(violations):
    """axe's serious or critical findings on what this part of the UI added (the page's shared
    grey and nav are another part's, fixed there)."""
    own = ("#progress", "#retry-now", "#redeliver", "#copy-", "#curl", "#redeliveries", "#original",
           "#log-filters", "#bulk-redeliver", "#log-count", ".pager", "#filter-problem")
    return [v for v in violations if any(t.startswith(own) for target in v["targets"] for t in target)]


@pytest.fixture
def slow_retries(tmp_path, serve):
    """A served app whose subscriber answers 503 and whose first retry waits 50 s (scale 10)."""
    failing = serve(answer(503, b"busy"))
    s = Served(tmp_path, MOCK_NORCE_SUBSCRIBER_URL=failing.url + "/hook", MOCK_NORCE_TIME_SCALE="10")
    s.subscriber = failing
    yield s
    s.stop()


def test_attempt_n_of_17_in_ms_with_a_countdown_and_retry_now(page, slow_retries):
    base = slow_retries.url
    did = fire(base, seed=3)["delivery"]["id"]
    wait_until(lambda: http("GET", f"{base}/api/deliveries/{did}")[1]["attempts"] == 1)
    page.goto(f"{base}/deliveries/{did}")
    assert page.inner_text("#attempt-count") == "1 of 17 attempts made"
    assert "attempt 2 of 17 at" in page.inner_text("#next-attempt")
    assert MS_TIME.search(page.inner_text("#attempt-1 summary")), page.inner_text("#attempt-1 summary")
    assert "#1 of 17" in page.inner_text("#attempt-1 summary")
    assert all(MS_TIME.search(t) for t in page.locator("#attempt-1 summary .nowrap").all_inner_texts())
    first = page.inner_text(".countdown")
    assert re.fullmatch(r"in \d+\.\d s", first), first  # about 50 s to go
    assert 40 < float(first.split()[1]) <= 50
    wait_until(lambda: page.inner_text(".countdown") != first)  # it counts down by itself
    assert float(page.inner_text(".countdown").split()[1]) < float(first.split()[1])
    shot(page, "delivery-countdown")
    assert mine(axe(page)) == []
    page.click("#retry-now")
    assert "Retrying delivery" in page.inner_text(".flash.ok")
    wait_until(lambda: page.inner_text("#attempt-count") == "2 of 17 attempts made", timeout=15)
    assert len(slow_retries.subscriber.requests) == 2  # the retry came now, not in 50 s
    assert "attempt 3 of 17" in page.inner_text("#next-attempt")
    assert page.errors == []


def test_copy_as_curl_runs_the_same_post_and_copy_body(browser, app_url):
    base = app_url.url
    status, _ = http("PUT", f"{base}/api/subscriptions/OrderConfirmedEvent",
                     {"headers": {"Authorization": "Bearer s3cret-token", "X-Trace": "it's me"}})
    assert status == 200
    delivery = fire(base + "", seed=9)["delivery"]
    wait_until(lambda: len(app_url.subscriber.requests) == 1)
    sent = app_url.subscriber.requests[0]
    page = new_page(browser)
    try:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page.goto(f"{base}/deliveries/{delivery['id']}")
        page.click("#copy-curl")
        wait_until(lambda: page.inner_text("#copy-note") != "")  # the clipboard write is a promise
        assert page.inner_text("#copy-note") == "Copied the curl command (secrets masked)."
        curl = page.evaluate("navigator.clipboard.readText()")
        assert curl == page.get_attribute("#copy-curl", "data-copy-text")
        assert "s3cret" not in curl and "Authorization: ********" in curl
        assert page.locator("#curl-masked").count() == 1  # and the page says so
        assert curl.startswith(f"curl --location {app_url.subscriber.url}/hook")
        page.click("#copy-body")
        wait_until(lambda: page.inner_text("#copy-note") == "Copied the body, exactly as sent.")
        assert page.evaluate("navigator.clipboard.readText()") == sent.body.decode()
        assert page.errors == []
    finally:
        page.context.close()
    if shutil.which("curl") is None:
        pytest.skip("no curl to run the copied command with")
    subprocess.run(["bash", "-c", curl], check=True, capture_output=True, timeout=20)
    again = app_url.subscriber.requests[-1]
    assert again.body == sent.body  # the very bytes
    headers = {k.lower(): v for k, v in again.headers.items()} if isinstance(again.headers, dict) else \
        {k.lower(): v for k, v in again.headers}
    assert headers["x-trace"] == "it's me" and headers["authorization"] == "********"
    original = {k.lower(): v for k, v in (sent.headers.items() if isinstance(sent.headers, dict) else sent.headers)}
    assert headers["user-agent"] == original["user-agent"] and headers["content-type"] == "application/json"


def test_redeliver_to_another_url_and_the_links_between_them(page, app_url, serve):
    other = serve(answer(200, b"elsewhere"))
    base = app_url.url
    did = fire(base, seed=4)["delivery"]["id"]
    page.goto(f"{base}/deliveries/{did}")
    page.fill("#redeliver-url", "http://169.254.169.254/latest/meta-data")  # refused: link-local
    page.click("#redeliver-to")
    assert "link-local" in page.inner_text(".flash.error") and page.url.endswith(f"/deliveries/{did}")
    assert page.locator("#redeliveries").count() == 0
    page.fill("#redeliver-url", other.url + "/other-hook")
    page.click("#redeliver-to")
    wait_until(lambda: len(other.requests) == 1)
    new_id = int(page.url.rsplit("/", 1)[1])
    assert new_id != did and "to another URL" in page.inner_text(".flash.ok")
    assert page.get_attribute("#original", "href").endswith(f"/deliveries/{did}")
    assert other.url + "/other-hook" in page.locator("#live-attempts pre.http").first.inner_text()
    page.click("#original")
    assert page.url.endswith(f"/deliveries/{did}")
    links = page.locator("#redeliveries a")
    assert links.count() == 1 and links.first.get_attribute("href").endswith(f"/deliveries/{new_id}")
    shot(page, "delivery-redelivered")
    assert mine(axe(page)) == [] and page.errors == []


def test_search_filters_paging_and_a_confirmed_bulk_redeliver(page, app_url, serve):
    base = app_url.url
    failing = serve(answer(500, b"down"))
    orders = [fire(base, seed=s)["payload"] for s in (31, 32, 33)]
    for seed in (41, 42):
        fire(base, "SkuChangedNotification", seed=seed, url=failing.url + "/x")
    wait_until(lambda: http("GET", f"{base}/api/deliveries?code=500")[1]["total"] == 2)
    page.goto(f"{base}/deliveries")
    page.fill("input[name=q]", orders[1]["OrderNo"])
    page.click("#log-filters button[type=submit]")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 1 and "OrderConfirmedEvent" in rows.first.inner_text()
    assert page.inner_text("#log-count") == "1 matching deliveries."
    assert MS_TIME.search(rows.first.inner_text())
    page.goto(f"{base}/deliveries?q=no-such-order-anywhere")
    assert "No deliveries match these filters" in page.inner_text("table.grid")
    # Status code class and an error class.
    page.goto(f"{base}/deliveries")
    page.fill("input[name=code]", "5xx")
    page.click("#log-filters button[type=submit]")
    assert page.locator("table.grid tbody tr").count() == 2
    assert all("SkuChangedNotification" in t for t in page.locator("table.grid tbody tr").all_inner_texts())
    shot(page, "deliveries-filtered")
    assert mine(axe(page)) == []
    # Bulk redeliver: dismissed, nothing happens; accepted, both are queued.
    assert "Redeliver all 2 matching" in page.inner_text("#bulk-redeliver-button")
    page.click("#bulk-redeliver-button")
    assert page.dialogs and "2 matching deliveries" in page.dialogs[-1]
    assert http("GET", f"{base}/api/deliveries?redelivery_of=1")[1]["total"] == 0
    assert http("GET", f"{base}/api/deliveries")[1]["total"] == 5
    page.accept_dialogs = True
    page.click("#bulk-redeliver-button")
    assert "Queued 2 redeliveries of the 2 matching deliveries." in page.inner_text(".flash.ok")
    wait_until(lambda: len(failing.requests) >= 4)
    assert http("GET", f"{base}/api/deliveries")[1]["total"] == 7
    # A bad filter is said beside the form, with its parameter.
    page.goto(f"{base}/deliveries?code=abc")
    assert page.inner_text("#filter-problem").startswith("code:")
    # Oldest first, and back to the newest.
    page.goto(f"{base}/deliveries?order=asc")
    first_row = page.locator("table.grid tbody tr").first.inner_text()
    assert first_row.split()[0] == "1" and "oldest first" in page.inner_text("#log-count")
    page.click("#page-newest")
    assert page.locator("table.grid tbody tr").first.inner_text().split()[0] == "7"
    assert page.errors == []


def test_the_log_pages_and_shows_the_oldest(page, app_url):
    base = app_url.url
    for seed in range(55):
        fire(base, "SkuChangedNotification", seed=seed)
    page.goto(f"{base}/deliveries")
    assert page.inner_text("#log-count") == "55 deliveries; page 1 of 2."
    page.click("#page-older")
    assert page.inner_text("#log-count") == "55 deliveries; page 2 of 2."
    page.click("#page-oldest")
    assert page.locator("table.grid tbody tr").first.inner_text().split()[0] == "1"
    page.click("#page-newer")
    assert page.locator("table.grid tbody tr").first.inner_text().split()[0] == "51"
    assert page.errors == []
    assert json.loads(json.dumps(page.dialogs)) == []
