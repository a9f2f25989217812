"""Durations as people write them: ``500ms``, ``2s``, ``5m``, ``1h30m``, ``1d``, or seconds.

Every duration has a ceiling (``limits.DURATION_MAX``, a leap year, unless the caller gives
another): a number of seconds that big is a typo, and one beyond ~9.2e9 overflows the timers
of the threads that would wait for it. Huge digit strings ("1e400", 400 nines) turn into
``inf`` in float arithmetic, so each part is checked to be finite before it is added.
"""

from __future__ import annotations

import math
import re

from mock_norce.errors import BadDuration
from mock_norce.limits import DURATION_MAX

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_EXAMPLES = "examples: 500ms, 2s, 5m, 1h30m, 1d"


def parse_duration(text: object, maximum: float | None = DURATION_MAX) -> float:
    """Seconds in a duration string (or a plain non-negative number of seconds), at most `maximum`.

    ``maximum=None`` lifts the ceiling (the value must still be finite).
    """
    if isinstance(text, bool):
        raise BadDuration(f"{_shown(text)} is not a duration")
    if isinstance(text, (int, float)):
        try:
            value = float(text)
        except OverflowError:  # an int beyond any float
            value = math.inf if text > 0 else -math.inf
        return _bounded(value, text, maximum)
    if not isinstance(text, str):
        raise BadDuration(f"{_shown(text)} is not a duration")
    s = text.strip().lower().replace(" ", "")
    try:
        value = float(s)
    except ValueError:
        pass
    else:
        return _bounded(value, text, maximum)
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]  # inf when the digits are absurd
        pos = m.end()
    if pos != len(s) or not s:
        shown = _shown(text)
        raise BadDuration(f"{shown} is not a duration ({_EXAMPLES})")
    return _bounded(total, text, maximum)


def _bounded(seconds: float, given: object, maximum: float | None) -> float:
    shown = _shown(given)
    if seconds != seconds or seconds < 0:
        raise BadDuration(f"{shown} is not a duration: must be a finite number of seconds >= 0")
    if math.isinf(seconds) or (maximum is not None and seconds > maximum):
        if maximum is None:
            limit = "a finite number of seconds"
        else:
            limit = f"{maximum:g} s" + (f" ({maximum / 86400:g} days)" if maximum >= 86400 else "")
        raise BadDuration(f"{shown} is too long: a duration is at most {limit}")
    return seconds


def _shown(given: object) -> str:
    """The value as the user wrote it, cut short (an int of 5,000 digits cannot even be printed)."""
    if isinstance(given, int) and given.bit_length() > 128:
        return "a number of more than 38 digits"
    text = repr(given)
    return text if len(text) <= 40 else text[:37] + "..."
