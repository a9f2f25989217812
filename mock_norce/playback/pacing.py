"""Pacing of rate schedules: how many events each window of time gets, and when each is due.

A rate schedule fires every 0.1 s (every 1 s below 10 events/s) and each firing writes the
events of one window of time that begins ``LEAD`` seconds later: building and committing a
window never makes its first events late, since the dispatcher has them before they fall
due. Fractions carry from window to window, so 15/s is 1 or 2 per window and exactly 15 a
second. A window whose firing did not write it (too slow a firing that APScheduler skipped,
a failed write) is covered by the next one, if it is less than ``MAX_CATCH_UP`` old, so the
rate holds; missed windows older than that are not made up.

Jitter shifts whole stories: every event of one scenario play (one order) gets the same
shift, so an order is never delivered Delivered-before-Confirmed. The due times of one story
never decrease: inside a window they follow the stream, shifted times are clamped to the
window's start, windows never overlap, and a story cut by a window's end keeps its shift into
the next window. Pure: no clock, no threads.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

WINDOW = 0.1  # seconds of events written by one firing of a rate schedule...
SLOW_WINDOW = 1.0  # ...or of a slow one (below SLOW_BELOW events/s), to spare empty firings
SLOW_BELOW = 10.0
LEAD = 0.1  # a window is written this long before it begins
MAX_CATCH_UP = 1.0  # how far back a window covers windows that were not written


def per_second(spec: dict) -> float:
    return spec["rate"] / (60.0 if spec.get("rate_per") == "minute" else 1.0)


def window_of(spec: dict) -> float:
    return WINDOW if per_second(spec) >= SLOW_BELOW else SLOW_WINDOW


@dataclass
class Pace:
    """What one window hands to the next (kept in memory; a restart starts afresh)."""

    covered: float | None = None  # the events of the time up to here are written (or skipped on purpose)
    window_end: float | None = None  # where the due times of the latest window ended
    story: object = None  # the latest story written, and its shift
    shift: float = 0.0


@dataclass
class Window:
    span: float  # seconds of events it stands for (more than its width when it covers missed ones)
    start: float  # its events are due from here...
    width: float  # ...over this long
    end: float  # the end of the time it stands for


def window(pace: Pace, spec: dict, scheduled: float, now: float) -> Window:
    """The window of a firing scheduled at `scheduled` and made at `now`."""
    width = window_of(spec)
    first, end = scheduled + LEAD, scheduled + LEAD + width
    if pace.covered is not None and pace.covered >= first - MAX_CATCH_UP:
        first = pace.covered  # the windows since were not written: this one covers them
    # Never in the past, never overlapping the previous window (a late firing).
    start = max(first, now, first if pace.window_end is None else pace.window_end)
    span = round(max(0.0, end - first), 4)  # no float dust in the number of events
    return Window(span, start, max(end, start + width) - start, end)


def events_in(spec: dict, span: float, carry: float, emitted: int) -> tuple[int, float]:
    """(events in `span` seconds, the fraction carried to the next window), within the count."""
    total = carry + per_second(spec) * span
    n = int(total + 1e-9)
    carry = max(0.0, total - n)
    if "count" in spec:
        n = min(n, spec["count"] - emitted)
    return max(0, n), carry


def spread(pace: Pace, w: Window, stories: list, jitter: float, rng: random.Random) -> tuple[list[float], Pace]:
    """Due times of a window's events (their story keys in stream order) and the next Pace.

    ``pace`` is not changed: the caller keeps the new one only once the window is committed.
    """
    n = len(stories)
    story, shift = pace.story, pace.shift
    dues = []
    for i, key in enumerate(stories):
        if key != story:
            story, shift = key, (rng.uniform(-jitter, jitter) if jitter else 0.0)
        dues.append(max(w.start, w.start + w.width * i / n + shift))
    return dues, Pace(w.end, w.start + w.width, story, shift)


def passed(pace: Pace, w: Window) -> Pace:
    """The Pace after a window left empty on purpose (no event due yet, or throttled): the
    next window does not cover it again."""
    return Pace(w.end, pace.window_end, pace.story, pace.shift)
