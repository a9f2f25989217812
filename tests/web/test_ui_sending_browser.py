"""The Subscriptions page's "Sending" settings (retry policy, Content-Type, redirect header rule,
optional fields posted) and a delivery's page under the legacy policy, in a real browser against
`mock-norce serve`; the snippets the page shows put the same settings back."""

from __future__ import annotations

import json
import os

import pytest

from .browser import SHOTS, axe, new_page, shot, wait_until
from .test_ui_onboarding import shell, snippet
from ..servers import http

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_sending_settings_in_the_subscription_form_reach_the_wire(page, app_url, tmp_path):
    page.goto(app_url.url + "/subscriptions")
    row = page.locator("#sub-OrderConfirmedEvent")
    assert "current policy" in row.locator("details.sending summary").inner_text()
    row.locator("details.sending summary").click()
    row.locator("select[name=policy]").select_option("legacy")
    row.locator("select[name=content_type]").select_option("application/json; charset=utf-8")
    row.locator("select[name=redirect_headers]").select_option("dotnet")
    row.locator("input[name=posted][value=CellPhone]").uncheck()
    row.locator("button").click()
    page.wait_for_selector("#sub-OrderConfirmedEvent .flash.ok")
    summary = page.locator("#sub-OrderConfirmedEvent details.sending summary").inner_text()
    assert "legacy policy" in summary and "not posted: CellPhone" in summary and "dotnet" in summary
    assert axe(page) == []
    shot(page, "subscriptions-sending")

    # An event of that type: sent as set, and its page names the policy and its 10 attempts.
    fired = http("POST", app_url.url + "/api/events/OrderConfirmedEvent?wait=10", {"seed": 5})[1]
    req = app_url.subscriber.requests[-1]
    assert req.headers["content-type"] == "application/json; charset=utf-8"
    assert "CellPhone" not in json.loads(req.body)
    page.goto(f"{app_url.url}/deliveries/{fired['delivery']['id']}")
    assert "1 of 10 attempts made" in page.inner_text("#attempt-count")
    assert "legacy" in page.inner_text("#delivery-policy")
    assert "Authorization dropped" in page.inner_text("#redirect-rule")
    assert axe(page) == []
    shot(page, "delivery-legacy")

    # The curl and CLI snippets of the saved subscription put the same settings back after a reset.
    page.goto(app_url.url + "/subscriptions?saved=OrderConfirmedEvent")
    curl, cli = snippet(page, 0, "curl"), page.inner_text("#from-code-0-cli")
    compile(page.inner_text("#from-code-0-pytest"), "subscription", "exec")
    for command in (curl, cli):
        http("POST", app_url.url + "/api/reset", {})
        shell(command, tmp_path)
        subs = http("GET", app_url.url + "/api/subscriptions")[1]["subscriptions"]
        [sub] = [s for s in subs if s["event_type"] == "OrderConfirmedEvent"]
        assert (sub["policy"], sub["content_type"], sub["redirect_headers"], sub["omit"]) == (
            "legacy", "application/json; charset=utf-8", "dotnet", ["CellPhone"]), command
    assert page.errors == []


def test_a_refused_sending_setting_is_shown_at_its_field(page, app_url):
    page.goto(app_url.url + "/subscriptions")
    row = page.locator("#sub-OrderConfirmedEvent")
    row.locator("details.sending summary").click()
    # A value the form does not offer (a stale page, a hand-made request): refused at its field.
    row.locator("select[name=policy]").evaluate(
        "s => { const o = document.createElement('option'); o.value = 'middle'; o.text = 'middle'; s.add(o); s.value = 'middle'; }")
    row.locator("button").click()
    page.wait_for_selector("#sub-OrderConfirmedEvent .flash.error")
    row = page.locator("#sub-OrderConfirmedEvent")
    assert row.locator("details.sending").get_attribute("open") is not None  # opened at the fault
    assert row.locator("select[name=policy]").get_attribute("aria-invalid") == "true"
    assert "policy must be one of current, legacy" in row.locator("#error-OrderConfirmedEvent-policy").inner_text()
    subs = http("GET", app_url.url + "/api/subscriptions")[1]["subscriptions"]
    assert all(s["policy"] is None for s in subs)  # nothing saved
    assert axe(page) == []


@pytest.mark.parametrize("width", [1366, 390])
def test_the_sending_settings_fit_the_page(browser, app_url, width):
    page = new_page(browser, width=width)
    try:
        page.goto(app_url.url + "/subscriptions")
        row = page.locator("#sub-OrderConfirmedEvent")
        row.locator("details.sending summary").click()
        wait_until(lambda: row.locator("select[name=redirect_headers]").is_visible())
        # Nothing wider than the page: no horizontal scrolling at either width.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        box, form = row.locator("select[name=redirect_headers]").bounding_box(), row.bounding_box()
        assert box["x"] + box["width"] <= form["x"] + form["width"] + 1
        row.scroll_into_view_if_needed()
        shot(page, f"subscriptions-sending-{width}")
        if SHOTS:  # the row itself, to look at
            row.screenshot(path=os.path.join(SHOTS, f"subscription-row-{width}.png"))
    finally:
        page.context.close()


def test_a_delivery_the_legacy_policy_does_not_retry_says_why(page, app_url, serve):
    from ..servers import answer

    gone = serve(answer(404))
    http("PUT", app_url.url + "/api/subscriptions/JobCompletedEvent", {"url": gone.url + "/x", "policy": "legacy"})
    d = http("POST", app_url.url + "/api/events/JobCompletedEvent?wait=10", {"seed": 1})[1]["delivery"]
    assert d["status"] == "dead" and d["attempts"] == 1
    page.goto(f"{app_url.url}/deliveries/{d['id']}")
    assert "1 of 10 attempts made" in page.inner_text("#attempt-count")
    assert "dead at once: HTTP 404 (not retried: the legacy policy retries only HTTP 500)" in page.inner_text(
        "#not-retried")
    assert "not retried: the legacy policy retries only HTTP 500" in page.inner_text("#attempt-1")
    assert axe(page) == []
    shot(page, "delivery-legacy-not-retried")
