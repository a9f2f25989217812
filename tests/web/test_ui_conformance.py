"""The Conformance page in a real browser: the form runs the battery against a real endpoint,
the report shows each case's verdict and evidence, a refused field is marked where it is, and
both pages pass axe-core and fit 390 px and 1366 px."""

from __future__ import annotations

import pytest

from ..conformance import endpoints as ep
from .browser import axe, new_page, shot
from .test_ui_a11y import LAYOUT, NARROW, WIDE

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def only(page, *types):
    """Untick every event type but these."""
    for box in page.locator("input[name=types]").all():
        box.set_checked(box.get_attribute("value") in types)


def fits(page, width):
    got = page.evaluate(LAYOUT)
    assert got["page"] <= got["viewport"], f"the page scrolls sideways at {width} px: {got}"
    for t in got["tables"]:
        assert t["width"] <= t["room"] or (width == NARROW and t["scrolls"]), t


def test_run_the_battery_from_the_form_and_read_the_report(page, app_url, serve):
    moved = serve(ep.redirect(301))
    page.goto(app_url.url + "/")
    page.click("header nav >> text=Conformance")
    assert page.url.endswith("/conformance") and "Would Norce be happy" in page.inner_text("h1")
    assert page.input_value("input[name=url]") == app_url.subscriber.url + "/hook"  # the default subscriber
    assert axe(page, ("serious", "critical", "moderate")) == []

    page.fill("input[name=url]", "ftp://nowhere/")
    page.click("#conformance-form button[type=submit]")
    field = page.locator("input[name=url]")
    assert field.get_attribute("aria-invalid") == "true"
    assert "not http(s)" in page.inner_text("#" + field.get_attribute("aria-describedby"))
    assert field.input_value() == "ftp://nowhere/"

    page.fill("input[name=url]", moved.url + "/hook")
    only(page, "OrderConfirmedEvent", "OrderDeliveredEvent")
    page.fill("textarea[name=headers]", "Authorization: Bearer s3cret\nX-Shop: nordic")
    page.click("#conformance-form button[type=submit]")
    page.wait_for_url("**/conformance/*", timeout=60000)
    assert page.inner_text("#verdict") == "WARN"  # shown upper-case by the stylesheet
    redirects = page.locator("#case-redirects")
    assert "warn" in redirects.inner_text().lower() and "GET" in redirects.inner_text()
    assert "pass" in page.inner_text("#case-duplicate").lower()
    page.locator("section.evidence details").first.click()
    evidence = page.inner_text("section.evidence")
    assert "X-Shop: nordic" in evidence and "s3cret" not in page.content()
    assert {r.headers["authorization"] for r in moved.requests if r.method == "POST"} == {"Bearer s3cret"}
    assert axe(page, ("serious", "critical", "moderate")) == []
    fits(page, WIDE)
    shot(page, "conformance-report-1366")
    assert page.errors == []

    report_url = page.url
    narrow = new_page(page.context.browser, NARROW, 800)
    try:
        for url, name in ((report_url, "report"), (app_url.url + "/conformance", "form")):
            narrow.goto(url)
            fits(narrow, NARROW)
            shot(narrow, f"conformance-{name}-390")
        assert report_url.rsplit("/", 1)[1] in narrow.inner_text("table")  # listed among the recent reports
    finally:
        narrow.context.close()
    page.goto(app_url.url + "/conformance")
    fits(page, WIDE)
    shot(page, "conformance-form-1366")
