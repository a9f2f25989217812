"""Schedule specs: the API/config shape of a schedule, checked and normalised.

What to send (one of event, scenario, mix), when (one of interval, cron, rate) and for how
long, with a reason for everything refused. Every number has a documented range (limits.py)
and is checked here, before anything is created: a "valid" but absurd number (a jitter of a
million days, a billion events per second) would otherwise kill a background thread later.
An event schedule's market and overrides are tried on one sample payload, so a mistake is
refused now instead of failing at every firing. Cron lines are checked by the scheduler's
own parser, passed in, so APScheduler stays out of the pure core.
"""

from __future__ import annotations

import random
from typing import Any, Callable

from mock_norce.delivery import chaos as chaos_spec
from mock_norce.durations import parse_duration
from mock_norce.errors import BadDuration, ChaosError, MockNorceError, OutOfRange, ScheduleError
from mock_norce.limits import COUNT_MAX, DURATION_MAX, JITTER_MAX, RATE_MAX, SEED_MAX, SEED_MIN, TIME_SCALE_MAX, check_number
from mock_norce.delivery.subscriptions import check_url

# The shortest interval: one event every 10 ms is already a rate (use `rate` beyond that).
INTERVAL_MIN = 0.01
# The heaviest weight of one scenario in a mix (weights are relative; this keeps sums finite).
WEIGHT_MAX = 1e6


def parse_spec(data: Any, factory, library, check_cron: Callable[[str], Any]) -> dict:
    """A checked, normalised schedule spec from the API/config shape; ScheduleError otherwise.

    ``check_cron`` raises ScheduleError for a cron line it cannot use (the scheduler's parser).
    """
    if not isinstance(data, dict):
        raise ScheduleError("a schedule must be a JSON object")
    allowed = {"name", "event", "scenario", "mix", "interval", "cron", "rate", "rate_per", "jitter", "duration",
               "count", "url", "seed", "market", "overrides", "time_scale", "chaos"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScheduleError(f"unknown schedule field(s): {', '.join(unknown)}")
    sources = [k for k in ("event", "scenario", "mix") if data.get(k) is not None]
    triggers = [k for k in ("interval", "cron", "rate") if data.get(k) is not None]
    if len(sources) != 1:
        raise ScheduleError("give exactly one of event, scenario or mix (what to send)", field="what")
    if len(triggers) != 1:
        raise ScheduleError("give exactly one of interval, cron or rate (when to send)", field="when")
    spec = {"name": data.get("name"), "source": sources[0], "trigger": triggers[0]}
    if spec["name"] is not None and (not isinstance(spec["name"], str) or not spec["name"].strip()):
        raise ScheduleError("name must be a non-empty string", field="name")
    _what(spec, data, factory.catalog, library)
    _when(spec, data, check_cron)
    if data.get("duration") is not None:
        spec["duration"] = _duration(data["duration"], "duration", positive=True)
    if data.get("count") is not None:
        spec["count"] = _number(data["count"], "count", 1, COUNT_MAX, integer=True)
    if data.get("url") is not None:
        spec["url"] = check_url(data["url"])
    if data.get("seed") is not None:
        spec["seed"] = _number(data["seed"], "seed", SEED_MIN, SEED_MAX, integer=True)
    _extras(spec, data, factory)
    try:
        chaos = chaos_spec.parse(data.get("chaos"))
    except ChaosError as exc:
        raise ScheduleError(exc.message, field=exc.field) from None
    if chaos is not None:
        spec["chaos"] = chaos.to_dict()  # seed None: the schedule's own (each run's, for a scenario)
    return spec


def _what(spec: dict, data: dict, catalog, library) -> None:
    if spec["source"] == "event":
        if not isinstance(data["event"], str) or data["event"] not in catalog:
            raise ScheduleError(f"unknown event type {data['event']!r}", field="event")
        spec["event"] = data["event"]
    elif spec["source"] == "scenario":
        if not isinstance(data["scenario"], str) or data["scenario"] not in library.scenarios:
            raise ScheduleError(f"unknown scenario {data['scenario']!r}", field="scenario")
        spec["scenario"] = data["scenario"]
    else:
        mix = data["mix"]
        if not isinstance(mix, dict) or not mix:
            raise ScheduleError("mix must map scenario names to positive weights", field="mix")
        for name, weight in mix.items():
            if name not in library.scenarios:
                raise ScheduleError(f"unknown scenario {name!r} in the mix", field="mix")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= WEIGHT_MAX:
                raise ScheduleError(f"weight of {name!r} in the mix must be a positive number "
                                    f"at most {WEIGHT_MAX:g}, got {weight!r}", field="mix")
        spec["mix"] = dict(mix)


def _when(spec: dict, data: dict, check_cron: Callable[[str], Any]) -> None:
    if spec["source"] == "mix" and spec["trigger"] != "rate":
        raise ScheduleError("a mix is played at a rate: give rate (events per second or minute)",
                            field="when")
    if spec["trigger"] == "interval":
        spec["interval"] = _duration(data["interval"], "interval", positive=True)
        if spec["interval"] < INTERVAL_MIN:
            raise ScheduleError(f"interval must be between {INTERVAL_MIN:g} s and {DURATION_MAX:g} s "
                                f"(for more events per second, give a rate), got {data['interval']!r}",
                                field="interval")
    elif spec["trigger"] == "cron":
        try:
            check_cron(data["cron"])
        except ScheduleError as exc:
            raise ScheduleError(exc.message, field="cron") from None
        spec["cron"] = data["cron"]
    else:
        per = data.get("rate_per", "second")
        if per not in ("second", "minute"):
            raise ScheduleError("rate_per must be 'second' or 'minute'", field="rate_per")
        top = RATE_MAX * (60 if per == "minute" else 1)
        rate = data["rate"]
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= top:
            raise ScheduleError(f"rate must be a positive number of events per {per}, above 0 and at most "
                                f"{top:g}, got {rate!r}", field="rate")
        spec.update(rate=float(rate), rate_per=per, jitter=_duration(data.get("jitter", 0), "jitter", maximum=JITTER_MAX))
    if spec["trigger"] != "rate" and data.get("jitter") is not None:
        raise ScheduleError("jitter applies to a rate (events are sent on time by interval and cron)",
                            field="jitter")


def _extras(spec: dict, data: dict, factory) -> None:
    """market, overrides, time_scale: where they apply, tried on one sample payload."""
    runs_scenario = spec["source"] == "scenario" and spec["trigger"] != "rate"
    for key in ("market", "overrides"):
        if data.get(key) is not None and spec["source"] != "event":
            raise ScheduleError(f"{key} applies to an event schedule (a scenario sets its own)")
    if data.get("market") is not None:
        if not isinstance(data["market"], str):
            raise ScheduleError("market must be a string (a market code of the tenant)")
        spec["market"] = data["market"]
    if data.get("overrides") is not None:
        if not isinstance(data["overrides"], dict):
            raise ScheduleError("overrides must be an object")
        spec["overrides"] = data["overrides"]
    if "market" in spec or "overrides" in spec:
        try:
            factory.generate(spec["event"], rng=random.Random(0), market=spec.get("market"),
                             overrides=spec.get("overrides"))
        except MockNorceError as exc:
            raise ScheduleError(exc.message) from None
    if data.get("time_scale") is not None:
        if not runs_scenario:
            raise ScheduleError("time_scale applies to a scenario started by interval or cron "
                                "(a rate plays scenarios without their waits)")
        spec["time_scale"] = _number(data["time_scale"], "time_scale", 0, TIME_SCALE_MAX)


def _number(value, what: str, lo: float, hi: float, integer: bool = False):
    try:
        return check_number(value, what, lo, hi, integer=integer)
    except OutOfRange as exc:
        raise ScheduleError(exc.message, field=what) from None


def _duration(value, what: str, positive: bool = False, maximum: float = DURATION_MAX) -> float:
    try:
        seconds = parse_duration(value, maximum)
    except BadDuration as exc:
        raise ScheduleError(f"{what}: {exc.message}", field=what) from None
    if positive and seconds <= 0:
        raise ScheduleError(f"{what} must be longer than 0", field=what)
    return seconds
