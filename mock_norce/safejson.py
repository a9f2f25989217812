"""The one parser for JSON that comes from outside: API bodies, UI form fields, subscriber answers.

``json.loads`` as is lets through what later breaks an answer or a thread: NaN and Infinity
(echoed back as invalid JSON), 1e999 (a float infinity), integer literals of thousands of
digits (``int()`` refuses more than 4,300 with a ValueError, and smaller ones are slow),
nesting 10,000 deep (RecursionError), and a lone ``\\ud800`` escape (a str that cannot be
encoded as UTF-8 when it is stored or sent). Each is refused here with a message fit for a
400, or a 422 naming the range for an integer too long to be any number mock-norce takes.
"""

from __future__ import annotations

import json
import math
from typing import Any

from mock_norce.errors import MalformedJson, OutOfRange
from mock_norce.limits import JSON_DEPTH_MAX, JSON_INT_DIGITS_MAX


def _no_constant(name: str):
    raise MalformedJson(f"the body is not valid JSON: {name} is not a JSON number")


def _int(text: str) -> int:
    # Checked before int() runs, so a 1 MB literal costs a len(), not a quadratic conversion.
    if len(text.lstrip("-")) > JSON_INT_DIGITS_MAX:
        raise OutOfRange(f"an integer in the body has more than {JSON_INT_DIGITS_MAX} digits; "
                         "numbers mock-norce takes are 64-bit integers at most")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedJson(f"the body is not valid JSON for mock-norce: {text[:40]} overflows a double")
    return value


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check(value: Any) -> None:
    """Depth and lone surrogates, walked without recursion (the value may be deep)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > JSON_DEPTH_MAX:
                raise MalformedJson(f"the JSON is nested deeper than {JSON_DEPTH_MAX} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    if _has_surrogate(key):
                        raise MalformedJson("the JSON has a lone surrogate escape (like \\ud800) in a key")
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and _has_surrogate(item):
            raise MalformedJson("the JSON has a lone surrogate escape (like \\ud800) in a string")


def loads(raw: bytes | str) -> Any:
    """The parsed value, or MalformedJson (400) / OutOfRange (422) saying what is wrong."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
        value = json.loads(text, parse_constant=_no_constant, parse_int=_int, parse_float=_float)
    except UnicodeDecodeError as exc:
        raise MalformedJson(f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedJson(f"the JSON is nested deeper than {JSON_DEPTH_MAX} levels") from None
    _check(value)
    return value
