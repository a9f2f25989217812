"""The delivery log's filters as a query string: one reading for the API's list, its bulk
redeliver and the UI's log page, so the three always mean the same set of deliveries.

    type, status, run   as before
    q                   words that must each be a value in the payload (OrderNo, OrderId,
                        PartNo, a buyer's name, ...); a trailing * makes one a prefix
    code                the last answer's status code (500) or class (5xx)
    error               the last attempt's error class (timeout, connection_refused, dns, ...)
    since, until        created at or after / at or before: ISO 8601 (UTC unless it says
                        otherwise) or epoch seconds
    redelivery_of       the redeliveries of one delivery
    chaos               yes: only deliveries chaos did something to; no: only the others

A value that cannot be used is a 422 naming the parameter (never silently ignored).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Mapping

from mock_norce import statuses
from mock_norce.errors import ApiError
from mock_norce.limits import INT64_MAX, SEARCH_MAX
from mock_norce.storage.log_query import LogFilter, code_range, match_expression

# What the list and the bulk redeliver take besides paging (the OpenAPI document lists them).
PARAMS = ("type", "status", "run", "q", "code", "error", "since", "until", "redelivery_of", "chaos")
# The error classes an attempt records when no answer came (a 4xx or 5xx is found by its code).
ERROR_CLASSES = ("timeout", "connection_refused", "connection_reset", "empty_response", "protocol_error", "dns",
                 "tls", "network", "blocked_address", "bad_redirect", "too_many_redirects", "bad_request",
                 "internal_error", "interrupted", "chaos")


def _bad(name: str, reason: str) -> ApiError:
    return ApiError(422, "bad_parameter", f"{name}: {reason}", [{"path": name, "reason": reason}])


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The times a datetime can hold (years 1 to 9999): beyond them a time could not be shown again
# in the links that keep the filter (paging, bulk redeliver).
_TIME_MIN = (datetime(1, 1, 1, tzinfo=timezone.utc) - _EPOCH).total_seconds()
_TIME_MAX = (datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc) - _EPOCH).total_seconds()


def parse_time(raw: str, name: str) -> float:
    """Epoch seconds from an ISO 8601 time (UTC when it has no offset) or a number of seconds."""
    text = raw.strip()
    try:
        t = float(text) if text.replace(".", "", 1).isdigit() else _iso(text)
    except (ValueError, OverflowError):
        raise _bad(name, f"a time as ISO 8601 (2026-11-25T19:39:20Z) or epoch seconds, got {raw[:40]!r}") from None
    if not _TIME_MIN <= t <= _TIME_MAX:
        raise _bad(name, f"a time between the years 1 and 9999, got {raw[:40]!r}")
    return t


def _iso(text: str) -> float:
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def log_filter(args: Mapping[str, str]) -> LogFilter:
    """The filter a query string asks for; ApiError (422, naming the parameter) for a bad value."""
    def get(name: str) -> str | None:
        # Blank is "any" (what the log page's form sends for a field left empty); anything else
        # is taken as written, so " dead" is refused as the published schema refuses it.
        value = args.get(name)
        return value if value else None

    status = get("status")
    if status is not None and status not in statuses.STATUSES:
        raise _bad("status", f"one of {', '.join(statuses.STATUSES)}, got {status[:40]!r}")
    code = get("code")
    try:
        code_range(code)
    except ValueError as exc:
        raise _bad("code", str(exc)) from None
    q = (get("q") or "").strip() or None  # a typed search: spaces around it are not words
    if q is not None and len(q) > SEARCH_MAX:
        raise _bad("q", f"at most {SEARCH_MAX} characters")
    if q is not None and match_expression(q) is None:
        # Searched as nothing it would match the whole log, which a bulk redeliver must never
        # take for a filter.
        raise _bad("q", f"no word or number to search for in {q[:40]!r}")
    since = parse_time(get("since"), "since") if get("since") else None
    until = parse_time(get("until"), "until") if get("until") else None
    if since is not None and until is not None and since > until:
        raise _bad("until", "must not be before since")
    origin = args.get("redelivery_of")  # only ever in a link: blank is not "any" here
    if origin is not None and not (origin.isascii() and origin.isdigit() and int(origin) <= INT64_MAX):
        raise _bad("redelivery_of", f"a delivery id, got {origin[:40]!r}")
    chaos = get("chaos")
    if chaos is not None and chaos not in ("yes", "no"):
        raise _bad("chaos", f"yes or no (blank: any), got {chaos[:40]!r}")
    return LogFilter(event_type=get("type"), status=status, run_id=get("run"), q=q, code=code,
                     error_class=get("error"), since=since, until=until,
                     redelivery_of=int(origin) if origin is not None else None,
                     chaos=None if chaos is None else chaos == "yes")


def as_args(f: LogFilter) -> dict[str, str]:
    """The query string of a filter (for links that keep it: paging, the bulk redeliver form)."""
    out = {"type": f.event_type, "status": f.status, "run": f.run_id, "q": f.q, "code": f.code,
           "error": f.error_class, "redelivery_of": f.redelivery_of,
           "chaos": None if f.chaos is None else ("yes" if f.chaos else "no"),
           "since": _show(f.since), "until": _show(f.until)}
    return {k: str(v) for k, v in out.items() if v is not None and v != ""}


def _show(t: float | None) -> str | None:
    if t is None:
        return None
    # isoformat pads the year to four digits (strftime's %Y writes year 1 as "1", unreadable again).
    return (_EPOCH + timedelta(seconds=t)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
