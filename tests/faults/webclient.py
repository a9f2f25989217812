"""A small HTTP client for the fault tests: exact bytes and headers, cookies, no redirects followed."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlencode, urlsplit


class Answer:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        assert self.headers.get_content_type() == "application/json", (self.status, self.headers, self.text[:300])
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.headers.get('Content-Type')} {self.text[:200]!r}>"


def request(base: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30.0) -> Answer:
    """One request with exactly these headers (http.client adds only Host, and Content-Length with a body)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Answer(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def api(base: str, method: str, path: str, payload=None, token: str | None = None, timeout: float = 30.0) -> Answer:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(payload).encode() if payload is not None else None
    return request(base, method, path, body, headers, timeout)


class Browser:
    """Keeps the session cookie like a browser; follows no redirect (tests look at Location)."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}

    def _send(self, method: str, path: str, body: bytes | None, headers: dict) -> Answer:
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = request(self.base, method, path, body, headers)
        for value in answer.headers.get_all("Set-Cookie") or ():
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return answer

    def get(self, path: str) -> Answer:
        return self._send("GET", path, None, {})

    def post(self, path: str, fields: dict) -> Answer:
        return self._send("POST", path, urlencode(fields).encode(),
                          {"Content-Type": "application/x-www-form-urlencoded"})

    def csrf(self, path: str = "/login") -> str:
        page = self.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, (path, page)
        return found.group(1)
