"""A fake clock, Norce's offsets, and making every attempt of an outbox on that clock as it
falls due (moving the clock), in the test's thread: the delivery tests' shared pieces."""

from __future__ import annotations

# Seconds after the first attempt at which Norce's current policy makes the other 16.
NORCE_OFFSETS = [0, 5, 15, 30, 60, 120, 240, 540, 1140, 2040, 3840, 7440, 14640, 25440, 39840, 57840, 79440]


class FakeClock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def run_out(ob) -> int:
    """Make every attempt as it falls due, moving the outbox's fake clock; how many were made."""
    made = 0
    while (due := ob.dispatcher.next_due()) is not None:
        ob.clock.t = max(ob.clock.t, due)
        made += ob.dispatcher.run_due()
        assert made < 100, "a delivery that never ends"
    return made
