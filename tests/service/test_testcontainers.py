"""MockNorceContainer (mock_norce/testing/containers.py) with the session's image, as a test suite
would use it; run on the host's network (this machine allows only loopback), which is
also the module's own ``network_mode="host"``.

Testcontainers starts its reaper ("ryuk") from Docker Hub, which is unreachable here: it is
turned off with TESTCONTAINERS_RYUK_DISABLED; every container is removed by ``with``.
"""

from __future__ import annotations

import json

import pytest

from ..conftest import skip_or_fail
from ..servers import answer, http
from .conftest import BUILD_TIMEOUT, docker

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(BUILD_TIMEOUT + 300)]

try:
    from mock_norce.testing import containers
except ImportError as exc:  # part of the test extra: in CI a failure, not a skip
    containers = None
    MISSING = f"needs the testcontainers extra (pip install -e '.[testcontainers]'): {exc}"


@pytest.fixture(autouse=True)
def testcontainers_installed():
    if containers is None:
        skip_or_fail(MISSING)


@pytest.fixture(autouse=True)
def no_reaper(monkeypatch):
    from testcontainers.core.config import testcontainers_config

    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    monkeypatch.setattr(testcontainers_config, "_ryuk_disabled", None)  # read the variable again


def test_it_starts_waits_for_healthz_fires_and_the_sink_receives(image):
    with containers.MockNorceContainer(image, network_mode="host", time_scale=0, seed=5) as norce:
        assert norce.url == f"http://127.0.0.1:{norce.port}" == norce.get_url()
        # Started means healthy: the wait strategy polled /healthz until 200.
        assert http("GET", norce.url + "/healthz") == (200, {"status": "ok"})
        status, fired = http("POST", norce.url + "/api/events/OrderConfirmedEvent?wait=10",
                             {"overrides": {"OrderNo": "SO-1"}}, timeout=20)
        assert status == 200 and fired["delivery"]["status"] == "delivered", fired
        status, sink = http("GET", norce.url + "/api/sink")
        assert status == 200 and len(sink["items"]) == 1, sink
        assert json.loads(sink["items"][0]["body"]) == fired["payload"]
        assert fired["payload"]["OrderNo"] == "SO-1"
        name = norce.get_wrapped_container().name
        env = docker("inspect", "--format", "{{json .Config.Env}}", name).stdout
        assert "MOCK_NORCE_TIME_SCALE=0" in env and "MOCK_NORCE_SEED=5" in env
    assert docker("inspect", name, check=False).returncode != 0  # removed on leaving `with`


def test_it_delivers_to_a_subscriber_of_the_test(image, serve):
    subscriber = serve(answer(204))
    with containers.MockNorceContainer(image, network_mode="host",
                                       MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/hook") as norce:
        status, fired = http("POST", norce.url + "/api/events/JobCompletedEvent?wait=10", {}, timeout=20)
        assert status == 200 and fired["delivery"]["status"] == "delivered", fired
    assert [r.path for r in subscriber.requests] == ["/hook"]


def test_a_container_that_exits_at_start_fails_at_once_with_its_own_line(image):
    # A user outside group 0 cannot write /data: mock-norce says so and exits 2. The wait
    # strategy reports that line instead of polling until its timeout; with_kwargs() keeps
    # the host network (set at start, not in the constructor).
    norce = containers.MockNorceContainer(image, network_mode="host").with_kwargs(user="12345:12345")
    with pytest.raises(Exception) as failed:
        with norce:
            pass
    assert "mock-norce exited during start" in str(failed.value)
    assert "cannot write the data directory /data (uid 12345, gid 12345)" in str(failed.value)


def test_client_is_the_typed_client_on_the_container(image):
    from mock_norce.testing import Client

    with containers.MockNorceContainer(image, network_mode="host", time_scale=0) as norce:
        client = norce.client()
        assert isinstance(client, Client)
        delivery = client.fire("OrderConfirmedEvent", OrderNo="SO-1", wait=5)
        assert delivery.status == "delivered", delivery
        # sink.requests(), not sink.wait(): the sink's ?wait=&count= is another branch's work;
        # fire(wait=5) has returned once the sink answered, so the request is there.
        [request] = client.sink.requests()
        assert json.loads(request.body)["OrderNo"] == "SO-1"
