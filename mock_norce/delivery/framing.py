"""HTTP/1.1 on a socket, with a deadline on every read and write.

The part of the sender that speaks the protocol: send a request, read a status line,
headers and a body framed by Content-Length, chunks or the connection's end, keeping the
first ``cap`` bytes of the body. Every read sets the socket timeout to the time left, so a
server dribbling a byte at a time still ends at the deadline.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

_MAX_LINE = 16 * 1024
_MAX_HEADERS = 200


class Fail(Exception):
    """An attempt failed: error class and a message for the log."""

    def __init__(self, error_class: str, message: str):
        super().__init__(message)
        self.error_class = error_class


class Conn:
    __slots__ = ("sock", "buf", "reused", "idle_since")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()
        self.reused = False
        self.idle_since = 0.0


@dataclass(slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool
    reusable: bool


class Stale(Exception):
    """A reused connection failed before any byte of the response: try again on a new one.

    ``sent`` tells whether the whole request had been written: then the subscriber may have
    received and handled it, and the retry on a new connection may reach it a second time.
    """

    def __init__(self, sent: bool):
        super().__init__("request sent, no answer" if sent else "request not sent")
        self.sent = sent


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Fail("timeout", "no complete response within the deadline")
    return left


def close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


def classify(exc: BaseException) -> Fail:
    if isinstance(exc, Fail):
        return exc
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return Fail("timeout", "no complete response within the deadline")
    if isinstance(exc, ConnectionRefusedError):
        return Fail("connection_refused", "connection refused")
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return Fail("connection_reset", f"connection reset ({exc.__class__.__name__})")
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        return Fail("tls", f"TLS error: {getattr(exc, 'reason', None) or exc}")
    if isinstance(exc, OSError):
        return Fail("network", f"network error: {exc.strerror or exc}")
    raise exc


def send(conn: Conn, data: bytes, deadline: float) -> None:
    try:
        conn.sock.settimeout(remaining(deadline))
        conn.sock.sendall(data)
    except (ConnectionResetError, BrokenPipeError) as exc:
        if conn.reused:
            raise Stale(sent=False) from exc
        raise classify(exc) from None
    except OSError as exc:
        raise classify(exc) from None


def fill(conn: Conn, deadline: float) -> int:
    """Read more bytes into the buffer; 0 means the peer closed."""
    try:
        conn.sock.settimeout(remaining(deadline))
        chunk = conn.sock.recv(65536)
    except OSError as exc:
        raise classify(exc) from None
    conn.buf += chunk
    return len(chunk)


def readline(conn: Conn, deadline: float, what: str) -> bytes:
    while True:
        idx = conn.buf.find(b"\n", 0, _MAX_LINE + 1)  # the same limit however the bytes arrived
        if idx >= 0:
            line = bytes(conn.buf[:idx + 1])
            del conn.buf[:idx + 1]
            return line.rstrip(b"\r\n")
        if len(conn.buf) > _MAX_LINE:
            raise Fail("protocol_error", f"{what} longer than {_MAX_LINE} bytes")
        if fill(conn, deadline) == 0:
            raise Fail("protocol_error", f"connection closed in the middle of the {what}")


def read_response(conn: Conn, method: str, deadline: float, cap: int) -> Response:
    stale_if_closed = conn.reused  # only until a first byte of an answer (a 100 Continue) came
    while True:
        if not conn.buf:
            try:
                got = fill(conn, deadline)
            except Fail as fail:
                if stale_if_closed and fail.error_class == "connection_reset":
                    raise Stale(sent=True) from None
                raise
            if got == 0:
                if stale_if_closed:
                    raise Stale(sent=True)
                raise Fail("empty_response", "connection closed without a response")
        stale_if_closed = False
        status_line = readline(conn, deadline, "status line")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
            raise Fail("protocol_error", f"not an HTTP response: {status_line[:60]!r}")
        status, version = int(parts[1]), parts[0]
        headers = read_headers(conn, deadline)
        if 100 <= status < 200 and status != 101:
            continue  # 100 Continue and friends: the real answer follows
        break
    lowered = {k.lower(): v for k, v in headers}
    keep_alive = version == b"HTTP/1.1" and lowered.get("connection", "").lower() != "close"
    if method == "HEAD" or status in (204, 304) or status == 101:
        return Response(status, headers, b"", False, keep_alive and not conn.buf)
    if "chunked" in lowered.get("transfer-encoding", "").lower():
        body, truncated = read_chunked(conn, deadline, cap)
    elif "content-length" in lowered:
        try:
            length = int(lowered["content-length"])
            if length < 0:
                raise ValueError
        except ValueError:
            raise Fail("protocol_error", f"bad Content-Length {lowered['content-length']!r}") from None
        body, truncated = read_exact(conn, deadline, length, cap)
    else:
        body, truncated = read_to_close(conn, deadline, cap)
        keep_alive = False
    return Response(status, headers, body, truncated, keep_alive and not conn.buf)


def read_headers(conn: Conn, deadline: float) -> list[tuple[str, str]]:
    headers = []
    while True:
        line = readline(conn, deadline, "response headers")
        if not line:
            return headers
        if len(headers) >= _MAX_HEADERS:
            raise Fail("protocol_error", f"more than {_MAX_HEADERS} response headers")
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise Fail("protocol_error", f"malformed header line {line[:60]!r}")
        headers.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))


def read_exact(conn: Conn, deadline: float, length: int, cap: int) -> tuple[bytes, bool]:
    """Read a body of known length: keep the first `cap` bytes, discard the rest."""
    kept = bytearray()
    left = length
    while left > 0:
        if not conn.buf and fill(conn, deadline) == 0:
            raise Fail("protocol_error", f"connection closed with {left} of {length} body bytes unread")
        take = min(left, len(conn.buf))
        room = cap - len(kept)
        if room > 0:
            kept += conn.buf[:min(take, room)]
        del conn.buf[:take]
        left -= take
    return bytes(kept), length > cap


def read_to_close(conn: Conn, deadline: float, cap: int) -> tuple[bytes, bool]:
    kept = bytearray()
    total = 0
    while True:
        if conn.buf:
            total += len(conn.buf)
            room = cap - len(kept)
            if room > 0:
                kept += conn.buf[:room]
            conn.buf.clear()
        if fill(conn, deadline) == 0:
            return bytes(kept), total > cap


def read_chunked(conn: Conn, deadline: float, cap: int) -> tuple[bytes, bool]:
    kept = bytearray()
    total = 0
    while True:
        size_line = readline(conn, deadline, "chunk size")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise Fail("protocol_error", f"bad chunk size {size_line[:40]!r}") from None
        if size == 0:
            while readline(conn, deadline, "trailers"):
                pass
            return bytes(kept), total > cap
        chunk, _ = read_exact(conn, deadline, size, max(0, cap - len(kept)))
        kept += chunk
        total += size
        if readline(conn, deadline, "chunk end"):
            raise Fail("protocol_error", "chunk not followed by CRLF")
