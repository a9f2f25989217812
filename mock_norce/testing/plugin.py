"""The pytest plugin (entry point ``mock_norce``): a mock-norce per session, reset per test.

Fixtures:
- ``mock_norce_server``: session-scoped; the URL of a mock-norce to use. In order of choice:
  ``--mock-norce-url`` / ``MOCK_NORCE_URL`` (one you run yourself), ``--mock-norce-image``
  (a container of that image, through testcontainers), else ``mock-norce serve`` started as a
  child process on a free port with its own temporary data. Under pytest-xdist each worker is
  its own session, so each gets its own server and nothing is shared between workers.
- ``mock_norce``: function-scoped ``Client``; everything is reset before each test.

Settings for the started server: the ini option ``mock_norce_env`` (lines ``NAME=value``),
e.g. ``MOCK_NORCE_TIME_SCALE=0.001`` to make Norce's 22 hours of retries last 80 s.
Loading this module imports nothing of the server: only the client (standard library).
"""

from __future__ import annotations

import os
import warnings
from typing import Iterator

import pytest

from mock_norce.testing.client import Client


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-norce", "mock-norce (Norce Commerce webhook test double)")
    group.addoption("--mock-norce-url", default=None, metavar="URL",
                    help="use the mock-norce at URL (default: MOCK_NORCE_URL; unset: start one per session)")
    group.addoption("--mock-norce-image", default=None, metavar="IMAGE",
                    help="start the mock-norce container IMAGE (testcontainers) instead of a child process")
    group.addoption("--mock-norce-network", default=None, metavar="MODE",
                    help="the container's network mode with --mock-norce-image (host: where only loopback is allowed)")
    group.addoption("--mock-norce-token", default=None, metavar="TOKEN",
                    help="the server's MOCK_NORCE_API_TOKEN (default: MOCK_NORCE_URL_TOKEN)")
    parser.addini("mock_norce_env", type="linelist", default=[],
                  help="NAME=value lines: settings of the mock-norce the plugin starts")


def _env(config: pytest.Config) -> dict[str, str]:
    out = {}
    for n, line in enumerate(config.getini("mock_norce_env"), 1):
        name, eq, value = line.partition("=")
        if not eq or not name.strip().startswith("MOCK_NORCE_"):
            raise pytest.UsageError(f"mock_norce_env line {n} ({line!r}): write MOCK_NORCE_NAME=value")
        out[name.strip()] = value.strip()
    return out


@pytest.fixture(scope="session")
def mock_norce_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The base URL of the session's mock-norce (yours, a container, or a child process)."""
    config = request.config
    url = config.getoption("--mock-norce-url") or os.environ.get("MOCK_NORCE_URL")
    if url:
        client = Client(url, token=_token(config))
        if not client.healthy():
            raise pytest.UsageError(f"no healthy mock-norce at {url} (GET {url.rstrip('/')}/healthz failed)")
        if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
            # One server for every worker: each test's reset would wipe what another worker's
            # test is waiting for. Said once per worker, as a warning in pytest's summary.
            warnings.warn(pytest.PytestWarning(
                f"pytest-xdist workers share the mock-norce at {url}: each test's reset clears the others' "
                "deliveries; leave MOCK_NORCE_URL unset (a server per worker) or run with -n 0"))
        yield url.rstrip("/")
        return
    image = config.getoption("--mock-norce-image")
    if image:
        from mock_norce.testing.containers import MockNorceContainer  # needs the testcontainers extra

        with MockNorceContainer(image, network_mode=config.getoption("--mock-norce-network"),
                                **_env(config)) as container:
            yield container.url
        return
    from mock_norce.testing.server import start

    server = start(env=_env(config), data_dir=request.getfixturevalue("tmp_path_factory").mktemp("mock-norce"))
    try:
        yield server.url
    finally:
        server.stop()


def _token(config: pytest.Config) -> str | None:
    return config.getoption("--mock-norce-token") or os.environ.get("MOCK_NORCE_URL_TOKEN") or None


@pytest.fixture
def mock_norce(mock_norce_server: str, request: pytest.FixtureRequest) -> Client:
    """A client of the session's mock-norce, reset to its boot state before the test."""
    client = Client(mock_norce_server, token=_token(request.config) or _env(request.config).get("MOCK_NORCE_API_TOKEN"))
    client.reset()
    return client
