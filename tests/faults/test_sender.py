"""Issue 10, the sender: URLs and headers HTTP cannot carry, corrupted answers, idle sockets,
stale keep-alive connections. Black box through `mock-norce serve` where a door matters."""

from __future__ import annotations

import base64
import json
import os
import selectors
import socket
import sqlite3
import threading
import time

import pytest

from mock_norce.sender import Sender
from mock_norce.subscriptions import SubscriptionError, check_url

from .. import servers
from ..servers import answer, http

TYPE = "OrderConfirmedEvent"
BODY = b'{"ClientId":1042}'


def fire(s, url=None, wait=10, event_type=TYPE):
    return http("POST", f"{s.url}/api/events/{event_type}?wait={wait}", {"url": url} if url else {}, timeout=wait + 10)


# --- observation 1: an IRI as a subscriber URL ---------------------------------------------

def test_obs1_iri_from_the_api_is_sent_as_a_uri_and_the_lane_lives_on(served, serve):
    subscriber = serve(answer(204))
    s = served()
    status, data = fire(s, subscriber.url + "/hooks/€?q=ü")
    assert status == 200 and data["delivery"]["status"] == "delivered", data
    assert data["delivery"]["url"] == subscriber.url + "/hooks/%E2%82%AC?q=%C3%BC"
    assert subscriber.requests[0].path == "/hooks/%E2%82%AC?q=%C3%BC"
    status, data = fire(s, subscriber.url + "/after")  # the same host's lane still delivers
    assert status == 200 and data["delivery"]["status"] == "delivered", data
    assert "Traceback" not in s.output()


def test_obs1_iri_from_a_subscription_the_config_file_and_the_environment(served, serve, tmp_path):
    subscriber = serve(answer(204))
    config = tmp_path / "subs.yaml"
    config.write_text(f"subscriptions:\n  JobCompletedEvent: {{url: '{subscriber.url}/job/ö'}}\n", encoding="utf-8")
    s = served(MOCK_NORCE_CONFIG=str(config), MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/alle/€")
    listed = http("GET", s.url + "/api/subscriptions")[1]
    assert listed["default_url"] == subscriber.url + "/alle/%E2%82%AC"
    by_type = {sub["event_type"]: sub for sub in listed["subscriptions"]}
    assert by_type["JobCompletedEvent"]["url"] == subscriber.url + "/job/%C3%B6"
    status, sub = http("PUT", s.url + "/api/subscriptions/SkuChangedNotification",
                       {"url": subscriber.url + "/sku/ü?x=ä b&y=%41"})
    assert status == 200 and sub["url"] == subscriber.url + "/sku/%C3%BC?x=%C3%A4%20b&y=%41", sub
    for event_type in (TYPE, "JobCompletedEvent", "SkuChangedNotification"):
        status, data = fire(s, event_type=event_type)
        assert status == 200 and data["delivery"]["status"] == "delivered", data
    assert [r.path for r in subscriber.requests] == [
        "/alle/%E2%82%AC", "/job/%C3%B6", "/sku/%C3%BC?x=%C3%A4%20b&y=%41"]


def test_obs1_userinfo_and_host_are_converted_too(served, serve):
    subscriber = serve(answer(204))
    s = served()
    url = subscriber.url.replace("http://", "http://üser:pä:ss@") + "/u"
    status, data = fire(s, url)
    assert status == 200 and data["delivery"]["status"] == "delivered", data
    auth = subscriber.requests[0].headers["authorization"]
    assert base64.b64decode(auth.split()[1]).decode("utf-8") == "üser:pä:ss"
    assert "p%C3%A4" not in json.dumps(data) and "%C3%BCser:********@" in data["delivery"]["url"]
    status, sub = http("PUT", s.url + "/api/subscriptions/" + TYPE, {"url": "http://Bücher.example:9/x"})
    assert status == 200 and sub["url"] == "http://xn--bcher-kva.example:9/x", sub


UNUSABLE = [
    ("http://xn--zz.example/", "bad IDNA label"),
    ("http://bü\u200dcher.example/", "not a valid internationalized domain name"),
    ("http://a b.example/", "whitespace"),
    ("http://127.0.0.1:9/a\u0007b", "control character"),
    ("http://127.0.0.1:70000/", "outside 1-65535"),
    ("http://127.0.0.1:0/", "outside 1-65535"),
    ("http://127.0.0.1:٨٠/", "bad port"),
    ("http://::1:9/", "IPv6 address outside brackets"),
    ("http://[fe80::1%eth0]:9/", "IPv6 zone"),
    ("http://[fe80::1%25eth0]:9/", "link-local"),
    ("http://[127.0.0.1]:9/", "not an IPv6 address"),
    ("http://a\\@127.0.0.1:9/", "backslash"),
    ("http://127.0.0.1:9/\ud800", "not valid Unicode"),
    ("http://a..b/", "empty host label"),
]


def test_obs1_urls_that_cannot_be_converted_are_refused_with_the_reason(served):
    s = served()
    for url, reason in UNUSABLE:
        status, data = fire(s, url, wait=1)
        assert status == 422 and data["error"] == "bad_subscription" and reason in data["message"], (url, data)
        status, data = http("PUT", s.url + "/api/subscriptions/" + TYPE, {"url": url})
        assert status == 422 and reason in data["message"], (url, data)
    assert http("GET", s.url + "/api/deliveries")[1]["total"] == 0


@pytest.mark.parametrize("iri,uri", [
    ("http://127.0.0.1:9000/hooks/€", "http://127.0.0.1:9000/hooks/%E2%82%AC"),
    ("https://ドメイン.テスト/a?b=ü#frag€", "https://xn--eckwd4c7c.xn--zckzah/a?b=%C3%BC#frag%E2%82%AC"),
    ("http://h/a b/%7e/%zz/{x}|^`\\\"<>", "http://h/a%20b/%7e/%25zz/%7Bx%7D%7C%5E%60%5C%22%3C%3E"),
    ("http://a@b@h:8080/", "http://a%40b@h:8080/"),
    ("http://[fe80::1%25eth0]:8080/x", "http://[fe80::1%25eth0]:8080/x"),
    ("http://[::1]:8080/x?filter[a]=1&b=c;d", "http://[::1]:8080/x?filter[a]=1&b=c;d"),  # a URI stays as it is
    ("HTTP://Example.COM:80/Path?Q#F", "HTTP://Example.COM:80/Path?Q#F"),
    ("http://my_service:8080/hook", "http://my_service:8080/hook"),
])
def test_obs1_check_url_converts_an_iri_like_dotnet(iri, uri):
    assert check_url(iri, allow_link_local=True) == uri
    assert check_url(uri, allow_link_local=True) == uri  # converting twice changes nothing


# --- observation 5: header values outside Latin-1 -----------------------------------------

def test_obs5_header_values_outside_latin1_are_refused_at_the_api(served, serve):
    subscriber = serve(answer(204))
    s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url)
    status, data = http("PUT", f"{s.url}/api/subscriptions/{TYPE}", {"headers": {"X-Name": "Gr€ta"}})
    assert status == 422 and "'X-Name'" in data["message"] and "outside Latin-1" in data["message"], data
    status, data = http("PUT", f"{s.url}/api/subscriptions/{TYPE}", {"headers": {"X-Ñame": "x"}})
    assert status == 422 and "not a valid HTTP header name" in data["message"], data
    status, data = http("PUT", f"{s.url}/api/subscriptions/{TYPE}", {"headers": {"X-Name": "Grüße"}})
    assert status == 200, data  # Latin-1 is what HTTP header values are
    status, data = fire(s)
    assert status == 200 and data["delivery"]["status"] == "delivered", data
    assert subscriber.requests[0].headers["x-name"] == "Grüße"  # one byte each, as Latin-1


