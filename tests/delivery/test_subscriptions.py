"""Subscriptions: config files, run-time changes, and the inputs they must refuse."""

from __future__ import annotations

import pytest

from mock_norce.errors import NoSubscriber, SubscriptionError, UnknownEventType
from mock_norce.delivery.subscriptions import MASK, Subscriptions, mask_headers, mask_url

TYPES = ["OrderConfirmedEvent", "SkuChangedNotification"]


def test_default_url_own_url_headers_and_off(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "subscriber_url: http://127.0.0.1:9000/all\n"
        "subscriptions:\n"
        "  OrderConfirmedEvent:\n"
        "    url: https://erp.example/norce\n"
        "    headers: {Authorization: Bearer abc, x-norce-event-type: OrderConfirmedEvent}\n"
        "  SkuChangedNotification: {enabled: false}\n")
    subs = Subscriptions(TYPES)
    subs.load(path)
    assert subs.target("OrderConfirmedEvent") == (
        "https://erp.example/norce", {"Authorization": "Bearer abc", "x-norce-event-type": "OrderConfirmedEvent"})
    assert subs.target("SkuChangedNotification") is None
    subs.update("SkuChangedNotification", enabled=True)
    assert subs.target("SkuChangedNotification") == ("http://127.0.0.1:9000/all", {})
    assert subs.target("SkuChangedNotification", url="http://127.0.0.1:1/x")[0] == "http://127.0.0.1:1/x"


def test_json_config_is_accepted(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"subscriptions": {"OrderConfirmedEvent": {"url": "http://127.0.0.1:1/"}}}')
    subs = Subscriptions(TYPES)
    subs.load(path)
    assert subs.get("OrderConfirmedEvent").url == "http://127.0.0.1:1/"


@pytest.mark.parametrize("changes,message", [
    ({"url": "ftp://files.example/x"}, r"is not http\(s\)"),
    ({"url": "javascript:alert(1)"}, r"is not http\(s\)"),
    ({"url": "http://"}, "has no host"),
    ({"url": "http://a b/"}, "whitespace"),
    ({"url": "http://169.254.169.254/latest"}, "link-local"),
    ({"headers": {"X-Evil": "a\r\nHost: other"}}, "CR, LF or NUL"),
    ({"headers": {"Bad Name": "x"}}, "not a valid HTTP header name"),
    ({"headers": {"X-A\r\n": "x"}}, "not a valid HTTP header name"),
    ({"headers": {"Host": "other"}}, "set by mock-norce itself"),
    ({"headers": {"Content-Length": "1"}}, "set by mock-norce itself"),
    ({"headers": ["Authorization"]}, "must be a mapping"),
    ({"enabled": "yes"}, "true or false"),
    ({"colour": "blue"}, "unknown subscription setting"),
])
def test_bad_settings_are_refused_and_change_nothing(changes, message):
    subs = Subscriptions(TYPES, "http://127.0.0.1:9/")
    with pytest.raises(SubscriptionError, match=message):
        subs.update("OrderConfirmedEvent", **changes)
    assert subs.get("OrderConfirmedEvent").url is None and subs.get("OrderConfirmedEvent").headers == {}


def test_link_local_allowed_explicitly():
    subs = Subscriptions(TYPES, allow_link_local=True)
    assert subs.update("OrderConfirmedEvent", url="http://169.254.1.1/").url == "http://169.254.1.1/"


def test_unknown_type_and_missing_url():
    subs = Subscriptions(TYPES)
    with pytest.raises(UnknownEventType):
        subs.update("NoSuchEvent", enabled=False)
    with pytest.raises(NoSubscriber, match="MOCK_NORCE_SUBSCRIBER_URL"):
        subs.target("OrderConfirmedEvent")


def test_a_bad_file_changes_nothing_and_names_the_problem(tmp_path):
    subs = Subscriptions(TYPES, "http://127.0.0.1:9/")
    path = tmp_path / "c.yaml"
    path.write_text("subscriptions:\n  OrderConfirmedEvent: {enabled: false}\n  NoSuchEvent: {enabled: false}\n")
    with pytest.raises(Exception, match="unknown event type 'NoSuchEvent'"):
        subs.load(path)
    assert subs.get("OrderConfirmedEvent").enabled  # the valid part was not applied either
    path.write_text("subscriptions: [1, 2]")
    with pytest.raises(SubscriptionError, match="must map event types"):
        subs.load(path)
    path.write_text("subscriptions: {OrderConfirmedEvent: {url: [}")
    with pytest.raises(SubscriptionError, match="not valid YAML"):
        subs.load(path)
    with pytest.raises(SubscriptionError, match="cannot read config"):
        subs.load(tmp_path / "missing.yaml")


def test_masking():
    assert mask_headers({"Authorization": "Bearer x", "X-Api-Key": "k", "x-norce-event-type": "T"}) == {
        "Authorization": MASK, "X-Api-Key": MASK, "x-norce-event-type": "T"}
    assert mask_url("https://user:pw@host/p?token=abc&x&status=503") == f"https://user:{MASK}@host/p?token={MASK}&x&status=503"
