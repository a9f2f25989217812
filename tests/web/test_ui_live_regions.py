"""Live regions refresh without destroying what the reader is using (issue 14 review): the
keyboard focus stays on a delivery's Retry now, and a run page's "Do this from code" block,
outside its live regions, keeps its open state and the reader's text selection. And the
snippet shown after "Redeliver to another URL" carries that URL (its curl and CLI forms run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .browser import wait_until
from ..servers import Served, answer, http

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def refreshed(page, region: str, times: int = 2) -> None:
    """Wait until the live region `region` has been replaced `times` times (a second apart:
    over 2 s in all): a mark on its first child is gone once the refresh brought new nodes."""
    for _ in range(times):
        page.evaluate("(id) => { document.getElementById(id).firstElementChild.stale = true; }", region)
        wait_until(lambda: page.evaluate("(id) => !document.getElementById(id).firstElementChild.stale", region),
                   timeout=20)


def active_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


@pytest.fixture
def retrying(tmp_path, serve):
    """A served app whose subscriber answers 503 and whose first retry waits 50 s (scale 10)."""
    failing = serve(answer(503, b"busy"))
    s = Served(tmp_path, MOCK_NORCE_SUBSCRIBER_URL=failing.url + "/hook", MOCK_NORCE_TIME_SCALE="10")
    s.subscriber = failing
    yield s
    s.stop()


def test_retry_now_keeps_the_keyboard_focus_across_refreshes(page, retrying):
    base = retrying.url
    status, fired = http("POST", f"{base}/api/events/OrderConfirmedEvent", {"seed": 4})
    did = fired["delivery"]["id"]
    wait_until(lambda: http("GET", f"{base}/api/deliveries/{did}")[1]["attempts"] == 1)
    page.goto(f"{base}/deliveries/{did}")
    for _ in range(80):  # the keyboard only: Tab to Retry now
        page.keyboard.press("Tab")
        if active_id(page) == "retry-now":
            break
    assert active_id(page) == "retry-now"
    refreshed(page, "live-delivery")
    assert active_id(page) == "retry-now"
    page.keyboard.press("Enter")  # and it still acts
    page.wait_for_selector(".flash.ok")
    assert "Retrying delivery" in page.inner_text(".flash.ok")
    assert page.errors == []


def test_the_run_pages_snippets_keep_their_open_state_and_selection_across_refreshes(page, app_url):
    status, run = http("POST", app_url.url + "/api/scenarios/web-order/runs", {"seed": 5, "time_scale": 10})
    assert status in (200, 201, 202), run
    try:
        page.goto(f"{app_url.url}/runs/{run['id']}")
        page.click("#from-code > summary")
        page.click("#from-code-0-cli", click_count=3)  # select the CLI command, as a reader would
        selected = page.evaluate("() => window.getSelection().toString()")
        assert "mock-norce run web-order" in selected
        refreshed(page, "live-run")
        assert page.get_attribute("#from-code", "open") is not None
        assert page.evaluate("() => window.getSelection().toString()") == selected
        assert page.errors == []
    finally:
        http("POST", f"{app_url.url}/api/runs/{run['id']}/cancel")


def shell(command: str, cwd) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_snippet_after_redeliver_to_another_url_carries_it(page, app_url, tmp_path):
    base = app_url.url
    status, fired = http("POST", f"{base}/api/events/OrderConfirmedEvent?wait=10", {"seed": 6})
    did = fired["delivery"]["id"]
    other = app_url.subscriber.url + "/moved"
    page.goto(f"{base}/deliveries/{did}")
    page.fill("#redeliver-url", other)
    page.click("#redeliver-to")
    page.wait_for_selector("#original")
    page.click("#from-code > summary")
    # The second snippet is how this one was made: its original, to the other URL.
    assert page.text_content("#from-code h3:nth-of-type(2)") == f"Redeliver delivery {did} to another URL"
    for kind in ("curl", "cli"):
        made = json.loads(shell(page.inner_text(f"#from-code-1-{kind}"), tmp_path))
        assert made["redelivery_of"] == did and made["url"] == other, (kind, made)
        wait_until(lambda: http("GET", f"{base}/api/deliveries/{made['id']}")[1]["status"] == "delivered")
    assert sum(r.path == "/moved" for r in app_url.subscriber.requests) == 3  # the UI's, curl's, the CLI's
    assert page.errors == []
