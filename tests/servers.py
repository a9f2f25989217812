"""Real local subscribers for tests: a raw-socket HTTP server on 127.0.0.1 whose behaviour per
request is a Python function, so each fault (slow, silent, reset, garbage...) is one line.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import struct
import urllib.error
import urllib.request
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Request:
    method: str
    path: str
    headers: dict  # lower-case names
    raw_headers: list
    body: bytes
    received: float = field(default_factory=time.time)


def response(status: int, body: bytes = b"", headers: dict | None = None, reason: str = "X") -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Server:
    """Accepts connections and answers each request with ``handler(request, conn)``.

    The handler returns bytes to send (the connection stays open for the next request), or
    None when it has dealt with the connection itself (and closed it).
    """

    def __init__(self, handler: Callable[[Request, socket.socket], bytes | None]):
        self.handler = handler
        self.requests: list[Request] = []
        self.connections = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                raw = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:]]
                headers = {k.lower(): v for k, v in raw}
                length = int(headers.get("content-length", 0))
                while len(buf) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body, buf = buf[:length], buf[length:]
                req = Request(method, path, headers, raw, body)
                with self._lock:
                    self.requests.append(req)
                out = self.handler(req, conn)
                if out is None:
                    return
                conn.sendall(out)
        except OSError:
            return
        finally:
            with self._lock:
                self._open.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self._closed = True
        self._sock.close()
        with self._lock:
            conns = list(self._open)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --- behaviours ---------------------------------------------------------------------------

def answer(status: int, body: bytes = b"", headers: dict | None = None):
    return lambda req, conn: response(status, body, headers)


def reset(req, conn):
    """Half a response, then a TCP RST (SO_LINGER 0)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf")
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    return None


def silent(req, conn):
    """Accept, read the request, never answer (until the client gives up)."""
    try:
        conn.settimeout(30)
        conn.recv(1)
    except OSError:
        pass
    conn.close()
    return None


def after(seconds: float, status: int = 200):
    def late(req, conn):
        time.sleep(seconds)
        return response(status)
    return late


def dribble(interval: float = 1.0, length: int = 20):
    """A 200 whose body arrives one byte per interval."""
    def slow(req, conn):
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode())
        for _ in range(length):
            time.sleep(interval)
            conn.sendall(b"x")
        return b""
    return slow


def empty(req, conn):
    conn.close()
    return None


def garbage(req, conn):
    conn.sendall(b"\x00\xffthis is not http at all\r\n\r\n")
    conn.close()
    return None


def huge(size: int):
    chunk = b"y" * 65536

    def big(req, conn):
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
        left = size
        while left > 0:
            n = min(left, len(chunk))
            conn.sendall(chunk[:n])
            left -= n
        return b""
    return big


def routes(table: dict[str, Callable]):
    """Dispatch on the request path; unknown paths get 404."""
    def route(req, conn):
        handler = table.get(req.path.split("?")[0], answer(404))
        return handler(req, conn)
    return route


def unused_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method: str, url: str, body: dict | None = None, timeout: float = 10.0):
    """(status, parsed JSON) of one request with a JSON body; HTTP errors are answers too."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


class Served:
    """A `mock-norce serve` child process on a free port."""

    def __init__(self, tmp_path, **env):
        self.log = open(tmp_path / f"serve-{time.time_ns()}.log", "w+")
        full_env = dict(os.environ, MOCK_NORCE_PORT="0", MOCK_NORCE_DATA_DIR=str(tmp_path / "data"), **env)
        self.proc = subprocess.Popen([sys.executable, "-m", "mock_norce", "serve"], cwd=ROOT, env=full_env,
                                     stdout=self.log, stderr=subprocess.STDOUT, text=True)
        self.url = self._wait_for_url()
        self._wait_healthy()

    def _wait_for_url(self) -> str:
        deadline = time.time() + 20
        while time.time() < deadline:
            self.log.seek(0)
            for line in self.log.read().splitlines():
                if " on http://" in line:
                    return line.split(" on ", 1)[1].split()[0].rstrip("/")
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.log.seek(0)
        raise AssertionError(f"serve did not start:\n{self.log.read()}")

    def _wait_healthy(self) -> None:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if http("GET", self.url + "/healthz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("never healthy")

    def stop(self) -> float:
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(15)
        return time.monotonic() - start

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()
