"""The HTTP sender against real local servers, one fault each (issue 3's list)."""

from __future__ import annotations

import time

import pytest

from mock_norce.delivery.http_client import Sender, blocked_address

from .. import servers
from ..servers import answer, routes

BODY = b'{"ClientId":1042,"OrderId":1}'


@pytest.fixture
def sender():
    s = Sender("mock-norce/test", timeout=5.0)
    yield s
    s.close()


@pytest.mark.parametrize("status", [200, 201, 204])
def test_2xx_is_delivered_and_the_request_is_exactly_norces(sender, serve, status):
    server = serve(answer(status, b"" if status == 204 else b"thanks"))
    out = sender.post(server.url + "/hook?x=1", BODY, {"Authorization": "Bearer s3cret", "x-norce-event-type": "T"})
    assert out.ok and out.status == status and out.error_class is None
    req = server.requests[0]
    assert (req.method, req.path, req.body) == ("POST", "/hook?x=1", BODY)
    names = [k.lower() for k, _ in req.raw_headers]
    assert sorted(names) == sorted(["host", "user-agent", "content-type", "content-length",
                                    "authorization", "x-norce-event-type"])
    assert req.headers["content-type"] == "application/json"
    assert req.headers["user-agent"] == "mock-norce/test"
    assert req.headers["authorization"] == "Bearer s3cret"


@pytest.mark.parametrize("status", [400, 404, 410, 429, 500, 503])
def test_non_2xx_is_a_failed_attempt(sender, serve, status):
    server = serve(answer(status, b"<h1>nope</h1>", {"Retry-After": "1"}))
    out = sender.post(server.url, BODY)
    assert not out.ok and out.status == status and out.error_class == "http_status"
    assert out.response_body == b"<h1>nope</h1>"
    assert ("Retry-After", "1") in out.response_headers


def test_keep_alive_reuses_one_connection(sender, serve):
    server = serve(answer(200))
    for _ in range(20):
        assert sender.post(server.url, BODY).ok
    assert server.connections == 1 and len(server.requests) == 20


def test_server_closing_idle_connection_is_retried_transparently(sender, serve):
    def close_after_answer(req, conn):
        conn.sendall(servers.response(200))
        conn.close()
        return None
    server = serve(close_after_answer)  # keeps no connection open, without saying so
    for _ in range(5):
        out = sender.post(server.url, BODY)
        assert out.ok, out
    assert len(server.requests) == 5


def test_connection_refused(sender):
    out = sender.post(f"http://127.0.0.1:{servers.unused_port()}/", BODY)
    assert not out.ok and out.error_class == "connection_refused"


def test_reset_mid_response(sender, serve):
    out = sender.post(serve(servers.reset).url, BODY)
    assert not out.ok and out.error_class == "connection_reset", out


def test_dns_failure(sender):
    out = sender.post("http://no-such-host.invalid/", BODY)
    assert not out.ok and out.error_class == "dns"


def test_empty_response(sender, serve):
    out = sender.post(serve(servers.empty).url, BODY)
    assert not out.ok and out.error_class == "empty_response"


def test_garbage_response(sender, serve):
    out = sender.post(serve(servers.garbage).url, BODY)
    assert not out.ok and out.error_class == "protocol_error"


@pytest.mark.parametrize("handler", [servers.silent, servers.after(1.5), servers.dribble(0.2, 20)],
                         ids=["never-answers", "answers-after-1.5s", "dribbles-a-byte-every-0.2s"])
def test_one_deadline_in_total(serve, handler):
    # The same deadline as Norce's 5 s below, made short: no read ever waits long, the total does.
    sender = Sender("mock-norce/test", timeout=1.0)
    try:
        start = time.monotonic()
        out = sender.post(serve(handler).url, BODY)
        elapsed = time.monotonic() - start
    finally:
        sender.close()
    assert not out.ok and out.error_class == "timeout", out
    assert 0.95 <= elapsed <= 1.6, elapsed


@pytest.mark.slow
@pytest.mark.parametrize("handler", [servers.silent, servers.after(6), servers.dribble(1.0, 20)],
                         ids=["never-answers", "answers-after-6s", "dribbles-a-byte-a-second"])
def test_one_deadline_of_5s_in_total(sender, serve, handler):
    start = time.monotonic()
    out = sender.post(serve(handler).url, BODY)
    elapsed = time.monotonic() - start
    assert not out.ok and out.error_class == "timeout", out
    assert 4.9 <= elapsed <= 5.6, elapsed


def test_redirect_chain_is_followed_with_the_dotnet_methods(sender, serve):
    server = serve(routes({
        "/a": answer(307, headers={"Location": "/b"}),
        "/b": answer(308, headers={"Location": "/c"}),
        "/c": answer(302, headers={"Location": "/d"}),
        "/d": answer(200, b"landed"),
    }))
    out = sender.post(server.url + "/a", BODY, {"X-Key": "k"})
    assert out.ok and out.status == 200 and out.response_body == b"landed"
    assert [(h["method"], h["status"]) for h in out.hops] == [("POST", 307), ("POST", 308), ("POST", 302), ("GET", 200)]
    methods = [(r.method, r.path, r.body) for r in server.requests]
    assert methods == [("POST", "/a", BODY), ("POST", "/b", BODY), ("POST", "/c", BODY), ("GET", "/d", b"")]
    assert all(r.headers.get("x-key") == "k" for r in server.requests)  # same origin: kept
    assert out.url.endswith("/d") and out.method == "GET"


def test_redirect_keep_post_option(serve):
    server = serve(routes({"/a": answer(301, headers={"Location": "/b"}), "/b": answer(204)}))
    out = Sender("t", keep_post_on_redirect=True).post(server.url + "/a", BODY)
    assert out.ok and [r.method for r in server.requests] == ["POST", "POST"]
    assert server.requests[1].body == BODY


def test_redirect_loop_stops_after_10_hops(sender, serve):
    server = serve(routes({"/loop": answer(302, headers={"Location": "/loop"})}))
    out = sender.post(server.url + "/loop", BODY)
    assert not out.ok and out.error_class == "too_many_redirects"
    assert len(server.requests) == 11  # the first request and 10 hops


def test_redirect_without_location_or_to_ftp(sender, serve):
    server = serve(routes({"/a": answer(302), "/b": answer(302, headers={"Location": "ftp://x/"})}))
    assert sender.post(server.url + "/a", BODY).error_class == "bad_redirect"
    assert sender.post(server.url + "/b", BODY).error_class == "bad_redirect"


def test_cross_origin_redirect_drops_the_static_headers(sender, serve):
    other = serve(answer(200))
    first = serve(answer(307, headers={"Location": other.url + "/landing"}))
    out = sender.post(first.url + "/start", BODY, {"Authorization": "Bearer s3cret", "x-norce-event-type": "T"})
    assert out.ok
    assert first.requests[0].headers["authorization"] == "Bearer s3cret"
    seen = other.requests[0]
    assert "authorization" not in seen.headers and "x-norce-event-type" not in seen.headers
    assert seen.body == BODY  # 307 keeps the body


def test_huge_response_body_is_capped_not_held(serve):
    sender = Sender("t", body_cap=1024)
    out = sender.post(serve(servers.huge(50 * 1024 * 1024)).url, BODY)
    assert out.ok and out.status == 200
    assert len(out.response_body) == 1024 and out.body_truncated
    assert out.latency_ms < 5000


def test_chunked_response(sender, serve):
    def chunked(req, conn):
        return b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    server = serve(chunked)
    out = sender.post(server.url, BODY)
    assert out.status == 500 and out.response_body == b"hello world"
    assert sender.post(server.url, BODY).status == 500
    assert server.connections == 1  # the chunked framing left the connection reusable


def test_link_local_is_refused_unless_allowed():
    assert blocked_address("169.254.169.254") and blocked_address("fe80::1")
    assert blocked_address("::ffff:169.254.1.1") and not blocked_address("127.0.0.1")
    out = Sender("t", timeout=1).post("http://169.254.169.254/latest/meta-data", BODY)
    assert not out.ok and out.error_class == "blocked_address"


def test_idle_pool_keeps_the_most_recently_used_connections_over_all_origins(serve):
    a, b, c = serve(answer(204)), serve(answer(204)), serve(answer(204))
    sender = Sender("t", max_idle_total=2)
    try:
        for server in (a, b, c, c):
            assert sender.post(server.url, BODY).ok
        assert len(sender.pool) == 2 and c.connections == 1  # c's connection was kept and reused
        assert sender.post(a.url, BODY).ok and a.connections == 2  # a's, the oldest, had been closed
    finally:
        sender.close()


def test_idle_connections_older_than_max_age_are_closed(serve, monkeypatch):
    from types import SimpleNamespace

    from mock_norce.delivery import connections

    # The pool's clock only: it reads time.monotonic() of its own module.
    now = [1000.0]
    monkeypatch.setattr(connections, "time", SimpleNamespace(monotonic=lambda: now[0]))
    a, b = serve(answer(204)), serve(answer(204))
    sender = Sender("t", max_idle_age=0.3)
    try:
        assert sender.post(a.url, BODY).ok and sender.post(b.url, BODY).ok
        assert len(sender.pool) == 2
        now[0] += 0.2
        assert sender.reap() == 0 and len(sender.pool) == 2  # not yet
        now[0] += 0.3
        assert sender.reap() == 2 and len(sender.pool) == 0  # what the engine calls now and then
        assert sender.post(a.url, BODY).ok and a.connections == 2
        now[0] += 0.5
        assert sender.post(b.url, BODY).ok  # giving b's connection back reaps a's old one
        assert len(sender.pool) == 1 and b.connections == 2
    finally:
        sender.close()
