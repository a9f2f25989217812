"""The figures' time series: per-point p50/p99 latency, delivered/s beside generated/s, the
backlog over time, and the CSV with ISO times. Pure: a fake clock, attempts made by hand."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest

from mock_norce.figures.live import SERIES_POINTS, Figures
from mock_norce.storage.deliveries import AttemptRecord


def attempt(t: float, latency_ms: float, status: str = "delivered", number: int = 1) -> AttemptRecord:
    outcome = SimpleNamespace(error_class=None if status == "delivered" else "http", latency_ms=latency_ms,
                              status=200 if status == "delivered" else 503)
    return AttemptRecord(1, number, t, outcome, status, None, "s-x")


def test_each_point_has_its_own_p50_and_p99():
    figures = Figures(1000.0, lambda: 1010.0)
    for i in range(100):  # second 0: 99 fast answers and one slow one
        figures.on_attempt(attempt(1000.1, 2000.0 if i == 99 else 10.0))
    for _ in range(10):  # second 1: all slow
        figures.on_attempt(attempt(1001.5, 500.0))
    first, second = figures.points()
    assert first["latency_p50_ms"] == pytest.approx(10.0, rel=0.13)
    assert first["latency_p99_ms"] == pytest.approx(10.0, rel=0.13)  # the 100th is beyond p99
    assert first["latency_max_ms"] == pytest.approx(2000.0)
    assert second["latency_p50_ms"] == pytest.approx(500.0, rel=0.13)
    assert second["latency_p99_ms"] <= 500.0  # never above the largest seen


def test_the_backlog_is_generated_minus_delivered_and_dead_over_time():
    figures = Figures(1000.0, lambda: 1010.0)
    figures.on_written(["A"] * 5, 1000.2)
    figures.on_attempt(attempt(1000.5, 1.0))
    figures.on_attempt(attempt(1001.2, 1.0))
    figures.on_attempt(attempt(1002.2, 1.0, "dead", 17))
    points = figures.points()
    assert [p["backlog"] for p in points] == [4, 3, 2]
    assert [p["delivered_per_s"] for p in points] == [1.0, 1.0, 0.0]
    assert figures.summary()["backlog"] == 2


def test_points_keep_their_percentiles_when_the_series_halves():
    figures = Figures(0.0, lambda: 0.0)
    for t in range(SERIES_POINTS + 2):  # one past the end: every pair of seconds merges
        figures.on_attempt(attempt(t + 0.5, 100.0 if t % 2 else 1.0))
    points = figures.points()
    assert points[0]["width"] == 2.0 and len(points) <= SERIES_POINTS
    assert points[0]["latency_p50_ms"] == pytest.approx(1.0, rel=0.13)
    assert points[0]["latency_p99_ms"] == pytest.approx(100.0, rel=0.13)


def test_the_csv_has_iso_times_percentiles_and_backlog():
    figures = Figures(1_795_550_000.0, lambda: 1_795_550_010.0)
    figures.on_written(["A"] * 3, 1_795_550_000.25)
    figures.on_attempt(attempt(1_795_550_000.5, 8352.227))
    rows = list(csv.DictReader(io.StringIO(figures.csv())))
    assert rows[0]["t"] == "2026-11-24T19:53:20.000Z"
    assert rows[0]["backlog"] == "2"
    assert float(rows[0]["latency_p50_ms"]) == pytest.approx(8352.227, rel=0.13)
    assert "e+" not in figures.csv()
