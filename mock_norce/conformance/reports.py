"""The last reports, so the API (GET /api/conformance/{id}) and the UI can show one again.

Kept in memory and capped (``KEEP``): a report is the answer to one request, not a log to
keep; a restart forgets them (the README says so), and memory never grows with use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from mock_norce.conformance.report import Report

KEEP = 20


class Reports:
    """The newest KEEP reports by id."""

    def __init__(self, keep: int = KEEP):
        self.keep = keep
        self._items: OrderedDict[str, Report] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, report: Report) -> None:
        with self._lock:
            self._items[report.id] = report
            while len(self._items) > self.keep:
                self._items.popitem(last=False)

    def clear(self) -> int:
        """Forget every report (a reset); how many there were."""
        with self._lock:
            n = len(self._items)
            self._items.clear()
            return n

    def get(self, report_id: str) -> Report | None:
        with self._lock:
            return self._items.get(report_id)

    def newest(self, limit: int = KEEP) -> list[Report]:
        with self._lock:
            return list(reversed(self._items.values()))[:limit]
