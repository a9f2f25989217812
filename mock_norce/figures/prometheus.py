"""Prometheus text exposition of the live figures (``GET /metrics``), written by hand.

The format is a few lines of text; writing it here keeps the figures in one place (stats.py)
and avoids a process-global registry that would mix up several apps in one test process.
"""

from __future__ import annotations

from mock_norce.figures.live import PROM_BOUNDS, Figures, Histogram


def _labels(**labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                     for k, v in labels.items())
    return "{" + inner + "}"


def _histogram(lines: list[str], name: str, help_: str, h: Histogram) -> None:
    lines += [f"# HELP {name} {help_}", f"# TYPE {name} histogram"]
    cumulative = 0
    for bound, n in zip(PROM_BOUNDS, h.prom):
        cumulative += n
        lines.append(f'{name}_bucket{{le="{bound:g}"}} {cumulative}')
    lines.append(f'{name}_bucket{{le="+Inf"}} {h.total}')
    lines.append(f"{name}_sum {h.sum:.6f}")
    lines.append(f"{name}_count {h.total}")


PARTS = ("storage", "writer", "timer", "runs", "scheduler")


def exposition(total: Figures, deliveries: dict[str, int], backlog: int, schedules: dict[str, int],
               sink_received: int, down: dict[str, str] | None = None, incidents: dict[str, int] | None = None) -> str:
    """The metrics page. `down`: the engine's parts that are down; `incidents`: unexpected
    errors turned into outcomes, by part."""
    lines: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: list[tuple[dict, float]]) -> None:
        lines.extend([f"# HELP {name} {help_}", f"# TYPE {name} {kind}"])
        for labels, value in samples:
            lines.append(f"{name}{_labels(**labels)} {value}")

    metric("mock_norce_events_total", "counter", "Events written to the outbox, by event type.",
           [({"type": t}, n) for t, n in sorted(total.by_type.items())] or [({"type": "none"}, 0)])
    metric("mock_norce_attempts_total", "counter", "Delivery attempts, by HTTP status or error class.",
           [({"outcome": o}, n) for o, n in sorted(total.outcomes.items())] or [({"outcome": "none"}, 0)])
    metric("mock_norce_deliveries_finished_total", "counter", "Deliveries that ended, by outcome.",
           [({"status": "delivered"}, total.delivered), ({"status": "dead"}, total.dead)])
    metric("mock_norce_failed_attempts_total", "counter", "Attempts that were not a 2xx.", [({}, total.failed)])
    _histogram(lines, "mock_norce_attempt_latency_seconds", "Time of one attempt, redirects included.",
               total.latency)
    _histogram(lines, "mock_norce_attempt_lateness_seconds", "How long after its due time an attempt started.",
               total.lateness)
    metric("mock_norce_deliveries", "gauge", "Deliveries in the log, by status.",
           [({"status": s}, n) for s, n in deliveries.items()])
    # From the log, not from this process's figures: those miss the retries begun before a restart.
    metric("mock_norce_deliveries_in_retry", "gauge", "Deliveries between a failed attempt and the next.",
           [({}, deliveries.get("retrying", 0))])
    metric("mock_norce_queue_depth", "gauge", "Deliveries scheduled and not yet in flight.", [({}, backlog)])
    metric("mock_norce_schedules", "gauge", "Schedules, by status.", [({"status": s}, n) for s, n in schedules.items()])
    metric("mock_norce_sink_requests_total", "counter", "Requests the built-in sink received.", [({}, sink_received)])
    down = down or {}
    metric("mock_norce_up", "gauge", "1 while a part of the engine works, 0 while it is down (see /healthz).",
           [({"part": p}, 0 if p in down else 1) for p in sorted(set(PARTS) | set(down))])
    metric("mock_norce_incidents_total", "counter", "Unexpected errors turned into outcomes, by part.",
           [({"part": p}, n) for p, n in sorted((incidents or {}).items())] or [({"part": "none"}, 0)])
    return "\n".join(lines) + "\n"
