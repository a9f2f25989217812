"""mock-norce as a Testcontainers module: ``MockNorceContainer``, for test suites in Python.

    from mock_norce.testing.containers import MockNorceContainer

    with MockNorceContainer("mock-norce:latest", MOCK_NORCE_TIME_SCALE="0.001") as norce:
        norce.url        # http://localhost:49153, the mapped port of the container's 8080
        norce.client()   # mock_norce.testing.Client on that URL

It owns only the container's recipe: the image, its port, its environment and a wait
strategy that polls ``GET /healthz`` until it answers 200 (and gives up at once, with the
container's own one-line error, if mock-norce exits during start). It imports the PyPI
package ``testcontainers`` (the ``testcontainers`` extra: ``pip install mock-norce[testcontainers]``)
and, lazily, ``mock_norce.testing`` for ``.client()``; nothing of mock-norce's engine.

Where containers cannot be reached on a mapped port (a CI runner that allows only
loopback, as this project's), run it on the host's network: ``network_mode="host"``; the
port is then a free one of the host unless given (``MOCK_NORCE_PORT``), and ``.url`` is
``http://127.0.0.1:<port>``. Elsewhere the mapped port is all a test needs.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from typing import Any

from testcontainers.core.container import DockerContainer
from testcontainers.core.exceptions import ContainerStartException
from testcontainers.core.waiting_utils import WaitStrategy

IMAGE = "mock-norce:latest"
PORT = 8080  # the image's MOCK_NORCE_PORT, and what it EXPOSEs


class HealthzWait(WaitStrategy):
    """Poll ``GET {container.url}/healthz`` until 200; fail at once if the container exits.

    Testcontainers' own HttpWaitStrategy asks for a mapped port (none on the host's network)
    and polls an exited container until its timeout; this one works in both network modes
    and reports mock-norce's own error line ("cannot write the data directory ...") at once.
    The timeout and interval are the base class's (``with_startup_timeout``,
    ``with_poll_interval``).
    """

    def __init__(self) -> None:
        super().__init__()
        self._poll_interval = 0.1  # the image is ready in about half a second

    def wait_until_ready(self, container: "MockNorceContainer") -> None:
        deadline = time.monotonic() + self._startup_timeout
        last = "no answer yet"
        while True:
            container.reload()
            if container.status in ("exited", "dead"):
                raise ContainerStartException(f"mock-norce exited during start: {container.last_log_line()}")
            try:
                with urllib.request.urlopen(container.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
                    last = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:  # 503 while a part of the engine is down
                last = f"HTTP {exc.code}"
            except (OSError, ValueError) as exc:  # not listening yet; no mapped port yet
                last = str(exc)
            if time.monotonic() > deadline:
                raise TimeoutError(f"mock-norce at {container.url} not healthy within {self._startup_timeout:g} s "
                                   f"({last}); its last log line: {container.last_log_line()}")
            time.sleep(self._poll_interval)


class MockNorceContainer(DockerContainer):
    """The mock-norce image as a Testcontainers container; ``.url`` and ``.client()`` once started.

    ``env``: environment variables for the container, by their names
    (``MOCK_NORCE_SUBSCRIBER_URL="http://..."``) or, for mock-norce's own settings, by the
    lower-case rest of the name (``time_scale=0.001`` is ``MOCK_NORCE_TIME_SCALE``).
    ``port``: where mock-norce listens inside the container (default 8080); with
    ``network_mode="host"`` that is a port of the host, a free one when not given.
    """

    def __init__(self, image: str = IMAGE, port: int | None = None, *, network_mode: str | None = None,
                 **env: Any) -> None:
        super().__init__(image)
        self.network_mode = network_mode
        if port is None:
            port = _free_port() if network_mode == "host" else PORT
        self.port = port
        self.with_env("MOCK_NORCE_PORT", str(port))
        for key, value in env.items():
            self.with_env(key if key.isupper() else f"MOCK_NORCE_{key.upper()}", str(value))
        if network_mode != "host":  # the host's network has no port mapping
            self.with_exposed_ports(port)
        self.waiting_for(HealthzWait())

    def _configure(self) -> None:
        # Here, not in __init__: with_kwargs() replaces every keyword given before, so a
        # user's own .with_kwargs(...) would silently drop the network mode.
        super()._configure()
        if self.network_mode is not None:
            self._kwargs.setdefault("network_mode", self.network_mode)

    @property
    def url(self) -> str:
        """``http://host:port`` of the running container, without a trailing slash."""
        if self.network_mode == "host":
            return f"http://127.0.0.1:{self.port}"
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(self.port)}"

    def get_url(self) -> str:
        """The same as ``.url`` (the getter Testcontainers modules usually have)."""
        return self.url

    def client(self):
        """A ``mock_norce.testing.Client`` on this container (with its API token, if one is set)."""
        from mock_norce.testing import Client  # the typed client; imported only when asked for

        return Client(self.url, token=self.env.get("MOCK_NORCE_API_TOKEN"))

    def last_log_line(self) -> str:
        """The container's last line of output (mock-norce's one-line error when it failed)."""
        try:
            out, err = self.get_logs()
        except Exception as exc:  # noqa: BLE001 - only for an error message
            return f"(no logs: {exc})"
        lines = (err or out).decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "(no output)"


def _free_port() -> int:
    """A port of the host no one listens on now (for the host's network)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
