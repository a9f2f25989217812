"""Schedule specs: the API/config shape of a schedule, checked and normalised.

What to send (one of event, scenario, mix), when (one of interval, cron, rate) and for how
long, with a reason for everything refused. Cron lines are checked by the scheduler's own
parser, passed in, so APScheduler stays in scheduler.py.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from .durations import BadDuration, parse_duration
from .errors import MockNorceError
from .subscriptions import check_url


class ScheduleError(MockNorceError):
    code = "bad_schedule"


def parse_spec(data: Any, catalog, library, check_cron: Callable[[str], Any]) -> dict:
    """A checked, normalised schedule spec from the API/config shape; ScheduleError otherwise.

    ``check_cron`` raises ScheduleError for a cron line it cannot use (the scheduler's parser).
    """
    if not isinstance(data, dict):
        raise ScheduleError("a schedule must be a JSON object")
    allowed = {"name", "event", "scenario", "mix", "interval", "cron", "rate", "rate_per", "jitter", "duration",
               "count", "url", "seed", "market", "overrides", "time_scale"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScheduleError(f"unknown schedule field(s): {', '.join(unknown)}")
    sources = [k for k in ("event", "scenario", "mix") if data.get(k) is not None]
    triggers = [k for k in ("interval", "cron", "rate") if data.get(k) is not None]
    if len(sources) != 1:
        raise ScheduleError("give exactly one of event, scenario or mix (what to send)")
    if len(triggers) != 1:
        raise ScheduleError("give exactly one of interval, cron or rate (when to send)")
    spec = {"name": data.get("name"), "source": sources[0], "trigger": triggers[0]}
    if spec["name"] is not None and (not isinstance(spec["name"], str) or not spec["name"].strip()):
        raise ScheduleError("name must be a non-empty string")
    if "event" in sources:
        if data["event"] not in catalog:
            raise ScheduleError(f"unknown event type {data['event']!r}")
        spec["event"] = data["event"]
    elif "scenario" in sources:
        if data["scenario"] not in library.scenarios:
            raise ScheduleError(f"unknown scenario {data['scenario']!r}")
        spec["scenario"] = data["scenario"]
    else:
        mix = data["mix"]
        if not isinstance(mix, dict) or not mix:
            raise ScheduleError("mix must map scenario names to positive weights")
        for name, weight in mix.items():
            if name not in library.scenarios:
                raise ScheduleError(f"unknown scenario {name!r} in the mix")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
                raise ScheduleError(f"weight of {name!r} in the mix must be a positive number")
        spec["mix"] = dict(mix)
        if spec["trigger"] != "rate":
            raise ScheduleError("a mix is played at a rate: give rate (events per second or minute)")
    if spec["trigger"] == "interval":
        spec["interval"] = _duration(data["interval"], "interval", positive=True)
    elif spec["trigger"] == "cron":
        check_cron(data["cron"])
        spec["cron"] = data["cron"]
    else:
        rate = data["rate"]
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0 or math.isinf(rate):
            raise ScheduleError(f"rate must be a positive number of events, got {rate!r}")
        per = data.get("rate_per", "second")
        if per not in ("second", "minute"):
            raise ScheduleError("rate_per must be 'second' or 'minute'")
        spec.update(rate=float(rate), rate_per=per, jitter=_duration(data.get("jitter", 0), "jitter"))
    if data.get("duration") is not None:
        spec["duration"] = _duration(data["duration"], "duration", positive=True)
    if data.get("count") is not None:
        if isinstance(data["count"], bool) or not isinstance(data["count"], int) or data["count"] < 1:
            raise ScheduleError("count must be a whole number >= 1")
        spec["count"] = data["count"]
    if data.get("url") is not None:
        spec["url"] = check_url(data["url"])
    if data.get("seed") is not None:
        if isinstance(data["seed"], bool) or not isinstance(data["seed"], int):
            raise ScheduleError("seed must be an integer")
        spec["seed"] = data["seed"]
    for key in ("market", "overrides", "time_scale"):
        if data.get(key) is not None:
            spec[key] = data[key]
    if "overrides" in spec and not isinstance(spec["overrides"], dict):
        raise ScheduleError("overrides must be an object")
    if "time_scale" in spec and (not isinstance(spec["time_scale"], (int, float)) or spec["time_scale"] < 0):
        raise ScheduleError("time_scale must be a number >= 0")
    return spec


def _duration(value, what: str, positive: bool = False) -> float:
    try:
        seconds = parse_duration(value)
    except BadDuration as exc:
        raise ScheduleError(f"{what}: {exc.message}") from None
    if positive and seconds <= 0:
        raise ScheduleError(f"{what} must be longer than 0")
    return seconds
