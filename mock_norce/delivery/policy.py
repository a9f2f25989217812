"""Norce's delivery policy, as pure functions: what counts as success, when to retry, when a
delivery is dead, and how a redirect is followed.

Source: Norce's "Using Norce Commerce Event" guide, newest version (``../shared/norce``):
success is any 2xx; anything else is retried after 5s, 10s, 15s, 30s, 1m, 2m, 5m, 10m, 15m,
30m, 1h, 2h, 3h, 4h, 5h, 6h; after the 17th failed attempt the event is dead. Each POST has a
5 s timeout. Redirects are followed. What the guide leaves open is a setting here, with the
default written in the README.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from mock_norce.delivery.iri import to_uri

# Delay before retry n (n = 1..16), in seconds.
BACKOFF = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 14400, 18000, 21600)
MAX_ATTEMPTS = len(BACKOFF) + 1  # 17

REDIRECT_CODES = (300, 301, 302, 303, 307, 308)


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status <= 299


def retry_delay(failed_attempts: int, scale: float = 1.0) -> float | None:
    """Seconds from a failed attempt to the next one, or None when the delivery is dead.

    ``failed_attempts`` counts the attempts made so far (all failed), 1 after the first.
    """
    if failed_attempts >= MAX_ATTEMPTS:
        return None
    return BACKOFF[failed_attempts - 1] * scale


def schedule_offsets(scale: float = 1.0) -> list[float]:
    """Offsets of all 17 attempts from the first, for an always-failing subscriber."""
    offsets, t = [0.0], 0.0
    for delay in BACKOFF:
        t += delay * scale
        offsets.append(t)
    return offsets


@lru_cache(maxsize=4096)
def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL: the unit of connection pooling and header trust.

    Cached: the same few subscriber URLs are parsed for every attempt and every dashboard
    refresh. Never raises: a URL that cannot be parsed (stored by an older version, say) gets port 0,
    and the sender fails its attempts as ``bad_request``.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "", "", 0
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    return parts.scheme, host, port


@dataclass(frozen=True)
class Hop:
    """How to make the next request of a redirect chain."""

    url: str
    method: str
    keep_body: bool
    keep_headers: bool  # the user's static headers: only to the same origin, never https->http


def follow(current_url: str, method: str, status: int, location: str | None,
           keep_post: bool = False) -> Hop | str:
    """The next hop of a redirect, or an error message when it cannot be followed.

    By default the method changes as .NET's HttpClient (Norce runs on .NET) changes it:
    301/302/303 (and 300) turn a POST into a GET without a body; 307/308 repeat the POST.
    With ``keep_post`` every redirect repeats the POST with its body.
    """
    if not location or not location.strip():
        return f"{status} redirect without a Location header"
    target = urljoin(current_url, _location_text(location.strip()))
    try:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"redirect to an unsupported URL {target!r}"
        target = to_uri(target)
    except ValueError as exc:  # BadUrl, or urlsplit's bad IPv6 or port
        return f"redirect to a URL that cannot be used: {target!r} {exc}"
    if status in (307, 308) or keep_post or method != "POST":
        next_method, keep_body = method, method == "POST"
    else:
        next_method, keep_body = "GET", False
    here, there = origin(current_url), origin(target)
    downgrade = here[0] == "https" and there[0] == "http"
    return Hop(target, next_method, keep_body, keep_headers=(here == there and not downgrade))


def _location_text(location: str) -> str:
    """A Location header (read as Latin-1 off the wire) as the IRI its sender meant.

    Servers put raw UTF-8 in Location; read as UTF-8, as .NET does, it becomes an IRI that
    to_uri encodes back to the same bytes. Bytes that are not UTF-8 are percent-encoded as
    they are.
    """
    if location.isascii():
        return location
    try:
        return location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return "".join(c if ord(c) < 128 else f"%{ord(c):02X}" for c in location)
