"""Client.conform against a real `mock-norce serve`: the battery aimed at the server's own
built-in sink (a receiver that answers 200), and a Python callable as the verification hook."""

from __future__ import annotations

import pytest

from mock_norce.testing.server import start


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with start(data_dir=tmp_path_factory.mktemp("served")) as s:
        yield s.client()


def test_conform_with_a_callable_that_checks_side_effects(client):
    client.sink.clear()
    seen = {}

    def one_request_per_body_but_the_duplicate(report):
        bodies = [r.body for r in client.sink.requests(path="shop/OrderConfirmedEvent")]
        seen["bodies"] = bodies
        assert len(bodies) > len(set(bodies)), "the duplicate never arrived"

    report = client.conform(client.sink.url("shop") + "/{type}", ["OrderConfirmedEvent"], seed=5,
                            verify=one_request_per_body_but_the_duplicate)
    assert report["verdict"] == "pass", [(c["name"], c["reason"]) for c in report["cases"] if c["verdict"] != "pass"]
    assert report["cases"][-1]["name"] == "verify" and report["cases"][-1]["verdict"] == "pass"
    assert seen["bodies"]

    def never(report):
        raise AssertionError("two e-mails for order SO-1")
    failed = client.conform(client.sink.url("shop", status=409) + "&t={type}", ["JobCompletedEvent"], verify=never)
    assert failed["verdict"] == "fail" and failed["counts"]["fail"] >= 2
    assert failed["cases"][-1]["reason"] == "AssertionError: two e-mails for order SO-1"
