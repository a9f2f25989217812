"""Seeded sender-side chaos: what Norce may do to an endpoint on a bad day, on purpose.

A chaos spec says how often an event is delivered twice (``duplicate``), how far its first
attempt may be moved later so that events emitted close together arrive out of order
(``reorder_window``), how much delay may be added to a first attempt (``delay``), and how
often a first attempt is counted as failed whatever the subscriber answered, as if Norce had
lost the answer (``fail_first``: the policy's retry path then runs).

Every decision is drawn from the spec's seed and the event's position in its stream (the
n-th event of a run, of a schedule, or of one event type's subscription), never from
delivery ids or the wall clock: the same seed and the same events give the same chaos.
What chaos did to a delivery is recorded on it (``note``), and ``describe`` puts that in
words, so a user can tell chaos from their own endpoint's failures. Pure: no I/O.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping

from mock_norce.durations import parse_duration
from mock_norce.errors import BadDuration, ChaosError
from mock_norce.limits import CHAOS_DELAY_MAX, SEED_MAX, SEED_MIN

KNOBS = ("seed", "duplicate", "reorder_window", "delay", "fail_first")
PROBABILITIES = ("duplicate", "fail_first")
WINDOWS = ("reorder_window", "delay")
ERROR_CLASS = "chaos"  # the error class of a first attempt failed on purpose


@dataclass(frozen=True)
class Chaos:
    """A checked chaos spec; ``seed`` None takes the run's or schedule's own seed (0 for a subscription)."""

    seed: int | None = None
    duplicate: float = 0.0
    reorder_window: float = 0.0
    delay: float = 0.0
    fail_first: float = 0.0

    @property
    def active(self) -> bool:
        return bool(self.duplicate or self.reorder_window or self.delay or self.fail_first)

    def seeded(self, seed: int) -> "Chaos":
        """This spec with `seed` where it names none."""
        return self if self.seed is not None else replace(self, seed=seed)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """What chaos does to one event."""

    duplicate: bool = False
    reorder: float = 0.0  # seconds the first attempt moves later (before the time scale)
    delay: float = 0.0  # seconds added to the first attempt (before the time scale)
    fail_first: bool = False

    @property
    def shift(self) -> float:
        return self.reorder + self.delay


def parse(data: Any, where: str = "chaos") -> Chaos | None:
    """A Chaos from its JSON/config shape (None or {} is no chaos); ChaosError naming the field."""
    if data is None:
        return None
    if isinstance(data, Chaos):
        return data
    if not isinstance(data, Mapping):
        raise ChaosError(f"{where} must be an object with {', '.join(KNOBS)}", field=where)
    unknown = sorted(str(k) for k in data if k not in KNOBS)
    if unknown:
        raise ChaosError(f"unknown {where} setting(s): {', '.join(unknown)} (known: {', '.join(KNOBS)})",
                         field=f"{where}.{unknown[0]}")
    out: dict[str, Any] = {}
    seed = data.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not SEED_MIN <= seed <= SEED_MAX:
            raise ChaosError(f"{where}.seed must be a whole number between {SEED_MIN} and {SEED_MAX}, "
                             f"got {seed!r:.40}", field=f"{where}.seed")
        out["seed"] = seed
    for name in PROBABILITIES:
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not 0 <= value <= 1:
            raise ChaosError(f"{where}.{name} must be a probability between 0 and 1, got {value!r:.40}",
                             field=f"{where}.{name}")
        out[name] = float(value)
    for name in WINDOWS:
        value = data.get(name)
        if value is None:
            continue
        try:
            out[name] = parse_duration(value, CHAOS_DELAY_MAX)
        except BadDuration as exc:
            raise ChaosError(f"{where}.{name}: {exc.message} (at most {CHAOS_DELAY_MAX:g} s)",
                             field=f"{where}.{name}") from None
    spec = Chaos(**out)
    return spec if spec.active else None  # every knob at 0 (or {}): no chaos


def parse_pairs(text: str, where: str = "--chaos") -> dict:
    """``duplicate=0.2,fail_first=1,delay=2s`` (the CLI's and the UI's shape) as a JSON-like
    dict for ``parse``: numbers become numbers, durations stay text."""
    out: dict[str, Any] = {}
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise ChaosError(f"{where}: {part!r} is not KEY=VALUE (e.g. duplicate=0.2,fail_first=1,delay=2s)",
                             field="chaos")
        key = key.strip().replace("-", "_")
        if key in out:
            raise ChaosError(f"{where}: {key} is given twice", field=f"chaos.{key}")
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out


def as_pairs(spec: Mapping[str, Any] | None) -> str:
    """A spec as ``--chaos`` and the forms take it (``parse_pairs`` reads it back): the knobs
    that are on, then the seed. Numbers as short as they read (1, 0.2) yet exact: a form's
    text is compared with the stored spec on every save, and a rounded value would count as a
    change (and start the chaos stream again)."""
    if not spec:
        return ""
    def text(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return str(value)
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    on = [f"{k}={text(spec[k])}" for k in KNOBS if k != "seed" and spec.get(k)]
    seed = [f"seed={spec['seed']}"] if spec.get("seed") is not None else []
    return ",".join(on + seed)


def decide(chaos: Chaos, stream: str, position: int) -> Decision:
    """The chaos of the event at `position` of `stream` (a run, a schedule, an event type).

    Every knob draws its own number in the same order whatever the others are set to, so
    turning one knob up does not change what the others do to the same events.
    """
    rng = random.Random(f"mock-norce chaos/{chaos.seed or 0}/{stream}/{position}")
    u_duplicate, u_reorder, u_delay, u_fail = rng.random(), rng.random(), rng.random(), rng.random()
    return Decision(duplicate=u_duplicate < chaos.duplicate,
                    reorder=round(u_reorder * chaos.reorder_window, 3),
                    delay=round(u_delay * chaos.delay, 3),
                    fail_first=u_fail < chaos.fail_first)


def note(decision: Decision, scale: float) -> dict | None:
    """What to record on the delivery (the shifts in real seconds, as scaled), or None when
    chaos did nothing to it. A duplicate's own note is ``duplicate_note``."""
    out: dict[str, Any] = {}
    if decision.reorder and scale:
        out["reordered"] = round(decision.reorder * scale, 3)
    if decision.delay and scale:
        out["delayed"] = round(decision.delay * scale, 3)
    if decision.fail_first:
        out["fail_first"] = True
    return out or None


def rows(row: tuple, due: float, spec: Chaos | None, stream: str, position: int, scale: float,
         index: int) -> list[tuple]:
    """The delivery row(s) of one event, ``row + (due, note)``: its first attempt moved by the
    chaos (scaled), and a second row of the same body when chaos duplicates it. ``index`` is
    the event's row in its batch: the notes name each other by it (the store makes it an id)."""
    if spec is None:
        return [row + (due, None)]
    decision = decide(spec, stream, position)
    due += decision.shift * scale
    origin = {"seed": spec.seed or 0, "position": position}
    recorded = note(decision, scale)
    if not decision.duplicate:
        return [row + (due, recorded and dict(recorded, **origin))]
    # The same body again, as a delivery of its own, due with it (its lane sends it right after).
    return [row + (due, dict(recorded or {}, duplicated_as_row=index + 1, **origin)),
            row + (due, dict(origin, duplicate_of_row=index))]


def fails_first(recorded: Mapping | None) -> bool:
    """Whether a delivery's first attempt is to be counted as failed on purpose."""
    return bool(recorded and recorded.get("fail_first"))


def describe(recorded: Mapping | None) -> list[str]:
    """What chaos did to a delivery, in words (the log and the delivery page show these)."""
    if not recorded:
        return []
    out = []
    if recorded.get("duplicate_of") is not None:
        out.append(f"duplicate of #{recorded['duplicate_of']}: the same body delivered a second time")
    if recorded.get("duplicated_as") is not None:
        out.append(f"delivered twice: its duplicate is #{recorded['duplicated_as']}")
    if recorded.get("reordered"):
        out.append(f"reordered: first attempt moved {recorded['reordered']:g} s later")
    if recorded.get("delayed"):
        out.append(f"delayed {recorded['delayed']:g} s")
    if recorded.get("fail_first"):
        out.append("first attempt to count as failed on purpose if the endpoint accepts it (as if Norce lost the "
                   "answer): the retry path runs; a first attempt the endpoint itself failed stays its own")
    return out


def failed_on_purpose(answer: str) -> str:
    """The error of a first attempt that chaos counted as failed, keeping what really came back."""
    return f"chaos: first attempt failed on purpose (fail_first); the subscriber's real answer: {answer}"
