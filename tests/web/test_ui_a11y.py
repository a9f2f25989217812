"""Accessibility and layout of the UI in a real browser (issue 14): axe-core on every page,
field errors tied to their inputs, a skip link, confirmation before destructive actions, a
layout that fits 390 px and clips no table at 1366 px, and keyboard-only walks.

One served app per module, filled once with what every page needs (a delivered event, one
with failed attempts, a run, a schedule, a sink record), so the page list stays a plain list
of paths: a page added later is one more line in PAGES.
"""

from __future__ import annotations

import re

import pytest

from .browser import axe, new_page, shot, wait_until
from ..servers import Served, Server, answer, http

pytestmark = [pytest.mark.slow, pytest.mark.browser]

WIDE, NARROW = 1366, 390

# Every page of the UI. {names} are filled from the site fixture's data; a {form} page is
# shown with its field errors (posted in the browser before axe runs).
PAGES = [
    "/",
    "/events",
    "/events/OrderConfirmedEvent",
    "/events/OrderConfirmedEvent#errors",
    "/scenarios",
    "/runs",
    "/runs/{run}",
    "/schedules",
    "/schedules#errors",
    "/schedules/{schedule}",
    "/deliveries",
    "/deliveries?status=delivered&type=OrderConfirmedEvent",
    "/deliveries?status=dead&run=no-such-run",
    "/deliveries/{delivered}",
    "/deliveries/{failing}",
    "/subscriptions",
    "/subscriptions#errors",
    "/sink",
    "/conformance",
    "/sink-requests/{sink_request}",
    "/no-such-page",
    "/api/docs",
]


class Site:
    """A served mock-norce with data behind every page."""

    def __init__(self, tmp_path):
        self.subscriber = Server(answer(200, b"thanks"))
        self.failing = Server(answer(500, b"nope"))
        self.served = Served(tmp_path, MOCK_NORCE_SUBSCRIBER_URL=self.subscriber.url + "/hook",
                             MOCK_NORCE_TIME_SCALE="0.01")
        self.url = self.served.url
        try:
            self._fill()
        except BaseException:
            self.close()  # a failed setup must not leave its server running
            raise

    def _fill(self):
        status, fired = http("POST", self.url + "/api/events/OrderConfirmedEvent?wait=5", {"seed": 3})
        assert status == 200, fired
        self.delivered = fired["delivery"]["id"]
        status, fired = http("POST", self.url + "/api/events/OrderConfirmedEvent?wait=2",
                             {"seed": 4, "url": self.failing.url + "/x"})
        self.failing_id = fired["delivery"]["id"]
        wait_until(lambda: http("GET", f"{self.url}/api/deliveries/{self.failing_id}")[1]["attempts"] >= 2)
        http("POST", self.url + "/api/events/SkuChangedNotification?wait=5", {"url": self.url + "/sink/hook"})
        status, run = http("POST", self.url + "/api/scenarios/web-order/runs", {"seed": 1, "time_scale": 0.001})
        assert status == 202, run
        self.run = run["id"]
        http("GET", f"{self.url}/api/runs/{self.run}?wait=10")
        # 55 events: more than a page of the log (its pager is a second nav landmark).
        status, s = http("POST", self.url + "/api/schedules",
                         {"name": "a11y-soak", "event": "JobCompletedEvent", "rate": 50, "rate_per": "second",
                          "count": 55})
        assert status == 201, s
        self.schedule = s["id"]
        # Wide cells for the schedules table: a long name, a mix, a cron line.
        for spec in ({"name": "nightly-soak-of-the-whole-realistic-day-with-web-orders", "rate": 0.01,
                      "mix": {"realistic-day": 3, "web-order": 1}},
                     {"name": "two-in-the-morning", "cron": "0 2 * * 1-5", "scenario": "nightly-jobs"}):
            status, made = http("POST", self.url + "/api/schedules", spec)
            assert status == 201, made
        wait_until(lambda: http("GET", f"{self.url}/api/deliveries?run={self.schedule}")[1]["total"] == 55,
                   timeout=30)
        self.sink_request = http("GET", self.url + "/api/sink?path=hook")[1]["items"][0]["id"]

    def path(self, template: str) -> str:
        return template.format(run=self.run, schedule=self.schedule, delivered=self.delivered,
                               failing=self.failing_id, sink_request=self.sink_request)

    def close(self):
        self.served.stop()
        self.subscriber.close()
        self.failing.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    s = Site(tmp_path_factory.mktemp("a11y"))
    yield s
    s.close()


def open_page(page, site, template: str):
    """Go to a page of PAGES; a '#errors' page is its form posted with bad input."""
    path, _, state = site.path(template).partition("#")
    resp = page.goto(site.url + path)
    if state == "errors":
        show_field_errors(page, path)
    return resp


def show_field_errors(page, path: str) -> None:
    if path.startswith("/events/"):
        page.fill("#field_OrderId", "not a number")
        page.click("#fire")
        page.wait_for_selector("#errors")
    elif path == "/schedules":
        form = page.locator("#schedule-form")
        form.locator("input[name=when][value=cron]").check()
        form.locator("input[name=cron]").fill("99 * * * *")
        page.click("#create-schedule")
        page.wait_for_selector(".flash.error")
    elif path == "/subscriptions":
        sub = page.locator("#sub-JobCompletedEvent")
        sub.locator("textarea[name=headers]").fill("no colon here")
        sub.locator("button[type=submit]").click()
        page.wait_for_selector(".flash.error")


def describe(violations) -> str:
    return "\n".join(f"{v['impact']} {v['id']}: {v['help']} at {v['targets']}" for v in violations)


def page_id(template: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", template.lower()).strip("-") or "dashboard"


# --- 1. axe-core on every page -----------------------------------------------------------------

@pytest.mark.parametrize("template", PAGES, ids=page_id)
def test_every_page_has_no_serious_axe_violation(browser, site, template):
    page = new_page(browser, WIDE, 900)
    try:
        open_page(page, site, template)
        if template == "/api/docs":  # with one operation open: its parameters and schemas too
            page.wait_for_selector("text=fireEvent", timeout=20000)
            page.click("text=fireEvent")
            page.wait_for_selector("text=FireRequest", timeout=10000)
        # Our pages: moderate too. Swagger UI's own markup (heading levels, content outside
        # landmarks) is not ours to restructure: serious and critical only there.
        found = axe(page, failing=("serious", "critical") if template == "/api/docs" else
                    ("serious", "critical", "moderate"))
        shot(page, "a11y-" + page_id(template))
        assert found == [], describe(found)
        assert page.errors == []
    finally:
        page.context.close()


# --- 5. layout: 390 px and 1366 px ---------------------------------------------------------------

LAYOUT = """() => {
  const tables = [...document.querySelectorAll("table")].map((t) => {
    const box = t.parentElement;
    return {table: t.id || t.className, box: box.tagName + (box.id ? "#" + box.id : ""), width: t.scrollWidth,
            room: box.clientWidth, scrolls: ["auto", "scroll"].includes(getComputedStyle(box).overflowX)};
  });
  const nav = [...document.querySelectorAll("header nav a, header a")].map((a) => {
    const r = a.getBoundingClientRect();
    return {link: a.textContent.trim(), left: r.left, right: r.right, shown: r.width > 0 && r.height > 0};
  });
  return {page: document.documentElement.scrollWidth, viewport: window.innerWidth, tables, nav};
}"""


@pytest.mark.parametrize("template", PAGES, ids=page_id)
def test_layout_fits_390_px_and_clips_no_table_at_1366(browser, site, template):
    narrow = new_page(browser, NARROW, 800)
    wide = new_page(browser, WIDE, 900)
    try:
        open_page(narrow, site, template)
        got = narrow.evaluate(LAYOUT)
        assert got["page"] <= got["viewport"], f"the page scrolls sideways at {NARROW} px: {got}"
        assert got["nav"] and all(a["shown"] and a["left"] >= 0 and a["right"] <= NARROW for a in got["nav"]), got["nav"]
        for t in got["tables"]:  # wider than its box: scrolls inside the box
            assert t["width"] <= t["room"] or t["scrolls"], t
        shot(narrow, f"narrow-{page_id(template)}")
        open_page(wide, site, template)
        got = wide.evaluate(LAYOUT)
        assert got["page"] <= got["viewport"], got
        for t in got["tables"]:  # at a laptop's width every column shows, nothing to scroll to
            assert t["width"] <= t["room"], t
    finally:
        narrow.context.close()
        wide.context.close()


# --- 2. field errors tied to their inputs ---------------------------------------------------------

def described_error(page, selector: str) -> str:
    """The error text an invalid input points at (aria-describedby); fails if it is not invalid."""
    field = page.locator(selector)
    assert field.get_attribute("aria-invalid") == "true", selector
    ids = field.get_attribute("aria-describedby")
    assert ids, selector
    return " ".join(page.locator(f"[id='{i}']").inner_text() for i in ids.split())


def test_field_errors_are_tied_to_their_inputs(page, app_url):
    page.goto(app_url.url + "/events/OrderConfirmedEvent")
    page.fill("#field_OrderId", "not a number")
    page.click("#fire")
    page.wait_for_selector("#errors")
    assert "integer" in described_error(page, "#field_OrderId")
    assert page.locator("#field_OrderNo").get_attribute("aria-invalid") is None  # only the field at fault

    page.goto(app_url.url + "/schedules")
    form = page.locator("#schedule-form")
    form.locator("input[name=when][value=cron]").check()
    form.locator("input[name=cron]").fill("99 * * * *")
    page.click("#create-schedule")
    assert "bad cron expression" in described_error(page, "#schedule-form input[name=cron]")
    assert page.locator("#schedule-form input[name=rate]").get_attribute("aria-invalid") is None
    form.locator("input[name=when][value=rate]").check()
    form.locator("input[name=rate]").fill("fast")
    page.click("#create-schedule")
    assert "rate must be a number" in described_error(page, "#schedule-form input[name=rate]")

    page.goto(app_url.url + "/subscriptions")
    sub = page.locator("#sub-JobCompletedEvent")
    sub.locator("textarea[name=headers]").fill("no colon here")
    sub.locator("button[type=submit]").click()
    assert "needs the form Name: value" in described_error(page, "#sub-JobCompletedEvent textarea[name=headers]")
    assert page.locator("#sub-JobCompletedEvent textarea").input_value() == "no colon here"  # kept as typed
    sub = page.locator("#sub-JobCompletedEvent")
    sub.locator("textarea[name=headers]").fill("")
    sub.locator("input[name=url]").fill("ftp://example.com/hook")
    sub.locator("button[type=submit]").click()
    assert "ftp://example.com/hook" in described_error(page, "#sub-JobCompletedEvent input[name=url]")
    assert page.locator("#sub-OrderConfirmedEvent input[name=url]").get_attribute("aria-invalid") is None
    shot(page, "a11y-subscription-error")
    assert page.errors == []


def test_the_login_page_passes_axe_and_ties_its_error_to_the_token_field(page, tmp_path):
    served = Served(tmp_path, MOCK_NORCE_API_TOKEN="a-token-for-the-a11y-test")
    try:
        page.goto(served.url + "/")
        assert "/login" in page.url
        assert axe(page, failing=("serious", "critical", "moderate")) == []
        page.fill("input[name=token]", "wrong")
        page.click("button[type=submit]")
        assert "not the token" in described_error(page, "input[name=token]")
        assert axe(page, failing=("serious", "critical", "moderate")) == []
    finally:
        served.stop()


# --- 3. the skip link ------------------------------------------------------------------------------

def focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement, r = e.getBoundingClientRect(), s = getComputedStyle(e);
      return {tag: e.tagName, id: e.id, text: (e.textContent || "").trim(), name: e.name || "", top: r.top,
              height: r.height, outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth)}; }""")


@pytest.mark.parametrize("path", ["/", "/events/OrderConfirmedEvent", "/deliveries"])
def test_a_skip_link_is_the_first_tab_stop_and_goes_to_main(page, app_url, path):
    page.goto(app_url.url + path)
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["tag"] == "A" and first["text"] == "Skip to content", first
    assert first["top"] >= 0 and first["height"] > 0  # shown when focused
    assert first["outline"] != "none" and first["outlineWidth"] >= 2  # and its focus is visible
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    page.keyboard.press("Tab")  # the next stop is inside the content, past the navigation
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
    assert page.evaluate("!document.querySelector('header').contains(document.activeElement)")


# --- 4. confirmation before destructive actions ----------------------------------------------------

def test_deleting_a_schedule_asks_first(page, app_url):
    status, s = http("POST", app_url.url + "/api/schedules", {"name": "keep-me", "event": "JobCompletedEvent",
                                                               "cron": "0 2 * * *"})
    assert status == 201, s
    page.goto(f"{app_url.url}/schedules/{s['id']}")
    page.click("#delete")  # the page fixture dismisses the dialog
    assert page.dialogs and "Delete schedule keep-me?" in page.dialogs[-1]
    assert http("GET", f"{app_url.url}/api/schedules/{s['id']}")[0] == 200  # dismissed: still there
    assert page.url.endswith(f"/schedules/{s['id']}")
    page.accept_dialogs = True
    page.click("#delete")
    page.wait_for_selector(".flash.ok")
    assert len(page.dialogs) == 2
    assert http("GET", f"{app_url.url}/api/schedules/{s['id']}")[0] == 404  # accepted: deleted


def test_clearing_the_sink_asks_first(page, app_url):
    http("POST", app_url.url + "/api/events/JobCompletedEvent?wait=5", {"url": app_url.url + "/sink/hook"})
    page.goto(app_url.url + "/sink")
    assert page.locator("#live-sink tbody tr td.empty").count() == 0
    page.click("form[action$='/sink-clear'] button")
    assert page.dialogs and "Clear" in page.dialogs[-1]
    assert http("GET", app_url.url + "/api/sink")[1]["items"]  # dismissed: kept
    page.accept_dialogs = True
    page.click("form[action$='/sink-clear'] button")
    page.wait_for_selector("#live-sink td.empty")
    assert http("GET", app_url.url + "/api/sink")[1]["items"] == []


def test_cancelling_a_run_asks_first(page, app_url):
    # web-order waits a minute and more between steps at time scale 1: it is running throughout.
    status, run = http("POST", app_url.url + "/api/scenarios/web-order/runs", {"seed": 5, "time_scale": 1})
    assert status == 202, run
    page.goto(f"{app_url.url}/runs/{run['id']}")
    page.click("button:has-text('Cancel run')")
    assert page.dialogs and f"Cancel run {run['id']}?" in page.dialogs[-1]
    assert http("GET", f"{app_url.url}/api/runs/{run['id']}")[1]["status"] == "running"  # dismissed
    page.accept_dialogs = True
    page.click("button:has-text('Cancel run')")
    wait_until(lambda: http("GET", f"{app_url.url}/api/runs/{run['id']}")[1]["status"] != "running")
    assert page.errors == []


# --- 6. keyboard only ------------------------------------------------------------------------------

def tab_to(page, selector: str, limit: int = 400, key: str = "Tab") -> dict:
    """Press Tab until the focus is on ``selector``; the focus ring must show on the way."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            now = focused(page)
            assert now["outline"] != "none" and now["outlineWidth"] >= 2, now  # a visible focus ring
            return now
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_fire_an_event(page, app_url):
    page.goto(app_url.url + "/events")
    tab_to(page, "a.skip-link")
    tab_to(page, "#type-OrderConfirmedEvent")
    page.keyboard.press("Enter")
    page.wait_for_url("**/events/OrderConfirmedEvent")
    tab_to(page, "#field_OrderNo")
    page.keyboard.press("Control+A")
    page.keyboard.type("KEYBOARD-1")
    tab_to(page, "#fire")
    page.keyboard.press("Enter")
    page.wait_for_selector("#delivery-status .badge.delivered", timeout=10000)
    assert '"KEYBOARD-1"' in app_url.subscriber.requests[-1].body.decode()
    assert page.errors == []


def test_keyboard_only_redeliver(page, app_url):
    status, fired = http("POST", app_url.url + "/api/events/JobCompletedEvent?wait=5", {})
    did = fired["delivery"]["id"]
    page.goto(f"{app_url.url}/deliveries/{did}")
    tab_to(page, "#redeliver")
    page.keyboard.press("Space")
    page.wait_for_selector("text=a redelivery of", timeout=10000)
    assert page.url.endswith(f"/deliveries/{did + 1}")
    wait_until(lambda: len(app_url.subscriber.requests) >= 2)


def test_keyboard_only_create_a_schedule(page, app_url):
    page.goto(app_url.url + "/schedules")
    tab_to(page, "#schedule-form input[name=name]")
    page.keyboard.type("by-keyboard")
    tab_to(page, "#schedule-form input[name=rate]")  # 'event' and 'rate' are the checked defaults
    page.keyboard.type("20")
    tab_to(page, "#schedule-form input[name=count]")
    page.keyboard.type("3")
    tab_to(page, "#create-schedule")
    page.keyboard.press("Enter")
    page.wait_for_selector("#schedule-status .badge")
    assert "by-keyboard" in page.inner_text("h1")
    wait_until(lambda: len(app_url.subscriber.requests) >= 3)
    assert page.errors == []
