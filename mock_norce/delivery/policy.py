"""Norce's delivery policy, pure: what counts as success, when to retry, when a delivery is
dead, and how a redirect is followed.

Norce's guide "Using Norce Commerce Event" changed over time, so the retry rules are data: a
``Policy`` per version of the guide. ``current`` (the newest version, the default): success
is any 2xx; anything else is retried after 5s, 10s, 15s, 30s, 1m, 2m, 5m, 10m, 15m, 30m, 1h,
2h, 3h, 4h, 5h, 6h; after the 17th failed attempt the event is dead. ``legacy`` (the oldest
version): only an HTTP 500 is retried, 10 tries in all, without delay. Each POST has a 5 s
timeout. Redirects are followed, the static headers kept as the subscription's redirect
header rule says. What the guide leaves open is a setting here, with the default in the README.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from mock_norce.delivery.iri import to_uri

REDIRECT_CODES = (300, 301, 302, 303, 307, 308)

# Outcomes that are no HTTP answer at all (the request may not have reached the subscriber):
# the legacy policy retries these as it retries a 500 (inferred, see Policy.retried).
NO_ANSWER = frozenset({"timeout", "connection_refused", "connection_reset", "dns", "tls", "empty_response",
                       "protocol_error", "network", "blocked_address", "bad_request", "internal_error"})


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status <= 299


@dataclass(frozen=True)
class Policy:
    """One version of Norce's retry policy, as data: which failed attempts are retried, the
    delay before each retry, and how many attempts there are in all before a delivery is dead.

    ``retry_on`` is "any" (every failed attempt is retried) or "500" (only an HTTP 500, and an
    attempt that got no answer at all). ``source`` says where the numbers come from.
    """

    name: str
    backoff: tuple[float, ...]  # delay before retry n (n = 1..max_attempts-1), in seconds
    retry_on: str
    source: str

    @property
    def max_attempts(self) -> int:
        return len(self.backoff) + 1

    def retried(self, status: int | None, error_class: str | None) -> bool:
        """Whether a failed attempt with this outcome is retried at all (attempts left or not)."""
        if self.retry_on == "any":
            return True
        # A first attempt failed by chaos stands for an answer Norce lost: no answer, retried.
        return status == 500 or error_class == "chaos" or (status is None and error_class in NO_ANSWER)

    def retry_delay(self, failed_attempts: int, scale: float = 1.0) -> float | None:
        """Seconds from a failed attempt to the next one, or None when the delivery is dead.

        ``failed_attempts`` counts the attempts made so far (all failed), 1 after the first.
        """
        if failed_attempts >= self.max_attempts:
            return None
        return self.backoff[failed_attempts - 1] * scale

    def offsets(self, scale: float = 1.0) -> list[float]:
        """Offsets of every attempt from the first, for an always-failing (retried) subscriber."""
        offsets, t = [0.0], 0.0
        for delay in self.backoff:
            t += delay * scale
            offsets.append(t)
        return offsets

    def not_retried(self) -> str:
        """Why a failed attempt this policy does not retry ends the delivery (for the log)."""
        return f"not retried: the {self.name} policy retries only HTTP 500"


CURRENT = Policy(
    "current",
    (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 14400, 18000, 21600),
    "any",
    "Norce's guide \"Using Norce Commerce Event\", newest version: any non-20X answer is retried after "
    "5s, 10s, 15s, 30s, 1m, 2m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 4h, 5h, 6h (17 attempts, ~22 h), then dead. "
    "The middle version (5s, 10s, 15s, 30s, 1m, 2m, 5m, 10m, ... rest cut; any non-20X) agrees as far as "
    "it can be read.",
)
LEGACY = Policy(
    "legacy",
    (0,) * 9,
    "500",
    "Norce's guide, oldest version: retried only on HTTP 500 errors, 10 tries in all, no delay, then "
    "dead. Other answers are not retried; no answer at all (timeout, refused connection) is retried "
    "like a 500 (inferred: the guide does not say).",
)
POLICIES = {p.name: p for p in (CURRENT, LEGACY)}


def named(name: str | None) -> Policy:
    """The policy of this name; the current one for None (a delivery stored before policies)."""
    return POLICIES.get(name or CURRENT.name, CURRENT)


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
    keep_headers: bool  # the user's static headers (rule "origin": only to the same origin, never https->http)
    drop_authorization: bool = False  # rule "dotnet": Authorization never follows a redirect, the rest do


def follow(current_url: str, method: str, status: int, location: str | None,
           keep_post: bool = False, header_rule: str = "origin") -> Hop | str | None:
    """The next hop of a redirect, an error message when it cannot be followed, or None when
    the redirect is not followed and is itself the answer (``dotnet``: https->http).

    By default the method changes as .NET's HttpClient (Norce runs on .NET) changes it:
    301/302/303 (and 300) turn a POST into a GET without a body; 307/308 repeat the POST.
    With ``keep_post`` every redirect repeats the POST with its body. ``header_rule`` says
    how the static headers follow: "origin" drops them all when the hop leaves the origin or
    goes https->http (no token leaks); "dotnet" is .NET HttpClient's rule (Norce runs on .NET):
    Authorization is dropped on every redirect, every other header is kept; and, as .NET's
    handler does, a redirect from https to http is not followed at all (no header goes out in
    clear): the 3xx is the attempt's answer.
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
    if header_rule == "dotnet":
        if downgrade:
            return None
        return Hop(target, next_method, keep_body, keep_headers=True, drop_authorization=True)
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
