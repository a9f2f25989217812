"""Seeded chaos in the UI (issue 15, item 2), in a real browser against `mock-norce serve`: set
on a subscription, a run and a schedule from their forms, refused next to the field, and told
apart in the log (a "chaos" badge, a filter) and on the delivery page (what chaos did, the
first attempt failed on purpose with the subscriber's real answer kept)."""

from __future__ import annotations

import pytest

from .browser import axe, new_page, shot, wait_until
from ..servers import http

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def mine(violations):
    """axe's serious or critical findings on what chaos added to the pages."""
    own = (".badge.chaos", "#chaos", ".chaos-note", ".sub-chaos", "input[name=\"chaos\"]", "#run-chaos",
           "#schedule-chaos", "select[name=\"chaos\"]", "#log-filters")
    return [v for v in violations if any(t.startswith(own) for target in v["targets"] for t in target)]


def test_chaos_set_on_a_subscription_is_told_apart_in_the_log_and_on_the_delivery(page, app_url):
    page.goto(app_url.url + "/subscriptions")
    form = page.locator("#sub-OrderConfirmedEvent")
    form.locator("input[name=chaos]").fill("fail_first=1, duplicate=1, seed=4")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#saved")
    assert page.locator("#sub-OrderConfirmedEvent input[name=chaos]").input_value() == \
        "duplicate=1,fail_first=1,seed=4"
    status, fired = http("POST", app_url.url + "/api/events/OrderConfirmedEvent?wait=10", {"seed": 3})
    did = fired["delivery"]["id"]
    http("POST", app_url.url + "/api/events/SkuChangedNotification?wait=10", {"seed": 3})
    wait_until(lambda: http("GET", f"{app_url.url}/api/deliveries/{did}")[1]["status"] == "delivered")
    wait_until(lambda: len(app_url.subscriber.requests) == 4)  # the event twice, its duplicate, the other

    page.goto(app_url.url + "/deliveries")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 3 and page.locator("table.grid .badge.chaos").count() == 2
    assert "duplicate of" in page.locator("table.grid .badge.chaos").first.get_attribute("title")
    page.select_option("select[name=chaos]", "no")
    page.click("#log-filters button[type=submit]")
    assert "chaos=no" in page.url and rows.count() == 1 and "SkuChangedNotification" in rows.first.inner_text()
    page.select_option("select[name=chaos]", "yes")
    page.click("#log-filters button[type=submit]")
    assert rows.count() == 2
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"chaos-log-{width}")
    assert mine(axe(page)) == []

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{app_url.url}/deliveries/{did}")
    panel = page.locator("#chaos")
    assert "on purpose, not your endpoint" in panel.inner_text()
    assert "first attempt to count as failed on purpose" in panel.inner_text()
    assert f"/deliveries/{did + 1}" in page.get_attribute("#chaos-duplicate", "href")
    first = page.locator("#attempt-1")
    first.locator("summary").click()
    assert first.locator(".badge.chaos").is_visible() and first.locator(".code.ok").inner_text() == "200"
    assert "the subscriber's real answer: HTTP 200" in first.locator(".chaos-note").inner_text()
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"chaos-delivery-{width}")
    assert mine(axe(page)) == [] and page.errors == []
    page.click("#chaos-duplicate")
    assert "duplicate of" in page.inner_text("#chaos")
    page.click("#chaos-original")
    assert page.url.endswith(f"/deliveries/{did}")


def test_a_bad_chaos_is_said_next_to_its_field(page, app_url):
    page.goto(app_url.url + "/subscriptions")
    form = page.locator("#sub-OrderConfirmedEvent")
    form.locator("input[name=chaos]").fill("duplicate=3")
    form.locator("button[type=submit]").click()
    field = page.locator("#sub-OrderConfirmedEvent input[name=chaos]")
    assert field.get_attribute("aria-invalid") == "true" and field.input_value() == "duplicate=3"
    assert "probability between 0 and 1" in page.inner_text("#error-OrderConfirmedEvent-chaos")
    shot(page, "chaos-subscription-refused")
    assert mine(axe(page)) == []
    assert http("GET", app_url.url + "/api/subscriptions")[1]["subscriptions"][0]["chaos"] is None

    page.goto(app_url.url + "/schedules")
    page.fill("form input[name=chaos]", "delay=forever")
    page.click("#create-schedule")
    field = page.locator("form input[name=chaos]")
    assert field.get_attribute("aria-invalid") == "true"
    assert "chaos.delay" in page.inner_text("#error-chaos")
    assert http("GET", app_url.url + "/api/schedules")[1] == []


def test_a_run_and_a_schedule_with_chaos_from_their_forms(page, app_url):
    page.goto(app_url.url + "/scenarios")
    form = page.locator("#scenario-web-order form")
    form.locator("input[name=seed]").fill("77")
    form.locator("input[name=time_scale]").fill("0.002")
    form.locator("input[name=chaos]").fill("fail_first=1")
    form.locator("button").click()
    assert page.inner_text("#run-chaos") == "fail_first=1,seed=77"
    page.wait_for_selector("#run-status .badge.completed", timeout=20000)
    assert page.locator("table.grid .badge.chaos").count() == 6
    assert len(app_url.subscriber.requests) == 12
    shot(page, "chaos-run")

    page.goto(app_url.url + "/schedules")
    page.check("input[name=what][value=event]")
    page.check("input[name=when][value=interval]")
    page.fill("input[name=interval]", "1h")
    page.fill("form input[name=chaos]", "duplicate=1")
    page.click("#create-schedule")
    assert page.inner_text("#schedule-chaos") == "duplicate=1"
    shot(page, "chaos-schedule")
    assert mine(axe(page)) == [] and page.errors == []
