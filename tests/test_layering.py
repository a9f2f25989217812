"""The pure core imports neither Flask nor APScheduler (design: thin edges)."""

from __future__ import annotations

import subprocess
import sys

CORE = ["mock_norce.catalog", "mock_norce.events", "mock_norce.fields", "mock_norce.fakedata",
        "mock_norce.tenant", "mock_norce.settings", "mock_norce.errors", "mock_norce.policy",
        "mock_norce.store", "mock_norce.sender", "mock_norce.dispatcher", "mock_norce.outbox",
        "mock_norce.subscriptions", "mock_norce.durations", "mock_norce.cli", "mock_norce.wire", "mock_norce.scenarios",
        "mock_norce.runner", "mock_norce.runs", "mock_norce.sink", "mock_norce.openapi",
        "mock_norce.stats", "mock_norce.metrics", "mock_norce.enginelock", "mock_norce.schedule_spec",
        "mock_norce.iri", "mock_norce.pool", "mock_norce.output", "mock_norce.limits", "mock_norce.health",
        "mock_norce.database", "mock_norce.lanes", "mock_norce.pacing"]


def test_core_imports_no_web_or_scheduler():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'apscheduler')]\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
