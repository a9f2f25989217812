"""What every browser test shares: Debian's Chromium driven by Playwright, a page that records
dialogs and script errors, a served app with a real subscriber, polling from Python, and
axe-core (the copy packaged by axe-playwright-python) run inside the page.

The fixtures are registered in ``tests/web/conftest.py``; test modules import the helpers.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from ..conftest import skip_or_fail
from ..servers import Served, answer

CHROMIUM = os.environ.get("MOCK_NORCE_CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("MOCK_NORCE_SCREENSHOTS")  # a directory: save a screenshot of each step
# axe-core's impacts that fail a page (the bar: 0 serious or critical).
AXE_FAILING = ("serious", "critical")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def new_page(browser, width: int = 1400, height: int = 900):
    """A page in a fresh context that records dialogs (dismissed unless ``page.accept_dialogs``)
    and uncaught script errors (``page.errors``)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    dialogs, errors = [], []

    def on_dialog(d):
        dialogs.append(d.message)
        d.accept() if getattr(pg, "accept_dialogs", False) else d.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.dialogs, pg.errors = dialogs, errors
    return pg


@pytest.fixture
def page(browser):
    pg = new_page(browser)
    yield pg
    pg.context.close()


@pytest.fixture
def app_url(tmp_path, serve):
    subscriber = serve(answer(200, b"thanks"))
    s = Served(tmp_path, MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/hook", MOCK_NORCE_TIME_SCALE="0.01")
    s.subscriber = subscriber
    yield s
    s.stop()


def wait_until(condition, timeout: float = 10.0) -> None:
    # Polled from Python: the CSP (rightly) forbids the string eval of page.wait_for_function.
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def shot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _axe_source() -> str:
    try:
        import axe_playwright_python
    except ImportError:
        skip_or_fail("axe-playwright-python is not installed (it carries axe-core)")
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def axe(page, failing=AXE_FAILING) -> list[dict]:
    """Run axe-core on the page as it is now; return the violations of the failing impacts,
    each as {id, impact, help, targets}. Injected through the DevTools protocol (page.evaluate),
    which the page's CSP does not govern, so the app's CSP stays as strict as it ships."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    result = page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in failing]
