"""mock_norce.testing against a real `mock-norce serve`: the typed client, the server starter
and the pytest plugin (through pytester, as a user's suite would load it: by its entry point).
"""

from __future__ import annotations

import json

import pytest

from mock_norce.testing import (Client, Delivery, DeliveryFailed, MockNorceClientError, MockNorceUnreachable,
                                NotRecorded, Run, SinkRequest)
from mock_norce.testing.server import ServerFailed, start


pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Time scale 0: Norce's 17 attempts follow each other at once, so "dead" comes in a second.
    with start(env={"MOCK_NORCE_TIME_SCALE": "0"}, data_dir=tmp_path_factory.mktemp("served")) as s:
        yield s


@pytest.fixture
def client(server) -> Client:
    c = server.client()
    c.reset()
    return c


def test_fire_returns_a_typed_delivery_and_the_sink_sees_it(client):
    delivery = client.fire("OrderConfirmedEvent", OrderNo="SO-4711", seed=3, wait=5)
    assert isinstance(delivery, Delivery) and delivery.status == "delivered" and delivery.delivered
    assert delivery.payload["OrderNo"] == "SO-4711" and json.loads(delivery.body) == delivery.payload
    assert delivery.attempt_log[0].status_code == 200 and delivery.attempt_log[0].method == "POST"
    [request] = client.sink.wait(1)
    assert isinstance(request, SinkRequest) and request.json() == delivery.payload and request.path == "default"
    assert client.delivery(delivery.id) == delivery


def test_wait_delivered_by_id_and_by_type(client):
    first = client.fire("SkuChangedNotification")
    assert client.wait_delivered(first).status == "delivered"
    for _ in range(3):
        client.fire("JobCompletedEvent")
    done = client.wait_delivered(event_type="JobCompletedEvent", count=3)
    assert [d.event_type for d in done] == ["JobCompletedEvent"] * 3 and done == sorted(done, key=lambda d: d.id)


def test_a_dead_delivery_raises_with_what_the_subscriber_answered(client):
    client.subscribe("OrderDeliveredEvent", client.sink.url("down", status=503))
    delivery = client.fire("OrderDeliveredEvent")
    with pytest.raises(DeliveryFailed, match=r"dead after 17 attempt\(s\): last answer 503") as failed:
        client.wait_delivered(delivery, timeout=30)
    assert failed.value.delivery.attempts == 17


def test_sink_wait_by_path_and_its_timeout_says_how_many_came(client):
    client.subscribe("SkuChangedNotification", client.sink.url("erp"), headers={"X-Tenant": "t1"})
    client.fire("SkuChangedNotification")
    client.fire("JobCompletedEvent")
    [erp] = client.sink.wait(1, path="erp")
    assert erp.header("x-tenant") == "t1" and "PartNo" in erp.json()
    with pytest.raises(TimeoutError, match=r"received 1 of 2 request\(s\) at /sink/erp"):
        client.sink.wait(2, path="erp", timeout=0.3)


def test_sink_wait_returns_every_request_asked_for_even_past_the_servers_default_page(client):
    for _ in range(120):
        client.fire("JobCompletedEvent")
    received = client.sink.wait(120, timeout=30)
    assert len(received) == 120 and [r.id for r in received] == sorted(r.id for r in received)


def test_run_waits_for_the_scenario_and_reset_forgets_everything(client):
    run = client.run("web-order", seed=7, time_scale=0, wait=10)
    assert isinstance(run, Run) and run.status == "completed" and run.seed == 7 and run.events >= 3
    assert len(client.sink.wait(run.events)) == run.events
    answer = client.reset()
    assert answer["reset"] is True and answer["deleted"]["deliveries"] == run.events
    assert client.deliveries() == [] and client.sink.requests() == []


def test_the_world_serves_the_order_behind_an_event(client):
    delivery = client.fire("OrderConfirmedEvent", wait=5)
    order = client.world.order(delivery.payload["OrderId"])
    assert order["OrderNo"] == delivery.payload["OrderNo"] and order["Items"]


def test_errors_carry_the_servers_words(client):
    with pytest.raises(MockNorceClientError) as unknown:
        client.fire("NoSuchEvent")
    assert unknown.value.status == 404 and unknown.value.code == "unknown_event_type"
    with pytest.raises(MockNorceClientError) as bad:
        client.fire("OrderConfirmedEvent", OrderId="not a number")
    assert bad.value.status == 422 and "OrderId" in str(bad.value)
    client.subscribe("OrderCancelledEvent", None, enabled=False)
    with pytest.raises(NotRecorded, match="OFF"):
        client.fire("OrderCancelledEvent")
    with pytest.raises(MockNorceUnreachable, match="no answer from mock-norce at http://127.0.0.1:9"):
        Client("http://127.0.0.1:9", timeout=2).fire("OrderConfirmedEvent")


def test_a_server_that_cannot_start_says_why(tmp_path):
    with pytest.raises(ServerFailed, match="MOCK_NORCE_TIME_SCALE"):
        start(env={"MOCK_NORCE_TIME_SCALE": "fast"}, data_dir=tmp_path)


SUITE = '''
import os

def test_one(mock_norce):
    assert mock_norce.deliveries() == []
    mock_norce.fire("OrderConfirmedEvent", wait=5)
    assert len(mock_norce.sink.wait(1)) == 1
    print("URL=" + mock_norce.base_url)

def test_two_starts_clean(mock_norce):
    assert mock_norce.deliveries() == [] and mock_norce.sink.requests() == []
    mock_norce.fire("JobCompletedEvent", wait=5)
'''


def test_the_plugin_starts_a_server_and_resets_between_tests(pytester):
    pytester.makepyfile(SUITE)
    result = pytester.runpytest_subprocess("-q", "-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert any(line.startswith("URL=http://127.0.0.1:") for line in result.outlines)


def test_the_plugin_uses_the_server_in_mock_norce_url(pytester, server, monkeypatch):
    pytester.makepyfile(SUITE)
    monkeypatch.setenv("MOCK_NORCE_URL", server.url)
    result = pytester.runpytest_subprocess("-q", "-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert f"URL={server.url}" in result.outlines


def test_the_plugin_warns_when_xdist_workers_would_share_one_server(pytester, server, monkeypatch):
    # Tests that do not look at the log, so that sharing cannot fail them (it would: see the warning).
    pytester.makepyfile("def test_a(mock_norce):\n    assert mock_norce.healthy()\n\n"
                        "def test_b(mock_norce):\n    assert mock_norce.healthy()\n")
    monkeypatch.setenv("MOCK_NORCE_URL", server.url)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=2, warnings=2)  # one per worker
    assert "workers share the mock-norce at" in result.stdout.str()


def test_the_plugin_says_clearly_when_mock_norce_url_is_dead(pytester, monkeypatch):
    pytester.makepyfile(SUITE)
    monkeypatch.setenv("MOCK_NORCE_URL", "http://127.0.0.1:9")
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    assert result.ret != 0
    assert "no healthy mock-norce at http://127.0.0.1:9" in result.stdout.str() + result.stderr.str()


def test_a_bad_mock_norce_env_line_is_a_usage_error(pytester):
    pytester.makepyfile(SUITE)
    pytester.makeini("[pytest]\nmock_norce_env =\n    TIME_SCALE=0\n")
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    assert result.ret != 0 and "write MOCK_NORCE_NAME=value" in result.stderr.str() + result.stdout.str()


def test_redeliver_to_another_url(client):
    first = client.fire("JobCompletedEvent", wait=5)
    again = client.redeliver(first, url=client.sink.url("elsewhere"))
    assert again.redelivery_of == first.id and again.url == client.sink.url("elsewhere")
    [request] = client.sink.wait(1, path="elsewhere")
    assert request.body == first.body  # the same bytes, at the other URL
