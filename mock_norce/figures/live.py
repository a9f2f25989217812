"""Live figures: what was generated and how deliveries went, in fixed memory.

Counters, a latency and a lateness histogram (log-spaced buckets, so p50/p95/p99 come out
within a few percent whatever the run length), a status breakdown, and a time series whose
buckets double in width when it is full, so a ten-hour soak keeps the whole curve in the
same 3,600 points as a ten-minute one. Each point keeps its own sparse latency histogram (the
few buckets its attempts fell in), so the chart shows p50 and p99 over time, not only the
average, and the backlog (generated, not yet delivered or dead) as a running balance. Fed by the outbox (events written) and the
dispatcher (attempts recorded); no threads, no I/O.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from datetime import datetime, timezone
from typing import Callable

# Upper bounds of the histogram buckets, in seconds: 0.1 ms to ~100 s, ~12% apart.
BOUNDS = tuple(0.0001 * 1.12 ** i for i in range(123))
# The coarse buckets exported to Prometheus (its usual latency buckets).
PROM_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SERIES_POINTS = 3600


class Histogram:
    __slots__ = ("counts", "prom", "total", "sum", "max")

    def __init__(self):
        self.counts = [0] * (len(BOUNDS) + 1)
        self.prom = [0] * (len(PROM_BOUNDS) + 1)
        self.total = 0
        self.sum = 0.0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BOUNDS, seconds)] += 1
        self.prom[bisect.bisect_left(PROM_BOUNDS, seconds)] += 1
        self.total += 1
        self.sum += seconds
        if seconds > self.max:
            self.max = seconds

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0..1), as the upper bound of its bucket; None when empty."""
        if not self.total:
            return None
        rank = q * self.total
        seen = 0
        for i, n in enumerate(self.counts):
            seen += n
            if seen >= rank and n:
                return min(BOUNDS[i] if i < len(BOUNDS) else self.max, self.max)
        return self.max


class Series:
    """Per-interval totals over time, in at most SERIES_POINTS buckets."""

    FIELDS = ("generated", "delivered", "failed", "dead", "latency_sum", "latency_n", "latency_max", "late_max")
    DELIVERED, FAILED = FIELDS.index("delivered"), FIELDS.index("failed")

    def __init__(self, start: float, width: float = 1.0):
        self.start = start
        self.width = width
        self.rows: list[list[float]] = []
        # Per row, the latency histogram's buckets its attempts fell in -> count: a handful of
        # keys each (one interval's latencies cluster), so 3,600 rows stay small.
        self.buckets: list[dict[int, int]] = []

    def _row_index(self, t: float) -> int:
        index = int((t - self.start) // self.width)
        if index < 0:
            index = 0
        while index >= SERIES_POINTS:
            self._halve()
            index = int((t - self.start) // self.width)
        while len(self.rows) <= index:
            self.rows.append([0.0] * len(self.FIELDS))
            self.buckets.append({})
        return index

    def _row(self, t: float) -> list[float]:
        return self.rows[self._row_index(t)]

    def _halve(self) -> None:
        merged = []
        for i in range(0, len(self.rows), 2):
            pair = self.rows[i:i + 2]
            row = [sum(r[k] for r in pair) for k in range(len(self.FIELDS))]
            row[6] = max(r[6] for r in pair)
            row[7] = max(r[7] for r in pair)
            merged.append(row)
        buckets = []
        for i in range(0, len(self.buckets), 2):
            both = dict(self.buckets[i])
            for k, n in (self.buckets[i + 1] if i + 1 < len(self.buckets) else {}).items():
                both[k] = both.get(k, 0) + n
            buckets.append(both)
        self.rows = merged
        self.buckets = buckets
        self.width *= 2

    def add(self, t: float, field: str, value: float = 1.0) -> None:
        row = self._row(t)
        k = self.FIELDS.index(field)
        if field.endswith("_max"):
            row[k] = max(row[k], value)
        else:
            row[k] += value

    def add_attempt(self, t: float, latency: float, late: float, outcome: int) -> None:
        """One attempt at `t`: its latency, lateness and outcome (DELIVERED or FAILED), in one
        row lookup (this runs for every attempt)."""
        index = self._row_index(t)
        row, hist = self.rows[index], self.buckets[index]
        k = bisect.bisect_left(BOUNDS, latency)
        hist[k] = hist.get(k, 0) + 1
        row[outcome] += 1
        row[4] += latency
        row[5] += 1
        if latency > row[6]:
            row[6] = latency
        if late > row[7]:
            row[7] = late

    def points(self) -> list[dict]:
        out = []
        backlog = 0.0
        for i, r in enumerate(self.rows):
            # Generated and not yet delivered or dead, at the end of this point; never below 0
            # (a retry of an event generated before a restart finishes one never counted).
            backlog = max(0.0, backlog + r[0] - r[1] - r[3])
            hist = self.buckets[i]
            out.append({
                "t": self.start + i * self.width, "width": self.width,
                "generated_per_s": r[0] / self.width, "delivered_per_s": r[1] / self.width,
                "failed_per_s": r[2] / self.width, "dead": int(r[3]),
                "latency_avg_ms": (r[4] / r[5] * 1000) if r[5] else None,
                "latency_p50_ms": _bucket_quantile(hist, .5, r[6]) if r[5] else None,
                "latency_p99_ms": _bucket_quantile(hist, .99, r[6]) if r[5] else None,
                "latency_max_ms": r[6] * 1000 if r[5] else None, "lateness_max_ms": r[7] * 1000,
                "backlog": int(backlog),
            })
        return out


def _bucket_quantile(hist: dict[int, int], q: float, top: float) -> float:
    """The q-quantile in ms of a sparse histogram (bucket index -> count), as its bucket's upper
    bound, never above the largest value seen (`top`, seconds): as Histogram.quantile."""
    rank = q * sum(hist.values())
    seen = 0
    for k in sorted(hist):
        seen += hist[k]
        if seen >= rank:
            return min(BOUNDS[k] if k < len(BOUNDS) else top, top) * 1000
    return top * 1000


class Figures:
    """Everything counted about one stream of events (a schedule, or all of them)."""

    def __init__(self, start: float, clock: Callable[[], float]):
        self.clock = clock
        self.start = start
        self.end: float | None = None
        self.generated = 0
        self.by_type: Counter = Counter()
        self.attempts = 0
        self.delivered = 0
        self.failed = 0  # failed attempts
        self.dead = 0
        # Deliveries between a failed attempt and the next, as seen by this process: a counter
        # (a set of ids would grow with the backlog), never below 0: after a restart, retries
        # of deliveries that first failed before it end series this counter never began.
        self._retrying = 0
        self.skipped_firings = 0  # firings a schedule skipped because the backlog was over its bound
        self.failed_firings = 0  # firings whose events could not be written (nothing of them counted)
        self.throttled = False  # generation paused by the backlog bound
        self.outcomes: Counter = Counter()  # "200", "503", "timeout", ...
        self.latency = Histogram()
        self.lateness = Histogram()
        self.series = Series(start)
        self.last_delivered: float | None = None  # when the latest 2xx attempt started
        self._lock = threading.Lock()

    def on_written(self, event_types: list[str], now: float) -> None:
        with self._lock:
            self.generated += len(event_types)
            self.by_type.update(event_types)
            self.series.add(now, "generated", len(event_types))

    def on_attempt(self, record) -> None:
        o = record.outcome
        if o.error_class == "interrupted":
            return
        with self._lock:
            self.attempts += 1
            # A first attempt failed on purpose by chaos counts as "chaos", not as its (2xx) answer.
            self.outcomes[str(o.status) if o.status is not None and o.error_class != "chaos" else o.error_class] += 1
            latency, late = o.latency_ms / 1000, max(0.0, record.lateness)
            self.latency.add(latency)
            self.lateness.add(late)
            t = record.started
            if record.status == "delivered":
                self.series.add_attempt(t, latency, late, Series.DELIVERED)
                self.delivered += 1
                self.last_delivered = max(self.last_delivered or t, t)
                if record.number > 1:
                    self._retrying = max(0, self._retrying - 1)
            else:
                self.failed += 1
                self.series.add_attempt(t, latency, late, Series.FAILED)
                if record.status == "dead":
                    self.dead += 1
                    self.series.add(t, "dead")
                    if record.number > 1:
                        self._retrying = max(0, self._retrying - 1)
                elif record.number == 1:
                    self._retrying += 1

    @property
    def in_retry(self) -> int:
        return self._retrying

    def summary(self) -> dict:
        with self._lock:
            now = self.end or self.clock()
            elapsed = max(1e-9, now - self.start)

            def ms(h: Histogram, q: float):
                v = h.quantile(q)
                return None if v is None else round(v * 1000, 3)
            return {
                "start": self.start, "end": self.end, "elapsed_s": round(elapsed, 3),
                "generated": self.generated, "attempts": self.attempts, "delivered": self.delivered,
                "failed_attempts": self.failed, "dead": self.dead, "in_retry": self._retrying,
                "backlog": max(0, self.generated - self.delivered - self.dead),
                "throttled": self.throttled, "skipped_firings": self.skipped_firings,
                "failed_firings": self.failed_firings,
                "achieved_rate": round(self.generated / elapsed, 3),
                "delivered_rate": round(self.delivered / elapsed, 3),
                "last_delivered": self.last_delivered,
                "latency_ms": {"p50": ms(self.latency, .5), "p95": ms(self.latency, .95), "p99": ms(self.latency, .99),
                               "max": round(self.latency.max * 1000, 3)},
                "lateness_ms": {"p50": ms(self.lateness, .5), "p99": ms(self.lateness, .99),
                                "max": round(self.lateness.max * 1000, 3)},
                "outcomes": dict(self.outcomes.most_common()),
                "by_type": dict(self.by_type.most_common()),
            }

    def points(self) -> list[dict]:
        with self._lock:
            return self.series.points()

    def csv(self) -> str:
        """The time series as CSV, one row per bucket: the time as ISO 8601 UTC with
        milliseconds (a spreadsheet's time axis), numbers in plain decimals (never 1.8e+09)."""
        cols = ["t", "width", "generated_per_s", "delivered_per_s", "failed_per_s", "dead", "backlog",
                "latency_avg_ms", "latency_p50_ms", "latency_p99_ms", "latency_max_ms", "lateness_max_ms"]
        lines = [",".join(cols)]
        for p in self.points():
            lines.append(",".join(_csv_cell(c, p[c]) for c in cols))
        return "\n".join(lines) + "\n"


def _csv_cell(column: str, value) -> str:
    if value is None:
        return ""
    if column == "t":
        return datetime.fromtimestamp(value, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") or "0"
    return str(value)


class FigureBook:
    """Figures for everything (``total``) and per tag (a schedule), fed by the outbox and
    the dispatcher. ``tag_of`` says which tag, if any, a run id belongs to."""

    def __init__(self, clock: Callable[[], float], tag_of: Callable[[str | None], str | None]):
        self.clock = clock
        self.tag_of = tag_of
        self.total = Figures(clock(), clock)
        self._tags: dict[str, Figures] = {}

    def track(self, tag: str, start: float | None = None) -> None:
        self._tags[tag] = Figures(self.clock() if start is None else start, self.clock)

    def forget(self, tag: str) -> None:
        self._tags.pop(tag, None)

    def __getitem__(self, tag: str) -> Figures:
        return self._tags[tag]

    def on_written(self, rows: list, run_id: str | None) -> None:
        now = self.clock()
        # Events, not deliveries: a duplicate chaos added (its note names its original) is no new event.
        types = [r[0] for r in rows if not (len(r) > 8 and r[8] and "duplicate_of_row" in r[8])]
        self.total.on_written(types, now)
        figures = self._tags.get(self.tag_of(run_id))
        if figures is not None:
            figures.on_written(types, now)

    def on_attempt(self, record) -> None:
        self.total.on_attempt(record)
        figures = self._tags.get(self.tag_of(record.run_id))
        if figures is not None:
            figures.on_attempt(record)

    def firing_skipped(self, tag: str) -> None:
        """A firing of `tag` was skipped: the backlog is over its bound."""
        for figures in (self.total, self._tags.get(tag)):
            if figures is not None:
                with figures._lock:
                    figures.skipped_firings += 1

    def firing_failed(self, tag: str) -> None:
        """A firing of `tag` could not write its events (none of them is counted)."""
        for figures in (self.total, self._tags.get(tag)):
            if figures is not None:
                with figures._lock:
                    figures.failed_firings += 1

    def set_throttled(self, tag: str, throttled: bool) -> None:
        """Whether `tag` pauses its generation; the total says whether any does."""
        figures = self._tags.get(tag)
        if figures is not None:
            figures.throttled = throttled
        self.total.throttled = any(f.throttled for f in list(self._tags.values()))
