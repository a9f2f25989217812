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

_MAX_LINE = 16 * 1024
_MAX_HEADERS = 200
_STORED_HEADERS = 100


class _Fail(Exception):
    """An attempt failed: error class and a message for the log."""

    def __init__(self, error_class: str, message: str):
        super().__init__(message)
        self.error_class = error_class


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


class _Conn:
    __slots__ = ("sock", "buf", "reused", "idle_since")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()
        self.reused = False
        self.idle_since = 0.0


@dataclass
class _Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool
    reusable: bool


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
        self._idle: dict[tuple, list[_Conn]] = {}
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
                    raise _Fail("bad_redirect", nxt)
                current, method, send_body = nxt.url, nxt.method, nxt.keep_body
                keep_headers = keep_headers and nxt.keep_headers
            raise _Fail("too_many_redirects", f"more than {self.max_redirects} redirects")
        except _Fail as fail:
            return Outcome(False, None, fail.error_class, str(fail), _ms(start), current, method, hops=hops)

    def close(self) -> None:
        """Close every idle pooled connection."""
        with self._lock:
            conns = [c for lst in self._idle.values() for c in lst]
            self._idle.clear()
        for c in conns:
            _close(c.sock)

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

    def _finish(self, start, resp: _Response, url, method, hops) -> Outcome:
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
                  deadline: float) -> _Response:
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
                    _send(conn, request, deadline)
                    resp = _read_response(conn, method, deadline, self.body_cap)
                except _Stale:
                    _close(conn.sock)
                    continue  # the server had closed the pooled connection: once more, fresh
                except BaseException:
                    _close(conn.sock)
                    raise
                if resp.reusable:
                    self._give_back(key, conn)
                else:
                    _close(conn.sock)
                return resp
            finally:
                with self._lock:
                    self._busy.discard(conn.sock)
        raise _Fail("connection_reset", "connection closed before any response")

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

    def _take_idle(self, key) -> _Conn | None:
        with self._lock:
            pool = self._idle.get(key)
            while pool:
                conn = pool.pop()
                # A pooled socket that is readable has been closed (or sent junk): drop it. A
                # connection used a moment ago is trusted (a stale one is retried anyway),
                # which spares a system call per event under load.
                if time.monotonic() - conn.idle_since > 1.0 and select.select([conn.sock], [], [], 0)[0]:
                    _close(conn.sock)
                    continue
                conn.reused = True
                return conn
        return None

    def _give_back(self, key, conn: _Conn) -> None:
        conn.idle_since = time.monotonic()
        with self._lock:
            pool = self._idle.setdefault(key, [])
            if len(pool) < self.max_idle:
                pool.append(conn)
                return
        _close(conn.sock)

    def _connect(self, key, deadline: float) -> _Conn:
        scheme, host, port = key
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise _Fail("dns", f"cannot resolve {host}: {exc.strerror}") from None
        except UnicodeError:
            raise _Fail("dns", f"cannot resolve {host}: bad host name") from None
        last: _Fail | None = None
        for family, kind, proto, _, address in infos:
            if not self.allow_link_local and blocked_address(address[0]):
                last = _Fail("blocked_address", f"{host} resolves to link-local {address[0]}; refused "
                                                "(MOCK_NORCE_ALLOW_LINK_LOCAL=1 allows it)")
                continue
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(_remaining(deadline))
                sock.connect(address)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if scheme == "https":
                    sock.settimeout(_remaining(deadline))
                    sock = self._tls.wrap_socket(sock, server_hostname=host)
                return _Conn(sock)
            except _Fail:
                _close(sock)
                raise
            except BaseException as exc:
                _close(sock)
                last = _classify(exc)
        raise last or _Fail("dns", f"{host} has no address")


class _Stale(Exception):
    """A reused connection failed before any byte of the response: safe to try again."""


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Fail("timeout", "no complete response within the deadline")
    return left


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 3)


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


def _classify(exc: BaseException) -> _Fail:
    if isinstance(exc, _Fail):
        return exc
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return _Fail("timeout", "no complete response within the deadline")
    if isinstance(exc, ConnectionRefusedError):
        return _Fail("connection_refused", "connection refused")
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return _Fail("connection_reset", f"connection reset ({exc.__class__.__name__})")
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        return _Fail("tls", f"TLS error: {getattr(exc, 'reason', None) or exc}")
    if isinstance(exc, OSError):
        return _Fail("network", f"network error: {exc.strerror or exc}")
    raise exc


def _send(conn: _Conn, data: bytes, deadline: float) -> None:
    try:
        conn.sock.settimeout(_remaining(deadline))
        conn.sock.sendall(data)
    except (ConnectionResetError, BrokenPipeError) as exc:
        if conn.reused:
            raise _Stale() from exc
        raise _classify(exc) from None
    except OSError as exc:
        raise _classify(exc) from None


def _fill(conn: _Conn, deadline: float) -> int:
    """Read more bytes into the buffer; 0 means the peer closed."""
    try:
        conn.sock.settimeout(_remaining(deadline))
        chunk = conn.sock.recv(65536)
    except OSError as exc:
        raise _classify(exc) from None
    conn.buf += chunk
    return len(chunk)


def _readline(conn: _Conn, deadline: float, what: str) -> bytes:
    while True:
        idx = conn.buf.find(b"\n")
        if idx >= 0:
            line = bytes(conn.buf[:idx + 1])
            del conn.buf[:idx + 1]
            return line.rstrip(b"\r\n")
        if len(conn.buf) > _MAX_LINE:
            raise _Fail("protocol_error", f"{what} longer than {_MAX_LINE} bytes")
        if _fill(conn, deadline) == 0:
            raise _Fail("protocol_error", f"connection closed in the middle of the {what}")


def _read_response(conn: _Conn, method: str, deadline: float, cap: int) -> _Response:
    while True:
        if not conn.buf:
            try:
                got = _fill(conn, deadline)
            except _Fail as fail:
                if conn.reused and fail.error_class == "connection_reset":
                    raise _Stale() from None
                raise
            if got == 0:
                if conn.reused:
                    raise _Stale()
                raise _Fail("empty_response", "connection closed without a response")
        status_line = _readline(conn, deadline, "status line")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
            raise _Fail("protocol_error", f"not an HTTP response: {status_line[:60]!r}")
        status, version = int(parts[1]), parts[0]
        headers = _read_headers(conn, deadline)
        if 100 <= status < 200 and status != 101:
            continue  # 100 Continue and friends: the real answer follows
        break
    lowered = {k.lower(): v for k, v in headers}
    keep_alive = version == b"HTTP/1.1" and lowered.get("connection", "").lower() != "close"
    if method == "HEAD" or status in (204, 304) or status == 101:
        return _Response(status, headers, b"", False, keep_alive and not conn.buf)
    if "chunked" in lowered.get("transfer-encoding", "").lower():
        body, truncated = _read_chunked(conn, deadline, cap)
    elif "content-length" in lowered:
        try:
            length = int(lowered["content-length"])
            if length < 0:
                raise ValueError
        except ValueError:
            raise _Fail("protocol_error", f"bad Content-Length {lowered['content-length']!r}") from None
        body, truncated = _read_exact(conn, deadline, length, cap)
    else:
        body, truncated = _read_to_close(conn, deadline, cap)
        keep_alive = False
    return _Response(status, headers, body, truncated, keep_alive and not conn.buf)


def _read_headers(conn: _Conn, deadline: float) -> list[tuple[str, str]]:
    headers = []
    while True:
        line = _readline(conn, deadline, "response headers")
        if not line:
            return headers
        if len(headers) >= _MAX_HEADERS:
            raise _Fail("protocol_error", f"more than {_MAX_HEADERS} response headers")
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise _Fail("protocol_error", f"malformed header line {line[:60]!r}")
        headers.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))


def _read_exact(conn: _Conn, deadline: float, length: int, cap: int) -> tuple[bytes, bool]:
    """Read a body of known length: keep the first `cap` bytes, discard the rest."""
    kept = bytearray()
    left = length
    while left > 0:
        if not conn.buf and _fill(conn, deadline) == 0:
            raise _Fail("protocol_error", f"connection closed with {left} of {length} body bytes unread")
        take = min(left, len(conn.buf))
        room = cap - len(kept)
        if room > 0:
            kept += conn.buf[:min(take, room)]
        del conn.buf[:take]
        left -= take
    return bytes(kept), length > cap


def _read_to_close(conn: _Conn, deadline: float, cap: int) -> tuple[bytes, bool]:
    kept = bytearray()
    total = 0
    while True:
        if conn.buf:
            total += len(conn.buf)
            room = cap - len(kept)
            if room > 0:
                kept += conn.buf[:room]
            conn.buf.clear()
        if _fill(conn, deadline) == 0:
            return bytes(kept), total > cap


def _read_chunked(conn: _Conn, deadline: float, cap: int) -> tuple[bytes, bool]:
    kept = bytearray()
    total = 0
    while True:
        size_line = _readline(conn, deadline, "chunk size")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _Fail("protocol_error", f"bad chunk size {size_line[:40]!r}") from None
        if size == 0:
            while _readline(conn, deadline, "trailers"):
                pass
            return bytes(kept), total > cap
        chunk, _ = _read_exact(conn, deadline, size, max(0, cap - len(kept)))
        kept += chunk
        total += size
        if _readline(conn, deadline, "chunk end"):
            raise _Fail("protocol_error", "chunk not followed by CRLF")
