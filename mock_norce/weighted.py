"""The one weighted random choice: values with positive weights, drawn with one random number.

Used for everything mock-norce draws by weight: the tenant's markets, sources, payment methods,
e-mail domains and enum values, Faker's name tables, a scenario's ``choose`` branches and the
scenarios of a schedule's mix. One ``rng.random()`` per draw, so a seed replays the same choices.
"""

from __future__ import annotations

import bisect
import itertools
from random import Random
from typing import Any, Sequence


class Weighted:
    """Values with weights, drawn in O(log n) with one random number.

    ``error`` is the exception class for a bad table (no values, a weight that is not a
    positive number); ``where`` names the table in its message.
    """

    __slots__ = ("values", "cumulative", "total")

    def __init__(self, pairs: Sequence[tuple[Any, float]], where: str = "weights",
                 error: type[Exception] = ValueError):
        if not pairs:
            raise error(f"{where}: needs at least one value")
        for value, weight in pairs:
            if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight < float("inf"):
                raise error(f"{where}: weight of {value!r} must be a positive number")
        self.values = tuple(v for v, _ in pairs)
        self.cumulative = tuple(itertools.accumulate(w for _, w in pairs))
        self.total = self.cumulative[-1]

    @classmethod
    def uniform(cls, values: Sequence[Any], where: str = "values", error: type[Exception] = ValueError) -> "Weighted":
        return cls([(v, 1) for v in values], where, error)

    def pick(self, rng: Random):
        """A value, each with probability weight / total (the last one if rounding reaches the total)."""
        i = bisect.bisect_right(self.cumulative, rng.random() * self.total)
        return self.values[i if i < len(self.values) else -1]
