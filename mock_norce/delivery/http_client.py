"""The HTTP sender: one POST of an event, with one deadline over all of it.

A small HTTP/1.1 client over plain sockets, written for two things general clients do not
give: a *total* deadline (connect, TLS, every redirect hop and a slowly dribbling body all
count against Norce's 5 s; ``requests`` only bounds each read) and full control of what is
sent (no Accept-Encoding, so a gzip bomb stays a small stored blob; nothing but the user's
static headers, Content-Type and a User-Agent). Keep-alive connections are pooled (connections.py).
Every outcome, good or bad, is an ``Outcome``: nothing here raises, not for a subscriber's
fault, not for a URL or header that cannot be put on the wire, not for a bug of its own.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from mock_norce.delivery import policy
from mock_norce.delivery.connections import Pool
from mock_norce.delivery.framing import Conn, Fail, Response, Stale, classify, close, read_response, remaining, send

_STORED_HEADERS = 100
DEFAULT_CONTENT_TYPE = "application/json"
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# What a hop of a request made on a pooled connection the subscriber had closed says in the log.
STALE_UNSENT = ("stale keep-alive connection (closed by the subscriber before the whole request was "
                "sent), retried on a new one")
STALE_SENT = ("stale keep-alive connection (closed after the request was sent, without an answer), "
              "retried on a new one: the subscriber may have received it twice")


@dataclass(slots=True)
class Outcome:
    """What one attempt (with its redirect hops) ended in."""

    ok: bool
    status: int | None = None
    error_class: str | None = None
    error: str | None = None
    latency_ms: float = 0.0
    url: str = ""
    method: str = "POST"
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    body_truncated: bool = False
    hops: list[dict] = field(default_factory=list)


def blocked_address(ip: str) -> bool:
    """Link-local addresses (169.254.0.0/16, fe80::/10): cloud metadata lives there."""
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_link_local


class Sender:
    """Posts bodies to subscribers. Thread-safe; idle keep-alive connections are pooled."""

    def __init__(self, user_agent: str, timeout: float = 5.0, max_redirects: int = 10,
                 body_cap: int = 64 * 1024, keep_post_on_redirect: bool = False,
                 allow_link_local: bool = False, max_idle_per_origin: int = 8,
                 max_idle_total: int = 64, max_idle_age: float = 30.0):
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.body_cap = body_cap
        self.keep_post = keep_post_on_redirect
        self.allow_link_local = allow_link_local
        self.pool = Pool(max_idle_per_origin, max_idle_total, max_idle_age)
        self._busy: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._tls = ssl.create_default_context()
        self._prepared: dict[tuple, tuple[tuple, bytes]] = {}

    # --- public --------------------------------------------------------------------------

    def post(self, url: str, body: bytes, headers: dict[str, str] | None = None, *,
             content_type: str | None = None, redirect_headers: str | None = None) -> Outcome:
        """POST body to url with the static headers, following redirects, within the deadline.

        ``content_type`` is sent unless a static header sets one (default application/json);
        ``redirect_headers`` is the rule for static headers on a redirect (policy.follow)."""
        start = time.monotonic()
        deadline = start + self.timeout
        method, send_body = "POST", True
        sent = dict(headers or {})
        hops: list[dict] = []
        current = url
        try:
            for _ in range(self.max_redirects + 1):
                resp = self._exchange(current, method, body if send_body else None, sent, deadline, hops,
                                      content_type or DEFAULT_CONTENT_TYPE)
                if resp.status not in policy.REDIRECT_CODES:
                    return self._finish(start, resp, current, method, hops)
                location = next((v for k, v in resp.headers if k.lower() == "location"), None)
                nxt = policy.follow(current, method, resp.status, location, self.keep_post,
                                    redirect_headers or "origin")
                if isinstance(nxt, str):
                    raise Fail("bad_redirect", nxt)
                if nxt is None:  # not followed (.NET's https->http): the redirect is the answer
                    outcome = self._finish(start, resp, current, method, hops)
                    outcome.error = f"HTTP {resp.status} (a redirect from https to http is not followed, as in .NET)"
                    return outcome
                current, method, send_body = nxt.url, nxt.method, nxt.keep_body
                if not nxt.keep_headers:
                    sent = {}
                elif nxt.drop_authorization:
                    sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
            raise Fail("too_many_redirects", f"more than {self.max_redirects} redirects")
        except Fail as fail:
            return Outcome(False, None, fail.error_class, str(fail), _ms(start), current, method, hops=hops)
        except Exception as exc:  # noqa: BLE001 - a bug must fail this attempt, not kill a lane
            return Outcome(False, None, "internal_error", f"{type(exc).__name__}: {exc}", _ms(start),
                           current, method, hops=hops)

    def reap(self) -> int:
        """Close pooled connections idle for longer than max_idle_age; returns how many.

        Taking or giving back a connection reaps too; this is for the quiet times, when
        nothing is sent for a while: the engine calls it now and then (every few seconds is
        plenty), so idle sockets do not outlive their use.
        """
        return self.pool.reap()

    def close(self) -> None:
        """Close every idle pooled connection."""
        self.pool.close()

    def abort_in_flight(self) -> int:
        """Shut down the sockets of attempts in progress (used when stopping); returns how many."""
        with self._lock:
            socks = list(self._busy)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return len(socks)

    # --- one request/response ------------------------------------------------------------

    def _finish(self, start, resp: Response, url, method, hops) -> Outcome:
        ok = policy.is_success(resp.status)
        return Outcome(
            ok=ok, status=resp.status,
            error_class=None if ok else "http_status",
            error=None if ok else f"HTTP {resp.status}",
            latency_ms=_ms(start), url=url, method=method,
            response_headers=resp.headers[:_STORED_HEADERS], response_body=resp.body,
            body_truncated=resp.truncated, hops=hops,
        )

    def _exchange(self, url: str, method: str, body: bytes | None, headers: dict[str, str],
                  deadline: float, hops: list[dict], content_type: str = "application/json") -> Response:
        """One request and its response; a hop is logged for it (and for a stale try before it)."""
        key, head = self._prepare(url, method, body is not None, headers, content_type)
        request = head + b"%d\r\n\r\n" % len(body) + body if body is not None else head
        for fresh in (False, True):
            tried = time.monotonic()
            conn = None if fresh else self.pool.take(key)
            if conn is None:
                conn = self._connect(key, deadline)
            with self._lock:
                self._busy.add(conn.sock)
            try:
                try:
                    send(conn, request, deadline)
                    resp = read_response(conn, method, deadline, self.body_cap)
                except Stale as stale:
                    # The server had closed the pooled connection: once more, on a new one. The
                    # try is logged, since the subscriber may have got the request already.
                    close(conn.sock)
                    hops.append({"url": url, "method": method, "status": None, "latency_ms": _ms(tried),
                                 "error": STALE_SENT if stale.sent else STALE_UNSENT})
                    continue
                except BaseException:
                    close(conn.sock)
                    raise
                if resp.reusable:
                    self.pool.give(key, conn)
                else:
                    close(conn.sock)
                hops.append({"url": url, "method": method, "status": resp.status, "latency_ms": _ms(tried)})
                return resp
            finally:
                with self._lock:
                    self._busy.discard(conn.sock)
        raise Fail("connection_reset", "connection closed before any response")

    _PREPARED_MAX = 1024  # (url, method, headers) whose request head is kept

    def _prepare(self, url: str, method: str, with_body: bool, headers: dict[str, str],
                 content_type: str = "application/json") -> tuple[tuple, bytes]:
        """The origin of a URL and the head of a request to it, up to the Content-Length value
        when there is a body. Cached: the same few subscriber URLs get every attempt, and
        building the head each time was a tenth of an attempt's cost."""
        cache_key = (url, method, with_body, tuple(headers.items()), content_type)
        try:
            prepared = self._prepared.get(cache_key)
        except TypeError:  # a header value that is not even a string: refused below, not cached
            prepared, cache_key = None, None
        if prepared is None:
            try:
                parts = urlsplit(url)
                parts.port  # noqa: B018 - raises for a port out of range
            except ValueError as exc:
                raise Fail("bad_request", f"cannot send to this URL: {exc}") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise Fail("bad_request", "cannot send to this URL: not http(s) with a host")
            prepared = (policy.origin(url), self._request_head(parts, method, with_body, headers, content_type))
            if cache_key is not None:
                if len(self._prepared) >= self._PREPARED_MAX:
                    self._prepared.clear()
                self._prepared[cache_key] = prepared
        return prepared

    def _request_head(self, parts, method: str, with_body: bool, headers: dict[str, str],
                      content_type: str = "application/json") -> bytes:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        _check_ascii("URL", target)
        host = (parts.hostname or "").split("%")[0]  # an IPv6 zone is not sent (RFC 6874)
        _check_ascii("host", host)
        if ":" in host:
            host = f"[{host}]"
        if parts.port:
            host = f"{host}:{parts.port}"
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
        given = {k.lower() for k in headers}
        if "user-agent" not in given:
            lines.append(f"User-Agent: {self.user_agent}")
        if with_body and "content-type" not in given:
            lines.append(f"Content-Type: {content_type}")
        if parts.username is not None and "authorization" not in given:
            cred = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            lines.append(f"Authorization: Basic {base64.b64encode(cred).decode()}")
        for name, value in headers.items():
            _check_header(name, value)
            lines.append(f"{name}: {value}")
        if with_body:
            # The Content-Length line comes last, so the head is this prefix plus its value.
            return ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    # --- connections ---------------------------------------------------------------------

    def _connect(self, key, deadline: float) -> Conn:
        scheme, host, port = key
        host = host.replace("%25", "%", 1)  # an IPv6 zone as the resolver wants it: fe80::1%eth0
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise Fail("dns", f"cannot resolve {host}: {exc.strerror}") from None
        except UnicodeError:
            raise Fail("dns", f"cannot resolve {host}: bad host name") from None
        last: Fail | None = None
        for family, kind, proto, _, address in infos:
            if not self.allow_link_local and blocked_address(address[0]):
                last = Fail("blocked_address", f"{host} resolves to link-local {address[0]}; refused "
                                                "(MOCK_NORCE_ALLOW_LINK_LOCAL=1 allows it)")
                continue
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(remaining(deadline))
                sock.connect(address)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if scheme == "https":
                    sock.settimeout(remaining(deadline))
                    sock = self._tls.wrap_socket(sock, server_hostname=host.split("%")[0])
                return Conn(sock)
            except Fail:
                close(sock)
                raise
            except BaseException as exc:
                close(sock)
                last = classify(exc)
        raise last or Fail("dns", f"{host} has no address")


def _check_ascii(what: str, text: str) -> None:
    """A request line and Host header carry printable ASCII only (no space)."""
    bad = next((c for c in text if not 33 <= ord(c) <= 126), None)
    if bad is not None:
        raise Fail("bad_request", f"the {what} has {bad!r}, which HTTP cannot carry (a URL stored by an older "
                                  "mock-norce? set it again: IRIs are converted to URIs when set)")


def _check_header(name, value) -> None:
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise Fail("bad_request", f"header name {name!r} is not a valid HTTP header name")
    if not isinstance(value, str) or any(c in value for c in "\r\n\0") or any(ord(c) > 255 for c in value):
        raise Fail("bad_request", f"header {name!r} has a value HTTP cannot carry (CR, LF, NUL or a "
                                  "character outside Latin-1)")


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 3)
