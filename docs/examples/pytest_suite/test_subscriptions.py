"""Subscriptions and Norce's retries, with the built-in sink answering as its URL asks."""

import pytest

from mock_norce.testing import DeliveryFailed


def test_a_type_can_go_to_its_own_url_with_static_headers(mock_norce):
    mock_norce.subscribe("SkuChangedNotification", mock_norce.sink.url("erp"), headers={"X-Api-Key": "k1"})
    mock_norce.fire("SkuChangedNotification")
    [request] = mock_norce.sink.wait(1, path="erp")
    assert request.header("X-Api-Key") is not None and request.json()["PartNo"]


def test_a_subscriber_that_never_accepts_ends_dead_after_17_attempts(mock_norce):
    mock_norce.subscribe("OrderDeliveredEvent", mock_norce.sink.url("down", status=503))
    delivery = mock_norce.fire("OrderDeliveredEvent")
    with pytest.raises(DeliveryFailed) as failed:
        mock_norce.wait_delivered(delivery, timeout=60)
    assert failed.value.delivery.attempts == 17 and failed.value.delivery.last_status_code == 503


def test_the_reset_restores_the_boot_subscriptions(mock_norce):
    assert mock_norce.subscribe("OrderCancelledEvent", None, enabled=False).enabled is False
    mock_norce.reset()
    assert mock_norce.fire("OrderCancelledEvent", wait=5).delivered
