"""The runs table: one row per scenario run, its status and how it ended.

The counts of a run's deliveries by status are the delivery log's (``DeliveryLog.run_counts``,
kept by triggers as deliveries change).
"""

from __future__ import annotations

import json

from mock_norce.storage.database import Database

_FIELDS = ("id", "scenario", "seed", "status", "time_scale", "url", "started", "finished", "events", "error",
           "chaos")


class RunTable:
    """Runs in one Database. Thread-safe."""

    def __init__(self, database: Database):
        self.database = database

    def save(self, run: dict) -> None:
        """Insert or update a run's row."""
        values = tuple(run.get(k) if k != "chaos" else _text(run.get(k)) for k in _FIELDS)
        with self.database.transaction() as db:
            db.execute(f"INSERT OR REPLACE INTO runs({', '.join(_FIELDS)}) VALUES ({', '.join('?' * len(_FIELDS))})",
                       values)

    def get(self, run_id: str) -> dict | None:
        with self.database.reader() as db:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return _run(row) if row else None

    def latest(self, limit: int = 50) -> list[dict]:
        """The latest runs, newest first."""
        with self.database.reader() as db:
            return [_run(r) for r in db.execute("SELECT * FROM runs ORDER BY started DESC LIMIT ?", (limit,))]

    def clear(self) -> int:
        """Forget every run; how many there were."""
        with self.database.transaction() as db:
            return db.execute("DELETE FROM runs").rowcount

    def fail_unfinished(self, reason: str, now: float) -> int:
        """Runs left 'running' by a crash or stop cannot go on: mark them failed."""
        with self.database.transaction() as db:
            return db.execute("UPDATE runs SET status='failed', error=?, finished=? WHERE status='running'",
                              (reason, now)).rowcount


def _text(chaos: dict | None) -> str | None:
    return json.dumps(chaos) if chaos else None


def _run(row) -> dict:
    out = dict(row)
    out["chaos"] = json.loads(out["chaos"]) if out.get("chaos") else None  # the spec of its chaos
    return out
