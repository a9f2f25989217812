"""The app in process for the API tests: a core on an in-memory database, delivering to a
real local subscriber that answers 200, with Flask's test client."""

from __future__ import annotations

import pytest

from mock_norce.app import build_core, create_app

from ..servers import answer


@pytest.fixture
def subscriber(serve):
    return serve(answer(200, b"ok"))


@pytest.fixture
def app(settings, subscriber):
    core = build_core(settings.with_(subscriber_url=subscriber.url, time_scale=0.001), database=":memory:")
    app = create_app(core=core)
    core.start()
    yield app
    core.stop()


@pytest.fixture
def client(app):
    return app.test_client()


# The browser fixtures (Chromium, a page, a served app), shared by every tests/web/test_ui_*.py.
from .browser import app_url, browser, page  # noqa: E402,F401
