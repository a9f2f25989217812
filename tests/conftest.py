"""Shared fixtures: settings pointing at the repository's fixtures, and the event factory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from mock_norce.app import build_factory
from mock_norce.catalogue.payloads import EventFactory
from mock_norce.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def pytest_configure(config):
    # A server or CLI a test starts without its own data directory falls back to the per-user
    # one (platformdirs: $XDG_DATA_HOME/mock-norce): point that at a directory of this run, so
    # no test reads or writes the developer's own log (or another checkout's, run at once).
    config._mock_norce_xdg = tempfile.mkdtemp(prefix="mock-norce-tests-xdg-")
    os.environ["XDG_DATA_HOME"] = config._mock_norce_xdg


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_mock_norce_xdg", ""), ignore_errors=True)


def require_all() -> bool:
    """In CI (MOCK_NORCE_REQUIRE_ALL=1) a missing tool is a failure, not a skip."""
    return os.environ.get("MOCK_NORCE_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str):
    if require_all():
        pytest.fail(f"required in CI but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(fixtures_dir=ROOT / "mock_norce" / "fixtures")


@pytest.fixture(scope="session")
def factory(settings) -> EventFactory:
    return build_factory(settings)


@pytest.fixture
def serve():
    """Start real local subscribers (tests/servers.py); all are closed after the test."""
    from .servers import Server

    started = []

    def make(handler):
        server = Server(handler)
        started.append(server)
        return server
    yield make
    for server in started:
        server.close()


@pytest.fixture
def served(tmp_path):
    started = []

    def make(**env):
        from .servers import Served

        s = Served(tmp_path, **env)
        started.append(s)
        return s
    yield make
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait(5)
