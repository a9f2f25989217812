"""Prometheus exposition of the live figures and the engine's health (``GET /metrics``).

Owns the metrics themselves: their names, types, help texts and labels, and how each is read
from the figures (live.py) and the engine's state. ``prometheus_client`` does the rest: a
custom collector (``FiguresCollector``) yields its metric families at every scrape, on a
registry of its own per app (``metrics_registry``), never the library's process-global one,
so several apps in one process (the tests) each have theirs; ``render`` is the library's
text format. No Flask here: the route (web/api.py) gathers the ``Readings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from mock_norce.figures.live import PROM_BOUNDS, Figures, Histogram

# The parts of the engine that can be down (mock_norce_up), each reported even while it works.
PARTS = ("storage", "writer", "timer", "runs", "scheduler")
# The parts that count incidents, reported at 0 before their first one (so rate() sees it).
INCIDENT_PARTS = ("listeners", "retention", "sender")
CONTENT_TYPE = CONTENT_TYPE_LATEST
# The upper bounds of the exported histogram buckets, as Prometheus writes them ("0.001", "1.0").
_LE = tuple(floatToGoString(b) for b in PROM_BOUNDS)


@dataclass(frozen=True)
class Readings:
    """What one scrape reports besides the figures: read from the log and the engine."""

    total: Figures  # the figures of everything this process did
    deliveries: dict[str, int]  # deliveries in the log, by status
    backlog: int  # deliveries scheduled and not yet in flight
    schedules: dict[str, int]  # schedules, by status
    sink_received: int  # requests the built-in sink received
    down: dict[str, str] = field(default_factory=dict)  # the engine's parts that are down, with why
    incidents: dict[str, int] = field(default_factory=dict)  # unexpected errors turned into outcomes, by part


class FiguresCollector:
    """A ``prometheus_client`` collector: at every scrape, the metric families of ``read()``."""

    def __init__(self, read: Callable[[], Readings]):
        self._read = read

    def collect(self) -> Iterator[Metric]:
        return iter(families(self._read()))

    def describe(self) -> Iterator[Metric]:
        """The families without reading anything (the registry checks their names once)."""
        return iter(families(Readings(Figures(0.0, lambda: 0.0), {}, 0, {}, 0)))


def metrics_registry(read: Callable[[], Readings]) -> CollectorRegistry:
    """A registry of its own holding a collector of ``read()``: one per app."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(FiguresCollector(read))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The metrics page in Prometheus text format (its content type: ``CONTENT_TYPE``)."""
    return generate_latest(registry)


def _histogram(name: str, help_: str, h: Histogram) -> HistogramMetricFamily:
    # Copied under the figures' lock by the caller: the buckets, the count and the sum agree.
    cumulative, buckets = 0, []
    for le, n in zip(_LE, h.prom):
        cumulative += n
        buckets.append((le, cumulative))
    buckets.append(("+Inf", cumulative + h.prom[-1]))  # the last slot: above the highest bound
    return HistogramMetricFamily(name, help_, buckets=buckets, sum_value=h.sum)


def _labelled(family, label_values: dict[str, float]):
    for value, n in sorted(label_values.items()):
        family.add_metric([value], n)
    return family


def families(r: Readings) -> list[Metric]:
    """Every metric family of a scrape (counters are named without ``_total``: the library
    adds it)."""
    total = r.total
    with total._lock:  # one consistent copy: attempts are counted while we read
        by_type, outcomes = dict(total.by_type), dict(total.outcomes)
        delivered, dead, failed = total.delivered, total.dead, total.failed
        latency = _histogram("mock_norce_attempt_latency_seconds",
                             "Time of one delivery attempt, redirects included, in seconds.", total.latency)
        lateness = _histogram("mock_norce_attempt_lateness_seconds",
                              "How long after its due time a delivery attempt started, in seconds.", total.lateness)

    finished = CounterMetricFamily("mock_norce_deliveries_finished", "Deliveries that ended, by outcome.",
                                   labels=["status"])
    finished.add_metric(["delivered"], delivered)
    finished.add_metric(["dead"], dead)
    up = GaugeMetricFamily("mock_norce_up", "1 while a part of the engine works, 0 while it is down (see /healthz).",
                           labels=["part"])
    for part in sorted(set(PARTS) | set(r.down)):
        up.add_metric([part], 0 if part in r.down else 1)
    return [
        _labelled(CounterMetricFamily("mock_norce_events", "Events written to the outbox, by event type.",
                                      labels=["type"]), by_type),
        _labelled(CounterMetricFamily("mock_norce_attempts", "Delivery attempts, by HTTP status or error class.",
                                      labels=["outcome"]), outcomes),
        finished,
        CounterMetricFamily("mock_norce_failed_attempts", "Delivery attempts that were not a 2xx.", value=failed),
        latency,
        lateness,
        _labelled(GaugeMetricFamily("mock_norce_deliveries", "Deliveries in the log, by status.",
                                    labels=["status"]), r.deliveries),
        # From the log, not from this process's figures: those miss the retries begun before a restart.
        GaugeMetricFamily("mock_norce_deliveries_in_retry",
                          "Deliveries between a failed attempt and the next (status retrying in the log).",
                          value=r.deliveries.get("retrying", 0)),
        GaugeMetricFamily("mock_norce_queue_depth", "Deliveries scheduled and not yet in flight.", value=r.backlog),
        _labelled(GaugeMetricFamily("mock_norce_schedules", "Schedules, by status.", labels=["status"]), r.schedules),
        CounterMetricFamily("mock_norce_sink_requests", "Requests the built-in sink received.",
                            value=r.sink_received),
        up,
        _labelled(CounterMetricFamily("mock_norce_incidents", "Unexpected errors turned into outcomes, by part.",
                                      labels=["part"]),
                  {**dict.fromkeys(INCIDENT_PARTS, 0), **r.incidents}),
    ]
