"""The schedules table: each schedule's spec and its state (fired, emitted, next firing).

A firing's new state is written in the same transaction as its events (``write`` inside
``DeliveryLog.add_events``), so a schedule's counts always equal its events in the log.
"""

from __future__ import annotations

import json
import sqlite3

from mock_norce.storage.database import Database

_FIELDS = ("id", "name", "spec", "status", "created", "ends_at", "fired", "emitted", "next_fire", "last_fire",
           "carry", "seed")


class ScheduleTable:
    """Schedules in one Database. Thread-safe."""

    def __init__(self, database: Database):
        self.database = database

    def save(self, row: dict) -> None:
        with self.database.transaction() as db:
            self.write(db, row)

    @staticmethod
    def write(db: sqlite3.Connection, row: dict) -> None:
        """Insert or update a schedule's row inside a transaction the caller holds."""
        values = tuple(json.dumps(row[k]) if k == "spec" else row.get(k) for k in _FIELDS)
        db.execute(f"INSERT OR REPLACE INTO schedules({', '.join(_FIELDS)}) VALUES ({', '.join('?' * len(_FIELDS))})",
                   values)

    def all(self) -> list[dict]:
        with self.database.reader() as db:
            rows = db.execute("SELECT * FROM schedules ORDER BY created").fetchall()
        return [dict(r) | {"spec": json.loads(r["spec"])} for r in rows]

    def delete(self, schedule_id: str) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM schedules WHERE id=?", (schedule_id,))

    def clear(self) -> int:
        """Delete every schedule; how many there were."""
        with self.database.transaction() as db:
            return db.execute("DELETE FROM schedules").rowcount
