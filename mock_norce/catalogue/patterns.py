"""Codes from patterns: '#' a digit, '%' a digit 1-9, '?' an upper-case letter.

The tenant's id and reference shapes (order numbers, part numbers, payment references) are
written as such patterns; the tenant fills its suppliers' part numbers with them at load.
"""

from __future__ import annotations

import string
from random import Random

_DIGITS = string.digits
_NONZERO = "123456789"
_LETTERS = string.ascii_uppercase


def fill(pattern: str, rng: Random) -> str:
    """Fill a pattern: '#' a digit, '%' a digit 1-9, '?' an upper-case letter."""
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(_DIGITS[int(rng.random() * 10)])
        elif ch == "%":
            out.append(_NONZERO[int(rng.random() * 9)])
        elif ch == "?":
            out.append(_LETTERS[int(rng.random() * 26)])
        else:
            out.append(ch)
    return "".join(out)
