"""Issue 14, items 5 and 6 in a real browser: schedules as readable as Locust (numbers with
units, a uPlot chart with axes, UTC time labels, gridlines, a tooltip, p50/p99 latency,
delivered/s and the backlog), the sink's detail of one request linked to its delivery, a
scenario's steps, and a run's current step with its wait counting down.

Each page is checked with axe-core (0 serious or critical violations) and with no script
error or CSP report in the console.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from .browser import axe, shot, wait_until
from ..servers import http

pytestmark = [pytest.mark.slow, pytest.mark.browser]

RAW_FLOAT = re.compile(r"\d+\.\d{3,}")  # 8352.227, 2482.166: what the pages showed before


# What uPlot draws on a canvas, kept on the canvas element: the texts (ticks, axis labels) and
# stroke colours (gridlines, series) of its latest drawing (a drawing starts with a clearRect).
DRAWN = """
(() => {
  const proto = CanvasRenderingContext2D.prototype;
  const clear = proto.clearRect, fill = proto.fillText, stroke = proto.stroke;
  proto.clearRect = function (...a) { this.canvas.drawnTexts = []; this.canvas.drawnStrokes = new Set(); return clear.apply(this, a); };
  proto.fillText = function (text, ...a) { (this.canvas.drawnTexts ||= []).push(String(text)); return fill.call(this, text, ...a); };
  proto.stroke = function (...a) { (this.canvas.drawnStrokes ||= new Set()).add(String(this.strokeStyle)); return stroke.apply(this, a); };
})();
"""


def console_problems(page) -> list:
    """Console errors and CSP reports from now on (a blocked style or script logs one)."""
    seen: list = []
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" or "Content Security Policy" in m.text
            else None)
    return seen


def test_a_schedule_reads_like_locust(page, app_url):
    problems = console_problems(page)
    status, s = http("POST", app_url.url + "/api/schedules",
                     {"name": "ui-soak", "event": "JobCompletedEvent", "rate": 40, "count": 240})
    assert status == 201, s
    wait_until(lambda: http("GET", f"{app_url.url}/api/schedules/{s['id']}")[1]["figures"]["delivered"] == 240,
               timeout=30)
    page.add_init_script(DRAWN)
    page.goto(f"{app_url.url}/schedules/{s['id']}")
    page.wait_for_selector("#chart-rate canvas")
    cards = page.locator("#figures")
    wait_until(lambda: page.inner_text("[data-figure=delivered]") == "240")
    # Numbers with units: a rate per second, latencies in ms or s; no raw floats anywhere.
    assert re.fullmatch(r"[\d,]+(\.\d+)? /s", page.inner_text("[data-figure=achieved_rate]"))
    assert re.fullmatch(r"[\d,]+(\.\d+)? /s", page.inner_text("[data-figure=delivered_rate]"))
    assert re.fullmatch(r"[\d.]+ (ms|s)", page.inner_text("[data-figure='latency_ms.p99']"))
    assert page.inner_text("[data-figure=backlog]") == "0"
    assert not RAW_FLOAT.search(cards.inner_text()), cards.inner_text()
    # Generated and delivered explained, one sentence each.
    explained = page.inner_text("#figures-explained")
    assert "Generated" in explained and "Delivered" in explained and "backlog" in explained
    # The charts: axes with units, time labels, gridlines, the series named, p50 and p99 (not the
    # average). uPlot draws ticks, labels and grids on its canvas: what it drew last, as recorded
    # by DRAWN (the texts and stroke colours since its last clear).
    drawn = page.evaluate("""() => Object.fromEntries(['rate', 'latency'].map((name) => {
        const c = document.querySelector('#chart-' + name + ' canvas');
        return [name, {texts: c.drawnTexts || [], strokes: [...(c.drawnStrokes || [])]}];
    }))""")
    rate, latency = drawn["rate"], drawn["latency"]
    assert "#e3e6ec" in rate["strokes"] and "#e3e6ec" in latency["strokes"], drawn  # the gridlines
    assert "events / s" in rate["texts"] and "backlog" in rate["texts"], rate  # the axes' labels
    assert any(re.search(r":\d\d", t) for t in rate["texts"]), rate  # time labels: :24, :24.500, 7:06am
    assert sum(t.endswith(" /s") for t in rate["texts"]) >= 2, rate
    assert "latency" in latency["texts"], latency
    assert any(re.fullmatch(r"[\d.,]+ (ms|s)", t) for t in latency["texts"]), latency
    assert not any(re.fullmatch(r"0\.0+ ms", t) for t in latency["texts"]), latency
    legend = page.inner_text("#chart-rate .u-legend") + page.inner_text("#chart-latency .u-legend")
    for name in ("generated/s", "delivered/s", "backlog", "p50", "p99"):
        assert name in legend, legend
    # A tooltip at the cursor: the UTC time with ms and each value with its unit.
    box = page.locator("#chart-rate .u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = page.locator("#chart-rate .chart-tip")
    tip.wait_for(state="visible")
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} UTC", tip.inner_text()) and "generated/s: " in tip.inner_text()
    shot(page, "schedule-figures")
    assert axe(page) == []
    # The list: the same formatting, and every column in view at 1366 px (none clipped).
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(app_url.url + "/schedules")
    row = page.locator("#live-schedules tbody tr").first
    assert re.search(r"[\d,]+(\.\d+)? /s", row.inner_text()) and not RAW_FLOAT.search(row.inner_text())
    table = page.locator("#live-schedules table").bounding_box()
    panel = page.locator("#live-schedules").bounding_box()
    assert table["width"] <= panel["width"] + 1
    assert axe(page) == []
    assert page.errors == [] and problems == [], problems


def test_the_figures_csv_and_api_carry_p50_p99_and_the_backlog(page, app_url):
    status, s = http("POST", app_url.url + "/api/schedules", {"event": "JobCompletedEvent", "rate": 20, "count": 20})
    wait_until(lambda: http("GET", f"{app_url.url}/api/schedules/{s['id']}")[1]["figures"]["delivered"] == 20)
    page.goto(f"{app_url.url}/schedules/{s['id']}")
    with page.expect_download() as download:
        page.click("#csv")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert {"latency_p50_ms", "latency_p99_ms", "backlog", "delivered_per_s"} <= set(rows[0])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["t"]) for r in rows)
    assert rows[-1]["backlog"] == "0"
    assert any(r["latency_p50_ms"] for r in rows)


def test_the_sink_shows_one_request_whole_and_the_delivery_that_sent_it(page, app_url):
    problems = console_problems(page)
    http("PUT", app_url.url + "/api/subscriptions/OrderConfirmedEvent",
         {"url": app_url.url + "/sink/detail?x=1", "headers": {"X-Shop": "nordic"}})
    status, fired = http("POST", app_url.url + "/api/events/OrderConfirmedEvent?wait=5",
                         {"overrides": {"OrderNo": "SINK-1", "OrderId": 9007199254740993}})
    did = fired["delivery"]["id"]
    page.goto(app_url.url + "/sink")
    row = page.locator("#live-sink tbody tr").filter(has_text="/sink/detail").first
    row.locator("td a").first.click()
    page.wait_for_url(re.compile(r".*/sink-requests/\d+$"))
    assert page.inner_text("#request-line") == "POST /sink/detail?x=1"
    headers = page.inner_text("#request-headers")
    assert "X-Shop" in headers and "nordic" in headers and "application/json" in headers
    body = page.inner_text("#request-body")
    assert '\n  "OrderNo": "SINK-1",' in body and '"OrderId": 9007199254740993' in body  # pretty, exact
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} UTC", page.inner_text(".lead"))
    assert axe(page) == []
    shot(page, "sink-request")
    page.click("#sender-link")
    page.wait_for_url(f"**/deliveries/{did}")
    # A request no delivery sent says so.
    http("POST", app_url.url + "/sink/by-hand", {"hello": 1})
    page.goto(app_url.url + "/sink")
    page.locator("#live-sink tbody tr").filter(has_text="/sink/by-hand").first.locator("td a").first.click()
    assert page.locator("#no-sender").is_visible()
    assert page.errors == [] and problems == [], problems


def test_a_scenario_shows_its_steps(page, app_url):
    page.goto(app_url.url + "/scenarios")
    page.click("#steps-web-order summary")
    steps = page.locator("#outline-web-order-step-0, #outline-web-order-step-1, #outline-web-order-step-5")
    texts = [t.strip() for t in steps.all_inner_texts()]
    assert texts[0].startswith("emit OrderReceivedEvent as received for order")
    assert texts[1].startswith("wait 2 s") and texts[2].startswith("wait 1 min")
    page.click("#steps-realistic-day summary")
    branch = page.locator("#outline-realistic-day-step-2")
    assert "branch 1: weight 40" in branch.inner_text() and "depth-2" in branch.get_attribute("class")
    assert axe(page) == []


def test_a_run_shows_its_current_step_and_the_wait_counting_down(page, app_url):
    problems = console_problems(page)
    page.goto(app_url.url + "/scenarios")
    form = page.locator("#scenario-web-order form")
    form.locator("input[name=time_scale]").fill("10")  # wait 2 s -> 20 s, 5 s -> 50 s: time to look
    form.locator("button").click()
    page.wait_for_selector("#run-step-1.current", timeout=10000)
    current = page.locator("#run-steps li.current")
    assert current.get_attribute("aria-current") == "step" and "wait 2 s" in current.inner_text()
    assert "20 s at time scale 10" in current.inner_text()
    assert "played" in page.get_attribute("#run-step-0", "class")

    def left() -> float:
        match = re.search(r"([\d.]+) s left", page.inner_text("#run-where"))
        return float(match.group(1)) if match else -1.0
    first = left()
    assert 0 < first <= 20
    wait_until(lambda: 0 <= left() < first - 0.5)  # counts down, live
    # The step links the delivery it made.
    link = page.locator("#run-step-0 .step-deliveries a")
    wait_until(lambda: link.count() == 1)  # recorded once its write commits; the live refresh brings it
    run_id = page.url.rsplit("/", 1)[1]
    api = http("GET", f"{app_url.url}/api/runs/{run_id}")[1]
    assert api["progress"]["current"] == 1 and api["progress"]["state"] == "waiting"
    assert link.inner_text() == f"#{api['steps'][0]['deliveries'][0]}"
    assert axe(page) == []
    shot(page, "run-waiting")
    link.click()
    page.wait_for_url(f"**/deliveries/{api['steps'][0]['deliveries'][0]}")
    http("POST", f"{app_url.url}/api/runs/{run_id}/cancel")
    assert page.errors == [] and problems == [], problems
