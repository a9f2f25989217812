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
def make_app(settings):
    """An app (its core started, stopped after the test) delivering to `subscriber_url` at `time_scale`."""
    cores = []

    def make(subscriber_url: str, time_scale: float = 0.001):
        core = build_core(settings.with_(subscriber_url=subscriber_url, time_scale=time_scale), database=":memory:")
        cores.append(core)
        core.start()
        return create_app(core=core)

    yield make
    for core in cores:
        core.stop()


@pytest.fixture
def app(make_app, subscriber):
    return make_app(subscriber.url)


@pytest.fixture
def client(app):
    return app.test_client()


# The browser fixtures (Chromium, a page, a served app), shared by every tests/web/test_ui_*.py.
from .browser import app_url, browser, page  # noqa: E402,F401
