"""The documented range of every number mock-norce takes, in one place.

Every door (API, UI, CLI, config file, environment) checks against these, so a number out of
range is refused with its range (422 at the API, one line and exit 2 at the CLI) instead of
overflowing a timer or filling memory in a background thread. The README's limits table is
written from this module, and a test keeps the two in step.
"""

from __future__ import annotations

import math

from mock_norce.errors import OutOfRange

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Multiplies retry delays and scenario waits. 100 stretches Norce's 22 h window to 92 days.
TIME_SCALE_MAX = 100.0
# Intervals, durations, retention ages and grace periods: at most a (leap) year.
DURATION_MAX = 366 * 86400.0
# A jitter shifts an event by at most this much either way.
JITTER_MAX = 60.0
# Chaos: the longest reorder window or added delay of a first attempt (before the time scale).
CHAOS_DELAY_MAX = 3600.0
# Events per second of a rate schedule (per minute: 60 times this).
RATE_MAX = 20_000.0
# Events (or firings) of one schedule.
COUNT_MAX = 10**12
# Seeds are int64, as a .NET or Java client would send them.
SEED_MIN, SEED_MAX = INT64_MIN, INT64_MAX
# Paging of the log and the UI's page numbers.
OFFSET_MAX = 10**9
PAGE_MAX = 10**6
# Deliveries one bulk redeliver queues (the newest that match its filters).
BULK_REDELIVER_MAX = 1000
SEARCH_MAX = 200  # characters of a search of the log (q=)
LOG_COUNT_CAP = 10_000  # matches of a log filter counted one by one before a total reads "more than"
LOG_PAGE = 50  # deliveries on a page of the UI's log
# ?wait= on the API, in seconds.
WAIT_MAX = 300.0
# Nesting of a JSON request body and digits of one integer literal in it.
JSON_DEPTH_MAX = 32
JSON_INT_DIGITS_MAX = 20
# Static headers of one subscription (a request line's worth; checking them is linear).
HEADERS_MAX = 100
# Lifetime of a Query API token, in seconds (Norce's is 3600; 1 lets a client's refresh be tested).
TOKEN_LIFETIME_MIN, TOKEN_LIFETIME_MAX = 1, 86400
# Query API requests a second per client (MOCK_NORCE_QUERY_RATE_LIMIT; 0: no limit).
QUERY_RATE_MAX = 10_000.0
# The longest a background thread sleeps in one go (it re-checks its work after that):
# threading's timers overflow a little above 9.2e9 s.
SLEEP_MAX = 3600.0


def _show(bound: float) -> str:
    return str(bound) if isinstance(bound, int) else f"{bound:g}"  # 1000000, not 1e+06


def check_number(value, what: str, lo: float, hi: float, *, integer: bool = False):
    """`value` if it is a (finite) number in [lo, hi], else OutOfRange naming the range."""
    kind = "a whole number" if integer else "a number"
    lo_s, hi_s = _show(lo), _show(hi)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise OutOfRange(f"{what} must be {kind} between {lo_s} and {hi_s}, got {value!r:.40}")
    if isinstance(value, float) and not math.isfinite(value):
        raise OutOfRange(f"{what} must be {kind} between {lo_s} and {hi_s}, got {value!r}")
    if not lo <= value <= hi:
        raise OutOfRange(f"{what} must be between {lo_s} and {hi_s}, got {value!r:.40}")
    return value


def sleep_for(seconds: float | None) -> float:
    """A timeout safe to give threading: never negative, never beyond SLEEP_MAX."""
    if seconds is None or seconds != seconds:
        return SLEEP_MAX
    return min(SLEEP_MAX, max(0.0, seconds))
