"""The HTTP sender: one POST of an event, with one deadline over all of it.

A small HTTP/1.1 client over plain sockets, written for two things general clients do not
give: a *total* deadline (connect, TLS, every redirect hop and a slowly dribbling body all
count against Norce's 5 s; ``requests`` only bounds each read) and full control of what is
sent (no Accept-Encoding, so a gzip bomb stays a small stored blob; nothing but the user's
static headers, Content-Type and a User-Agent). Keep-alive connections are pooled per origin.
Every outcome, good or bad, is an ``Outcome``; nothing here raises for a subscriber's fault.
"""

from __future__ import annotations

import base64
import ipaddress
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from . import policy
from .wire import Conn, Fail, Response, Stale, classify, close, read_response, remaining, send

_STORED_HEADERS = 100


@dataclass
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
    """Posts bodies to subscribers. Thread-safe; connections are pooled per origin."""

    def __init__(self, user_agent: str, timeout: float = 5.0, max_redirects: int = 10,
                 body_cap: int = 64 * 1024, keep_post_on_redirect: bool = False,
                 allow_link_local: bool = False, max_idle_per_origin: int = 8):
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.body_cap = body_cap
        self.keep_post = keep_post_on_redirect
        self.allow_link_local = allow_link_local
        self.max_idle = max_idle_per_origin
        self._idle: dict[tuple, list[Conn]] = {}
        self._busy: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._tls = ssl.create_default_context()

    # --- public --------------------------------------------------------------------------

    def post(self, url: str, body: bytes, headers: dict[str, str] | None = None) -> Outcome:
        """POST body to url with the static headers, following redirects, within the deadline."""
        start = time.monotonic()
        deadline = start + self.timeout
        method, send_body, keep_headers = "POST", True, True
        hops: list[dict] = []
        current = url
        try:
            for _ in range(self.max_redirects + 1):
                hop_start = time.monotonic()
                resp = self._exchange(current, method, body if send_body else None,
                                      (headers or {}) if keep_headers else {}, deadline)
                hops.append({"url": current, "method": method, "status": resp.status,
                             "latency_ms": round((time.monotonic() - hop_start) * 1000, 3)})
                if resp.status not in policy.REDIRECT_CODES:
                    return self._finish(start, resp, current, method, hops)
                location = next((v for k, v in resp.headers if k.lower() == "location"), None)
                nxt = policy.follow(current, method, resp.status, location, self.keep_post)
                if isinstance(nxt, str):
                    raise Fail("bad_redirect", nxt)
                current, method, send_body = nxt.url, nxt.method, nxt.keep_body
                keep_headers = keep_headers and nxt.keep_headers
            raise Fail("too_many_redirects", f"more than {self.max_redirects} redirects")
        except Fail as fail:
            return Outcome(False, None, fail.error_class, str(fail), _ms(start), current, method, hops=hops)

    def close(self) -> None:
        """Close every idle pooled connection."""
        with self._lock:
            conns = [c for lst in self._idle.values() for c in lst]
            self._idle.clear()
        for c in conns:
            close(c.sock)

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
                  deadline: float) -> Response:
        parts = urlsplit(url)
        key = policy.origin(url)
        request = self._request_bytes(parts, method, body, headers)
        for fresh in (False, True):
            conn = None if fresh else self._take_idle(key)
            if conn is None:
                conn = self._connect(key, deadline)
            with self._lock:
                self._busy.add(conn.sock)
            try:
                try:
                    send(conn, request, deadline)
                    resp = read_response(conn, method, deadline, self.body_cap)
                except Stale:
                    close(conn.sock)
                    continue  # the server had closed the pooled connection: once more, fresh
                except BaseException:
                    close(conn.sock)
                    raise
                if resp.reusable:
                    self._give_back(key, conn)
                else:
                    close(conn.sock)
                return resp
            finally:
                with self._lock:
                    self._busy.discard(conn.sock)
        raise Fail("connection_reset", "connection closed before any response")

    def _request_bytes(self, parts, method: str, body: bytes | None, headers: dict[str, str]) -> bytes:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        if parts.port:
            host = f"{host}:{parts.port}"
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
        given = {k.lower() for k in headers}
        if "user-agent" not in given:
            lines.append(f"User-Agent: {self.user_agent}")
        if body is not None:
            if "content-type" not in given:
                lines.append("Content-Type: application/json")
            lines.append(f"Content-Length: {len(body)}")
        if parts.username is not None and "authorization" not in given:
            cred = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            lines.append(f"Authorization: Basic {base64.b64encode(cred).decode()}")
        lines.extend(f"{k}: {v}" for k, v in headers.items())
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + body if body is not None else head

    # --- connections ---------------------------------------------------------------------

    def _take_idle(self, key) -> Conn | None:
        with self._lock:
            pool = self._idle.get(key)
            while pool:
                conn = pool.pop()
                # A pooled socket that is readable has been closed (or sent junk): drop it. A
                # connection used a moment ago is trusted (a stale one is retried anyway),
                # which spares a system call per event under load.
                if time.monotonic() - conn.idle_since > 1.0 and select.select([conn.sock], [], [], 0)[0]:
                    close(conn.sock)
                    continue
                conn.reused = True
                return conn
        return None

    def _give_back(self, key, conn: Conn) -> None:
        conn.idle_since = time.monotonic()
        with self._lock:
            pool = self._idle.setdefault(key, [])
            if len(pool) < self.max_idle:
                pool.append(conn)
                return
        close(conn.sock)

    def _connect(self, key, deadline: float) -> Conn:
        scheme, host, port = key
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
                    sock = self._tls.wrap_socket(sock, server_hostname=host)
                return Conn(sock)
            except Fail:
                close(sock)
                raise
            except BaseException as exc:
                close(sock)
                last = classify(exc)
        raise last or Fail("dns", f"{host} has no address")


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 3)
