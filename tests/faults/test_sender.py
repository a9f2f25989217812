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

from mock_norce.delivery.http_client import Sender
from mock_norce.delivery.subscriptions import check_url

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
    ("http://a..b/", "empty host label"),
]


def test_obs1_urls_that_cannot_be_converted_are_refused_with_the_reason(served):
    s = served()
    for url, reason in UNUSABLE:
        status, data = fire(s, url, wait=1)
        assert status == 422 and data["error"] == "bad_subscription" and reason in data["message"], (url, data)
        status, data = http("PUT", s.url + "/api/subscriptions/" + TYPE, {"url": url})
        assert status == 422 and reason in data["message"], (url, data)
    # A lone surrogate never gets as far as the URL check: the JSON body itself is refused.
    status, data = fire(s, "http://127.0.0.1:9/\ud800", wait=1)
    assert status == 400 and data["error"] == "malformed_json" and "surrogate" in data["message"], data
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


def test_obs1_the_sender_never_raises_for_what_it_cannot_encode(serve):
    subscriber = serve(answer(204))
    sender = Sender("t", timeout=2)
    try:
        cases = [
            (subscriber.url + "/hooks/€", {}, "URL has '€'"),  # a raw IRI stored by an older version
            (subscriber.url + "/a b", {}, "URL has ' '"),
            ("http://bücher.invalid/", {}, "host has 'ü'"),
            (f"http://127.0.0.1:{subscriber.port}0000/", {}, "Port out of range"),
            ("http://[::1/", {}, "Invalid IPv6 URL"),
            ("ftp://127.0.0.1/", {}, "not http(s)"),
            (subscriber.url, {"X-Name": "Gr€ta"}, "outside Latin-1"),
            (subscriber.url, {"X-Evil": "a\r\nHost: b"}, "CR, LF, NUL"),
            (subscriber.url, {"Bad Name": "x"}, "not a valid HTTP header name"),
        ]
        for url, headers, message in cases:
            out = sender.post(url, BODY, headers)
            assert not out.ok and out.error_class == "bad_request" and message in out.error, (url, out)
        assert subscriber.requests == []

        def broken(*args):
            raise RuntimeError("a bug")
        sender._connect = broken
        out = sender.post(subscriber.url + "/x", BODY)
        assert not out.ok and out.error_class == "internal_error" and out.error == "RuntimeError: a bug"
        assert not sender._busy
    finally:
        sender.close()


def test_obs1_a_raw_iri_stored_by_an_older_version_fails_by_policy_and_the_lane_lives_on(served, serve, tmp_path):
    subscriber = serve(answer(204))
    s = served()
    status, data = fire(s, f"http://127.0.0.1:{servers.unused_port()}/x", wait=0)  # retrying
    did = data["delivery"]["id"]
    s.stop()
    # What an older version stored: the IRI as typed, due now, with a fast retry scale.
    with sqlite3.connect(tmp_path / "data" / "mock-norce.db") as db:
        db.execute("UPDATE deliveries SET url=?, status='pending', due=?, scale=0.00001, attempts=0 WHERE id=?",
                   (subscriber.url + "/hooks/€", time.time(), did))
        db.execute("DELETE FROM attempts WHERE delivery_id=?", (did,))
    db.close()
    subscriber.requests.clear()
    s = served()
    status, d = http("GET", f"{s.url}/api/deliveries/{did}?wait=20", timeout=30)
    assert d["status"] == "dead" and d["attempts"] == 17, d
    assert {a["error_class"] for a in d["attempt_log"]} == {"bad_request"}
    assert "URL has '€'" in d["last_error"]
    status, data = fire(s, subscriber.url + "/fine")  # the same origin's lane is alive
    assert status == 200 and data["delivery"]["status"] == "delivered", data
    assert [r.path for r in subscriber.requests] == ["/fine"]
    assert "Traceback" not in s.output()


def test_ipv6_zone_ids_reach_the_resolver_and_never_the_host_header():
    sender = Sender("t", timeout=2, allow_link_local=True)
    out = sender.post("http://[fe80::1%25lo]:9/", BODY)  # no such address on lo: fails, as an Outcome
    assert not out.ok and out.error_class in ("network", "connection_refused", "timeout"), out
    blocked = Sender("t", timeout=2).post("http://[fe80::1%25lo]:9/", BODY)
    assert blocked.error_class == "blocked_address", blocked
    _, head = sender._prepare("http://[fe80::1%25eth0]:8080/x", "POST", True, {})
    assert b"\r\nHost: [fe80::1]:8080\r\n" in head


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


# --- corrupted answers ---------------------------------------------------------------------

def _raw(data: bytes):
    def handler(req, conn):
        conn.sendall(data)
        conn.close()
        return None
    return handler


@pytest.mark.parametrize("data,error_class", [
    (b"HTTP/1.1 20 OK\r\n\r\n", "protocol_error"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", "protocol_error"),
    (b"SMTP 220 hello\r\n\r\n", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 20000 + b"\r\n\r\n", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 300 + b"\r\n", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "protocol_error"),
    (b"HTTP/1.1 200 OK\r\nContent-Le", "protocol_error"),
    (b"\x00\x01\x02\xff\xfe", "protocol_error"),
    (b"HTTP/1.1 200 \xff\xfe\r\nX-\xe9: \xff\x00\r\nContent-Length: 2\r\n\r\nok", None),  # odd but valid
])
def test_corrupted_answers_are_outcomes(serve, data, error_class):
    sender = Sender("t", timeout=2)
    out = sender.post(serve(_raw(data)).url, BODY)
    assert out.error_class == error_class, out
    assert out.ok == (error_class is None)
    sender.close()


# --- observation 14: idle sockets over 1,000 origins ---------------------------------------

class Farm:
    """`count` listening sockets on 127.0.0.1 (1,000 origins), one thread answering 204 on all,
    keeping connections open as long as the client does."""

    def __init__(self, count: int):
        self.sel = selectors.DefaultSelector()
        self.ports = []
        self.open = 0
        self._closed = False
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(4)
            sock.setblocking(False)
            self.sel.register(sock, selectors.EVENT_READ, None)
            self.ports.append(sock.getsockname()[1])
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._closed:
            for key, _ in self.sel.select(0.1):
                if key.data is None:
                    try:
                        conn, _ = key.fileobj.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    self.sel.register(conn, selectors.EVENT_READ, bytearray())
                    self.open += 1
                    continue
                try:
                    chunk = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    self.sel.unregister(key.fileobj)
                    key.fileobj.close()
                    self.open -= 1
                    continue
                buf = key.data
                buf += chunk
                while b"\r\n\r\n" in buf:
                    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), 0)
                    if len(rest) < length:
                        break
                    del buf[:len(head) + 4 + length]
                    key.fileobj.send(b"HTTP/1.1 204 No Content\r\n\r\n")

    def close(self):
        self._closed = True
        self._thread.join(5)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()


def _sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def test_obs14_idle_sockets_stay_bounded_over_1000_origins():
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to count sockets")
    before = _sockets()
    farm = Farm(1000)
    sender = Sender("t", timeout=5)
    try:
        for port in farm.ports:
            out = sender.post(f"http://127.0.0.1:{port}/hook", BODY)
            assert out.ok, out
        deadline = time.monotonic() + 10
        while farm.open > 64 and time.monotonic() < deadline:
            time.sleep(0.05)  # the farm sees the evicted connections close
        assert farm.open <= 64, farm.open
        # The sender's side: at most 64 client sockets besides the farm's 1,000 listeners and
        # its own (at most 64) accepted ones.
        assert _sockets() - before - 1000 <= 2 * 64 + 4
        assert len(sender.pool) <= 64
    finally:
        sender.close()
        farm.close()


# --- observation 16c: a retry on a stale keep-alive connection -----------------------------

def test_obs16c_a_retry_on_a_stale_connection_is_logged_as_a_hop(served, serve):
    seen: dict[int, int] = {}

    def close_after_reading_the_second(req, conn):
        seen[id(conn)] = seen.get(id(conn), 0) + 1
        if seen[id(conn)] == 2:
            conn.close()  # read it, never answered: did the subscriber handle it? it may have
            return None
        return servers.response(200)
    subscriber = serve(close_after_reading_the_second)
    s = served()
    first = fire(s, subscriber.url + "/one")[1]["delivery"]
    status, data = fire(s, subscriber.url + "/two")
    assert status == 200 and first["status"] == "delivered" and data["delivery"]["status"] == "delivered", data
    assert [r.path for r in subscriber.requests] == ["/one", "/two", "/two"]  # the subscriber got it twice
    assert subscriber.requests[1].body == subscriber.requests[2].body
    attempts = http("GET", f"{s.url}/api/deliveries/{data['delivery']['id']}")[1]["attempt_log"]
    assert len(attempts) == 1
    stale, final = attempts[0]["hops"]
    assert stale["status"] is None and stale["url"].endswith("/two") and stale["method"] == "POST"
    assert "stale keep-alive connection" in stale["error"] and "may have received it twice" in stale["error"]
    assert final["status"] == 200
