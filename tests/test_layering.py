"""The pure core imports neither Flask nor APScheduler (design: thin edges)."""

from __future__ import annotations

import subprocess
import sys

CORE = ["mock_norce.catalogue.schemas", "mock_norce.catalogue.payloads", "mock_norce.catalogue.fields", "mock_norce.catalogue.fakedata",
        "mock_norce.catalogue.tenant", "mock_norce.settings", "mock_norce.errors", "mock_norce.delivery.policy",
        "mock_norce.storage.store", "mock_norce.delivery.http_client", "mock_norce.delivery.dispatcher", "mock_norce.delivery.outbox",
        "mock_norce.delivery.subscriptions", "mock_norce.durations", "mock_norce.cli.main", "mock_norce.delivery.framing", "mock_norce.scenarios.library",
        "mock_norce.scenarios.player", "mock_norce.playback.runs", "mock_norce.web.sink_log", "mock_norce.web.openapi",
        "mock_norce.figures.live", "mock_norce.figures.prometheus", "mock_norce.storage.enginelock", "mock_norce.playback.schedule_spec",
        "mock_norce.delivery.iri", "mock_norce.delivery.connections", "mock_norce.cli.output", "mock_norce.limits", "mock_norce.health",
        "mock_norce.storage.database", "mock_norce.delivery.lanes", "mock_norce.playback.pacing"]


def test_core_imports_no_web_or_scheduler():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'apscheduler')]\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
