"""Cron lines: standard 5-field crontab in UTC, stepped by croniter, as an APScheduler trigger.

APScheduler 3's own CronTrigger is not crontab: it numbers weekdays from Monday (``*/2`` meant
Mon, Wed...), refuses ``0-2`` in the weekday field, and ANDs day-of-month with day-of-week.
croniter implements the crontab rules, so it computes every fire time here; APScheduler
stays the only scheduler and only asks this trigger for the next time.

Accepted: numbers, names (``jan``-``dec``, ``sun``-``sat``), ``*``, ranges ``a-b``, steps ``/n``
and lists; 0 and 7 are Sunday. As in Debian's cron, when day-of-month and day-of-week are
both restricted (neither starts with ``*``) a day matching either fires; when one starts with
``*`` both must match. Refused, so a line means the same here as in a crontab: croniter's
extensions (``L``, ``W``, ``#``, ``?``, ``H``, ``@daily``, a sixth field), reversed ranges, and
lines that can never fire (``0 0 30 2 *``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from apscheduler.triggers.base import BaseTrigger
from croniter import croniter
from croniter.croniter import CroniterBadDateError, CroniterError

from mock_norce.errors import ScheduleError

_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_PART = re.compile(r"(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(\d+))?")
_TICK = timedelta(microseconds=1)


class CronTab(BaseTrigger):
    """Fire times of one crontab line, in UTC, up to an optional end date."""

    def __init__(self, expr: str, end_date: datetime | None = None):
        fields = [",".join(_plain(part) for part in f.split(",")) for f in expr.lower().split()]
        # Debian's rule for the two day fields: OR only when neither starts with "*".
        self.day_or = not (fields[2].startswith("*") or fields[4].startswith("*"))
        if self.day_or and ["*"] in croniter(" ".join(fields)).expanded[2::2]:
            # One of them names every day ("1-31", "0-6"), so every day fires; croniter would
            # read that field as "*" and AND the other one instead.
            fields[2] = fields[4] = "*"
        self.expr = " ".join(fields)
        self.end_date = end_date

    def get_next_fire_time(self, previous_fire_time, now):
        # As APScheduler's CronTrigger: from just after the previous time (or now), inclusive.
        if previous_fire_time is not None:
            start = min(now, previous_fire_time + _TICK)
            if start == previous_fire_time:
                start += _TICK
        else:
            start = now
        # croniter gives the first time strictly after its start: one tick back makes it inclusive.
        found = croniter(self.expr, start.astimezone(timezone.utc) - _TICK, day_or=self.day_or).get_next(datetime)
        if self.end_date is not None and found > self.end_date:
            return None
        return found

    def __str__(self) -> str:
        return f"crontab[{self.expr}]"


def crontab(expr: object) -> CronTab:
    """A CronTab trigger for a standard 5-field crontab line; ScheduleError says what is wrong."""
    if not isinstance(expr, str) or len(expr.split()) != 5:
        raise ScheduleError(f"bad cron expression {expr!r}: needs 5 fields (minute hour day month weekday)")
    for i, field in enumerate(expr.split()):
        for part in field.split(","):
            _check_part(expr, i, part)
    try:
        trigger = CronTab(expr)
        trigger.get_next_fire_time(None, datetime.now(timezone.utc))
    except CroniterBadDateError as exc:
        # croniter looks ahead for years before it gives up on a date that never comes.
        raise ScheduleError(f"bad cron expression {expr!r}: it never fires ({exc})") from None
    except (CroniterError, ValueError, KeyError, IndexError) as exc:
        raise ScheduleError(f"bad cron expression {expr!r}: {exc}") from None
    return trigger


def _check_part(expr: str, i: int, part: str) -> None:
    def bad(why: str):
        return ScheduleError(f"bad cron expression {expr!r}: {part!r} in the {_FIELDS[i]} field {why}")

    m = _PART.fullmatch(part.lower())
    if m is None:
        raise bad("is not crontab (use numbers, names, *, a-b ranges, /n steps and lists)")
    if m.group(2) is not None and int(m.group(2)) == 0:
        raise bad("has a step of 0")
    if m.group(1) == "*":
        return
    ends = [_value(v, i) for v in m.group(1).split("-")]
    lo, hi = _RANGES[i]
    if any(v is None for v in ends):
        names = {3: "jan-dec", 4: "sun-sat"}.get(i)
        raise bad(f"is not a number{' or a name (' + names + ')' if names else ''}")
    if any(not lo <= v <= hi for v in ends):
        raise bad(f"is out of range ({lo}-{hi})")
    if len(ends) == 2 and ends[0] > ends[1]:
        raise bad("is a reversed range")


def _plain(part: str) -> str:
    """A one-value range ("5-5", "mon-mon/2") as its value: croniter 7.0 reads it as "*"."""
    m = _PART.fullmatch(part)
    if m and "-" in m.group(1):
        lo, hi = m.group(1).split("-")
        if lo == hi:
            return lo
    return part


def _value(token: str, i: int) -> int | None:
    if token.isdigit():
        return int(token)
    names = _MONTHS if i == 3 else _DAYS if i == 4 else []
    if token in names:
        return names.index(token) + (1 if i == 3 else 0)
    return None
