"""Onboarding, the fire form and "do this from code" in a real browser (issue 14, items 2, 4, 7
and two of its bugs), against `mock-norce serve` with a real subscriber answering 200.

Each test was run against main's templates, script and views and failed there.
"""

from __future__ import annotations

import json

import pytest

from .browser import axe, shot, wait_until
from ..servers import http

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def in_viewport(page, selector: str) -> bool:
    """Whether the element's box is wholly inside the window as scrolled now (under the sticky header)."""
    box = page.locator(selector).bounding_box()
    header = page.locator("header.top").bounding_box()
    view = page.viewport_size
    return box is not None and box["y"] >= header["height"] and box["y"] + box["height"] <= view["height"]


# --- the two bugs --------------------------------------------------------------------------

def test_a_bad_subscriber_url_is_reported_at_the_url_field_not_as_a_schema_error(page, app_url):
    page.goto(app_url.url + "/events/OrderConfirmedEvent")
    page.fill("#url", "ftp://nowhere.example/hook")
    page.click("#fire")
    errors = page.inner_text("#errors")
    assert "subscriber URL" in errors and "schema" not in errors
    assert page.get_attribute("#url", "aria-invalid") == "true"
    described = page.get_attribute("#url", "aria-describedby")
    assert "ftp://nowhere.example/hook" in page.inner_text(f"#{described}")
    assert page.locator("#field-table .field-error").count() == 0  # no field blamed
    assert app_url.subscriber.requests == []
    shot(page, "fire-bad-url")
    assert page.errors == []


def test_after_saving_a_subscription_its_confirmation_is_in_view(page, app_url):
    page.set_viewport_size({"width": 1366, "height": 700})
    page.goto(app_url.url + "/subscriptions")
    last = page.locator("form.sub").last
    name = last.get_attribute("id").removeprefix("sub-")
    last.locator("input[name=url]").fill(app_url.subscriber.url + "/own")
    last.locator("button").click()
    page.wait_for_selector(f"#sub-{name} .flash.ok")
    assert f"{name} saved." in page.inner_text(f"#sub-{name} .flash.ok")
    assert in_viewport(page, f"#sub-{name} .flash.ok")
    # A refused change says why in the same row, keeps what was typed, and answers 422.
    row = page.locator(f"#sub-{name}")
    row.locator("input[name=url]").fill("gopher://x.example/")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        row.locator("button").click()
    assert posted.value.status == 422
    assert "not saved" in page.inner_text(f"#sub-{name} .flash.error")
    assert page.locator(f"#sub-{name} input[name=url]").input_value() == "gopher://x.example/"
    assert in_viewport(page, f"#sub-{name} .flash.error")
    assert page.errors == []


# --- the fire form ---------------------------------------------------------------------------

def test_the_fire_form_sends_an_invalid_payload_on_purpose_clearly_marked(page, app_url):
    page.goto(app_url.url + "/events/OrderConfirmedEvent")
    page.fill("#field_OrderId", "not a number")
    page.click("#fire")  # refused first: the schema is enforced unless asked otherwise
    assert "$.OrderId" in page.inner_text("#errors") and "Send even if it breaks" in page.inner_text("#errors")
    assert page.get_attribute("#field_OrderId", "aria-invalid") == "true"
    page.check("#invalid")
    assert "invalid-on" in page.get_attribute("#fire-form", "class")  # the warning style
    assert "even if invalid" in page.inner_text("#fire")
    shot(page, "fire-invalid-on-purpose")
    page.click("#fire")
    page.wait_for_selector("#delivery-status .badge.delivered", timeout=10000)
    assert "invalid on purpose" in page.inner_text(".flash.ok")
    did = int(page.url.rstrip("/").rsplit("/", 1)[1])
    status, d = http("GET", f"{app_url.url}/api/deliveries/{did}")
    assert d["valid"] is False
    assert json.loads(app_url.subscriber.requests[0].body)["OrderId"] == "not a number"
    assert page.errors == []


def test_the_raw_json_mode_sends_the_body_as_written_big_integers_exact(page, app_url):
    page.goto(app_url.url + "/events/OrderConfirmedEvent")
    page.fill("#field_OrderNo", "FROM-FIELDS")
    page.check("input[name=mode][value=raw]")
    assert page.locator("#raw-json").is_visible() and not page.locator("#field-table").is_visible()
    body = json.loads(page.input_value("#raw-json"))
    assert body["OrderNo"] == "FROM-FIELDS"  # the fields' edits carried over
    page.fill("#raw-json", "{not json")
    assert "not valid JSON" in page.inner_text("#preview-note")
    body.update(OrderId=9007199254740993, OrderNo="RAW-1")
    page.fill("#raw-json", json.dumps(body, indent=2))
    assert '"OrderId": 9007199254740993' in page.inner_text("#preview")
    page.check("input[name=mode][value=fields]")  # and back: the digits survive
    assert page.input_value("#field_OrderId") == "9007199254740993"
    page.check("input[name=mode][value=raw]")
    shot(page, "fire-raw-json")
    page.click("#fire")
    page.wait_for_selector("#delivery-status .badge.delivered", timeout=10000)
    sent = json.loads(app_url.subscriber.requests[0].body)
    assert sent == body and sent["OrderId"] == 9007199254740993
    # Bad JSON posted (no script: straight to the server) is a 422 that says so, text kept.
    page.goto(app_url.url + "/events/OrderConfirmedEvent")
    page.check("input[name=mode][value=raw]")
    page.fill("#raw-json", '{"OrderId": ')
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#fire")
    assert posted.value.status == 422
    assert "not valid JSON" in page.inner_text("#errors")
    assert page.input_value("#raw-json") == '{"OrderId": '
    assert len(app_url.subscriber.requests) == 1
    assert page.errors == []


def test_new_sample_asks_before_discarding_edits(page, app_url):
    page.goto(app_url.url + "/events/OrderConfirmedEvent?seed=5")
    page.click("#new-sample")  # nothing edited: no question
    page.wait_for_url(lambda url: "seed=5" not in url)
    assert page.dialogs == []
    page.fill("#field_OrderNo", "KEEP-ME")
    page.click("#new-sample")  # dismissed (the fixture's default): the edit stays
    assert page.dialogs == ["Discard your edits and load a new sample?"]
    assert page.input_value("#field_OrderNo") == "KEEP-ME"
    page.accept_dialogs = True
    page.click("#new-sample")
    wait_until(lambda: page.input_value("#field_OrderNo") != "KEEP-ME")
    assert len(page.dialogs) == 2
    assert page.errors == []


# --- onboarding ------------------------------------------------------------------------------

def test_the_dashboard_says_what_this_is_where_events_go_and_fires_a_first_event(page, app_url, serve):
    from ..servers import answer

    page.goto(app_url.url + "/")
    assert "Norce Commerce's webhook events" in page.inner_text("h1")
    assert page.input_value("#default-url") == app_url.subscriber.url + "/hook"
    # A bad URL: refused at its field, with the reason, 422, nothing changed.
    page.fill("#default-url", "ftp://nowhere.example/")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#save-default-url")
    assert posted.value.status == 422
    assert page.get_attribute("#default-url", "aria-invalid") == "true"
    assert "ftp://nowhere.example/" in page.inner_text("#default-url-error")
    assert http("GET", app_url.url + "/api/subscriptions/default")[1]["url"] == app_url.subscriber.url + "/hook"
    # A good one: saved, confirmed in view, and the API says so.
    other = serve(answer(200, b"other"))
    page.fill("#default-url", other.url + "/new")
    page.click("#save-default-url")
    page.wait_for_selector("#default-url-saved")
    assert other.url + "/new" in page.inner_text("#default-url-saved")
    assert http("GET", app_url.url + "/api/subscriptions/default")[1]["url"] == other.url + "/new"
    shot(page, "dashboard-onboarding")
    # One click: a sample OrderConfirmedEvent, and its delivery page.
    page.click("#fire-sample")
    page.wait_for_selector("#delivery-status .badge.delivered", timeout=10000)
    assert "/deliveries/" in page.url and "OrderConfirmedEvent" in page.inner_text("main")
    wait_until(lambda: len(other.requests) == 1)
    assert "OrderId" in json.loads(other.requests[0].body) and app_url.subscriber.requests == []
    assert page.errors == []


def test_the_api_links_open_the_readable_docs(page, app_url):
    page.goto(app_url.url + "/")
    for link in ("header.top a.doc", "#api-docs-link"):
        page.goto(app_url.url + "/")
        page.click(link)
        page.wait_for_url("**/api/docs")
        page.wait_for_selector("#swagger-ui .info", timeout=10000)  # rendered, not raw JSON
    assert page.errors == []


# --- "Do this from code": the snippets a page shows do what the UI did ------------------------

def snippet(page, n: int, kind: str, details: str = "#from-code") -> str:
    page.click(f"{details} > summary")
    return page.inner_text(f"{details}-{n}-{kind}")


def shell(command: str, tmp_path) -> str:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_fire_snippets_send_exactly_what_the_ui_sent(page, app_url, tmp_path):
    page.goto(app_url.url + "/events/OrderConfirmedEvent")
    page.fill("#field_OrderNo", "SNIP 'quoted' \"too\"")
    page.fill("#field_OrderId", "9007199254740993")
    page.click("#fire")
    page.wait_for_selector("#delivery-status .badge.delivered", timeout=10000)
    sent = app_url.subscriber.requests[0].body
    curl = snippet(page, 0, "curl")
    cli = page.inner_text("#from-code-0-cli")
    test = page.inner_text("#from-code-0-pytest")
    shot(page, "delivery-from-code")
    assert "/api/events/OrderConfirmedEvent" in curl and "9007199254740993" in curl
    answer = json.loads(shell(curl, tmp_path))
    assert answer["delivery"]["status"] == "delivered"
    assert app_url.subscriber.requests[1].body == sent  # the same bytes: same fields, same order
    assert json.loads(shell(cli, tmp_path))["delivery"]["status"] == "delivered", cli
    assert app_url.subscriber.requests[2].body == sent, cli
    # The pytest snippet, under the plugin (its own server, sending to the same subscriber).
    (tmp_path / "test_snippet.py").write_text(test)
    shell(f"python -m pytest -q -p no:cacheprovider -p no:randomly {tmp_path / 'test_snippet.py'}", tmp_path)
    assert app_url.subscriber.requests[3].body == sent
    # Redeliver: curl and the CLI make redeliveries of this delivery.
    did = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert json.loads(shell(page.inner_text("#from-code-1-curl"), tmp_path))["redelivery_of"] == did
    assert json.loads(shell(page.inner_text("#from-code-1-cli"), tmp_path))["redelivery_of"] == did
    compile(page.inner_text("#from-code-1-pytest"), "redeliver", "exec")
    page.click("button.copy[data-copy=from-code-0-curl]")
    wait_until(lambda: page.inner_text("button.copy[data-copy=from-code-0-curl]") in ("Copied", "Select and copy"))
    assert page.errors == []


def test_the_settings_snippets_do_what_the_ui_did(page, app_url, tmp_path):
    # A subscription change: its curl snippet puts the same settings back after a reset.
    page.goto(app_url.url + "/subscriptions")
    row = page.locator("#sub-JobCompletedEvent")
    row.locator("input[name=url]").fill(app_url.subscriber.url + "/jobs")
    row.locator("textarea[name=headers]").fill("x-norce-event-type: JobCompletedEvent")
    row.locator("button").click()
    page.wait_for_selector("#sub-JobCompletedEvent .flash.ok")
    curl = snippet(page, 0, "curl")
    compile(page.inner_text("#from-code-0-pytest"), "subscription", "exec")
    http("POST", app_url.url + "/api/reset", {})
    shell(curl, tmp_path)
    subs = http("GET", app_url.url + "/api/subscriptions")[1]["subscriptions"]
    [job] = [s for s in subs if s["event_type"] == "JobCompletedEvent"]
    assert job["url"] == app_url.subscriber.url + "/jobs" and job["headers"] == {"x-norce-event-type": "JobCompletedEvent"}
    # The default URL: its CLI snippet sets it again after a reset.
    page.goto(app_url.url + "/")
    page.fill("#default-url", app_url.subscriber.url + "/default-2")
    page.click("#save-default-url")
    page.wait_for_selector("#default-url-saved")
    cli = snippet(page, 0, "cli")
    compile(page.inner_text("#from-code-0-pytest"), "default", "exec")
    http("POST", app_url.url + "/api/reset", {})
    shell(cli, tmp_path)
    assert http("GET", app_url.url + "/api/subscriptions/default")[1]["url"] == app_url.subscriber.url + "/default-2"
    # A scenario run: the CLI snippet on its page starts the same run (same seed, same payloads).
    page.goto(app_url.url + "/scenarios")
    form = page.locator("#scenario-web-order form")
    form.locator("input[name=seed]").fill("77")
    form.locator("input[name=time_scale]").fill("0")
    form.locator("button").click()
    page.wait_for_selector("#run-status .badge.completed", timeout=20000)
    run = json.loads(shell(snippet(page, 0, "cli"), tmp_path))
    assert run["seed"] == 77 and run["scenario"] == "web-order" and run["time_scale"] == 0
    compile(page.inner_text("#from-code-0-pytest"), "run", "exec")
    # A schedule: the curl snippet on the page the form leads to creates the same one.
    page.goto(app_url.url + "/schedules")
    form = page.locator("#schedule-form")
    form.locator("input[name=what][value=event]").check()
    form.locator("input[name=when][value=interval]").check()
    form.locator("input[name=interval]").fill("1h")
    page.click("#create-schedule")
    page.wait_for_selector("#schedule-status .badge.active")
    made = json.loads(shell(snippet(page, 0, "curl"), tmp_path))
    first = http("GET", app_url.url + "/api/schedules")[1][-1]
    assert made["spec"] == first["spec"] and made["seed"] == first["seed"]
    compile(page.inner_text("#from-code-0-pytest"), "schedule", "exec")
    assert page.errors == []
