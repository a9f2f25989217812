"""The UI in a real browser (Playwright driving Debian's Chromium) against `mock-norce serve`.

Marked ``slow`` (with ``browser``): ``./dev test`` runs them, ``-m "not slow"`` not. Without
Chromium they skip with the reason; in CI (MOCK_NORCE_REQUIRE_ALL=1) they fail instead.
"""

from __future__ import annotations

import json

import pytest

from .browser import shot, wait_until
from ..servers import answer
from ..servers import http

XSS = b'<script>window.__pwned = 1; alert("x")</script><img src=x onerror="window.__pwned = 2">'

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_fire_an_edited_event_and_see_it_in_the_log(page, app_url):
    page.goto(app_url.url + "/events")
    page.click("#type-OrderConfirmedEvent")
    page.fill("#field_OrderNo", "UI-TEST-42")
    assert '"OrderNo": "UI-TEST-42"' in page.inner_text("#preview")  # the preview follows the form
    page.fill("#field_OrderId", "not a number")
    assert "OrderId: not an integer" in page.inner_text("#preview-note")
    shot(page, "fire-form-invalid")
    page.click("#fire")
    assert page.locator("#errors").is_visible()  # refused by the server: nothing sent
    assert "$.OrderId" in page.inner_text("#errors")
    assert app_url.subscriber.requests == []
    page.fill("#field_OrderId", "1234567890123")
    page.click("#fire")
    page.wait_for_selector("#delivery-status .badge.delivered", timeout=10000)
    shot(page, "delivery-after-fire")
    body = json.loads(app_url.subscriber.requests[0].body)
    assert body["OrderNo"] == "UI-TEST-42" and body["OrderId"] == 1234567890123
    page.click("text=Deliveries")
    row = page.locator("table.grid tbody tr").first
    assert "OrderConfirmedEvent" in row.inner_text() and "delivered" in row.inner_text()
    assert page.errors == []


def test_run_a_scenario_and_watch_it_complete(page, app_url):
    page.goto(app_url.url + "/scenarios")
    form = page.locator("#scenario-web-order form")
    form.locator("input[name=seed]").fill("77")
    form.locator("input[name=time_scale]").fill("0.002")
    form.locator("button").click()
    assert page.locator("#run-status .badge").inner_text() in ("running", "completed")
    page.wait_for_selector("#run-status .badge.completed", timeout=20000)  # refreshed live, no reload
    shot(page, "run-completed")
    assert page.inner_text("#run-events") == "6"
    assert len(app_url.subscriber.requests) == 6
    assert page.errors == []


def test_a_script_in_a_response_never_runs_and_redeliver(page, app_url, serve):
    evil = serve(answer(500, XSS, {"Content-Type": "text/html"}))
    status, data = http("POST", app_url.url + "/api/events/SkuChangedNotification?wait=2",
                        {"url": evil.url + "/x"})
    did = data["delivery"]["id"]
    page.goto(f"{app_url.url}/deliveries/{did}")
    shown = page.locator(".response-body").first.inner_text()
    assert shown == XSS.decode()  # shown as text...
    page.wait_for_timeout(1500)  # ...through a live refresh or two
    assert page.evaluate("window.__pwned") is None  # ...and never executed
    assert page.dialogs == []
    shot(page, "xss-delivery")
    page.click("#redeliver")
    page.wait_for_selector("text=a redelivery of", timeout=5000)
    assert f"/deliveries/{did + 1}" in page.url
    assert page.evaluate("window.__pwned") is None and page.dialogs == []
    assert len(evil.requests) >= 2


def test_a_delivery_shows_the_order_behind_its_event(page, app_url):
    status, fired = http("POST", app_url.url + "/api/events/OrderConfirmedEvent?wait=5", {"seed": 8})
    assert status == 200, fired
    event = fired["payload"]
    http("POST", f"{app_url.url}/api/orders/{event['OrderId']}/advance", {"to": "Delivered"})
    page.goto(f"{app_url.url}/deliveries/{fired['delivery']['id']}")
    entity = page.locator("#entities details.entity[data-kind=order]")
    assert f"Orders({event['OrderId']})" in entity.locator("summary").inner_text()
    entity.locator("summary").click()
    shown = json.loads(entity.locator("pre.json").inner_text())  # the order as the Query API serves it now
    assert shown["OrderNo"] == event["OrderNo"] and shown["StatusId"] == 4 and shown["Items"]
    shot(page, "delivery-entities")
    assert page.errors == []


def test_dashboard_and_pages_render_without_errors(page, app_url):
    http("POST", app_url.url + "/api/events/OrderConfirmedEvent?wait=5", {})
    for path in ("/", "/events", "/scenarios", "/runs", "/deliveries", "/subscriptions", "/sink"):
        resp = page.goto(app_url.url + path)
        assert resp.status == 200, path
        assert resp.headers["content-security-policy"].startswith("default-src 'self'")
        shot(page, "page" + path.replace("/", "-"))
    assert page.errors == []


def test_subscription_form_saves_and_masks(page, app_url):
    page.goto(app_url.url + "/subscriptions")
    sub = page.locator("#sub-JobCompletedEvent")
    sub.locator("textarea[name=headers]").fill("Authorization: Bearer very-secret\nx-norce-event-type: JobCompletedEvent")
    sub.locator("button").click()
    assert "JobCompletedEvent saved." in page.inner_text(".flash")
    text = page.locator("#sub-JobCompletedEvent textarea").input_value()
    assert "very-secret" not in text and "Authorization: ********" in text
    page.locator("#sub-JobCompletedEvent button").click()  # saved again unchanged: the secret stays
    http("POST", app_url.url + "/api/events/JobCompletedEvent?wait=5", {})
    assert app_url.subscriber.requests[-1].headers["authorization"] == "Bearer very-secret"


def test_create_a_schedule_watch_the_figures_move_and_pause_it(page, app_url):
    page.goto(app_url.url + "/schedules")
    form = page.locator("#schedule-form")
    form.locator("input[name=name]").fill("ui-soak")
    form.locator("input[name=what][value=mix]").check()
    form.locator("textarea[name=mix]").fill("realistic-day: 3\nweb-order: 1")
    form.locator("input[name=when][value=rate]").check()
    form.locator("input[name=rate]").fill("20")
    form.locator("input[name=duration]").fill("2m")
    page.click("#create-schedule")
    page.wait_for_selector("#schedule-status .badge.active")
    generated = page.locator("[data-figure=generated]")

    def count() -> int:
        text = generated.inner_text().replace(",", "")  # 1,234: thousands separated
        return int(text) if text.isdigit() else 0
    wait_until(lambda: count() > 20)
    first = count()
    wait_until(lambda: count() > first)  # the figures move without a reload
    page.wait_for_selector("#chart-rate canvas", state="attached")  # uPlot's (tests/web/test_ui_schedules.py)
    shot(page, "schedule-live")
    page.click("#pause")
    page.wait_for_selector("#schedule-status .badge.paused")
    page.wait_for_timeout(1500)
    settled = count()
    page.wait_for_timeout(2000)
    assert count() == settled  # paused: no more events
    assert page.errors == []


def test_a_bad_schedule_in_the_form_says_why(page, app_url):
    page.goto(app_url.url + "/schedules")
    form = page.locator("#schedule-form")
    form.locator("input[name=when][value=cron]").check()
    form.locator("input[name=cron]").fill("99 * * * *")
    page.click("#create-schedule")
    assert "Not created: bad cron expression" in page.inner_text(".flash.error")
    assert page.locator("input[name=cron]").input_value() == "99 * * * *"  # the form keeps what was typed


def test_the_api_docs_render_the_operations_with_no_csp_error(page, app_url):
    console, outside = [], []
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(app_url.url) else None)
    page.goto(app_url.url + "/")
    page.click("text=API")  # the UI's nav leads to the docs
    assert page.url == app_url.url + "/api/docs"
    page.wait_for_selector("text=fireEvent", timeout=20000)
    assert page.locator("#operations-tag-events").count() == 1 and page.locator("#operations-tag-sink").count() == 1
    page.click("text=fireEvent")  # an operation opens with its parameters and schemas
    page.wait_for_selector("text=FireRequest", timeout=10000)
    shot(page, "api-docs")
    assert page.errors == [] and outside == []
    assert not [text for kind, text in console if kind == "error" or "Content Security Policy" in text], console


def test_a_schedules_deliveries_link_to_it_and_its_csv_has_iso_times(page, app_url):
    # Issue 14's bugs: the Run link of a schedule's events went to /runs/s-... (404), and the
    # CSV wrote every time as 1.79555e+09.
    import csv
    import io
    import re

    status, s = http("POST", app_url.url + "/api/schedules",
                     {"event": "JobCompletedEvent", "rate": 20, "rate_per": "second", "count": 10})
    assert status == 201, s
    wait_until(lambda: http("GET", f"{app_url.url}/api/deliveries?run={s['id']}&status=delivered")[1]["total"] == 10)
    page.goto(app_url.url + "/deliveries")
    link = page.locator(f"td a:has-text('schedule {s['id']}')").first
    link.click()
    page.wait_for_url(f"**/schedules/{s['id']}")
    assert page.locator("#schedule-status").count() == 1
    page.goto(app_url.url + "/deliveries")
    page.locator("td a:has-text('JobCompletedEvent')").first.click()
    page.locator(f".lead a:has-text('schedule {s['id']}')").click()
    page.wait_for_url(f"**/schedules/{s['id']}")
    with page.expect_download() as download:
        page.click("#csv")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert rows and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["t"]) for r in rows), rows[:2]
    assert not any("e+" in value for r in rows for value in r.values())
    assert sum(float(r["generated_per_s"]) * float(r["width"]) for r in rows) == pytest.approx(10, abs=0.01)
    assert page.errors == []


def test_a_filter_that_matches_nothing_says_so_not_no_deliveries_yet(page, app_url):
    assert http("POST", app_url.url + "/api/events/JobCompletedEvent?wait=5", {})[0] == 200
    page.goto(app_url.url + "/deliveries?type=OrderCancelledEvent")
    empty = page.inner_text("td.empty")
    assert "No deliveries match these filters" in empty and "No deliveries yet" not in empty
    page.click("td.empty a")
    assert page.locator("td a:has-text('JobCompletedEvent')").count() == 1
    page.goto(app_url.url + "/")  # the dashboard of an empty log still invites a first event
    http("DELETE", app_url.url + "/api/deliveries", {})
    page.reload()
    assert "No deliveries yet" in page.inner_text("td.empty")


def test_the_preview_shows_an_int64_id_exactly_and_it_is_sent_so(page, app_url):
    # 2^53 + 1: a JS number would round it to ...992 while the note promises "exactly like this".
    page.goto(app_url.url + "/events")
    page.click("#type-OrderConfirmedEvent")
    page.fill("#field_OrderId", "9007199254740993")
    assert '"OrderId": 9007199254740993,' in page.inner_text("#preview")
    page.click("#fire")
    page.wait_for_selector("#delivery-status .badge.delivered", timeout=10000)
    assert b'"OrderId":9007199254740993,' in app_url.subscriber.requests[-1].body
    assert page.errors == []


def test_a_live_refresh_keeps_the_attempts_the_reader_opened_and_closed(page, app_url, serve):
    failing = serve(answer(500, b"no"))
    status, data = http("POST", app_url.url + "/api/events/JobCompletedEvent", {"url": failing.url + "/x"})
    did = data["delivery"]["id"]
    # Time scale 0.01: retries after 0.05, 0.1, 0.15, 0.3, 0.6, 1.2, then 3 and 6 s.
    wait_until(lambda: http("GET", f"{app_url.url}/api/deliveries/{did}")[1]["attempts"] >= 7, timeout=20)
    page.goto(f"{app_url.url}/deliveries/{did}")
    attempts = page.locator("details.attempt")
    n = attempts.count()
    assert page.locator(f"#attempt-{n}").get_attribute("open") is not None  # the newest, open by default
    page.click(f"#attempt-{n} > summary")  # the reader closes it...
    page.click("#attempt-1 > summary")  # ...and opens the first
    wait_until(lambda: page.locator("details.attempt").count() > n, timeout=30)  # a live refresh brought one more
    assert page.locator("#attempt-1").get_attribute("open") is not None
    assert page.locator(f"#attempt-{n}").get_attribute("open") is None
    assert page.locator(f"#attempt-{n + 1}").get_attribute("open") is not None  # a new one: the default
    assert page.errors == []
