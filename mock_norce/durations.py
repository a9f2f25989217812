"""Durations as people write them: ``500ms``, ``2s``, ``5m``, ``1h30m``, ``1d``, or seconds."""

from __future__ import annotations

import re

from .errors import MockNorceError

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


class BadDuration(MockNorceError):
    code = "bad_duration"


def parse_duration(text: object) -> float:
    """Seconds in a duration string (or a plain non-negative number of seconds)."""
    if isinstance(text, bool):
        raise BadDuration(f"{text!r} is not a duration")
    if isinstance(text, (int, float)):
        if text < 0 or text != text or text == float("inf"):
            raise BadDuration(f"{text!r} is not a duration: must be a finite number of seconds >= 0")
        return float(text)
    if not isinstance(text, str):
        raise BadDuration(f"{text!r} is not a duration")
    s = text.strip().lower().replace(" ", "")
    try:
        value = float(s)
    except ValueError:
        pass
    else:
        return parse_duration(value)
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise BadDuration(f"{text!r} is not a duration (examples: 500ms, 2s, 5m, 1h30m, 1d)")
    return total
