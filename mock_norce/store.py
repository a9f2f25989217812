"""The outbox: deliveries and their attempts (and later runs) in one SQLite file.

A delivery row is one event (type and the exact body bytes) and one series of attempts of it
to one URL, with its status and the time of its next attempt (``due``, NULL once delivered or
dead); a manual redelivery is a new row with the same body. An attempt row is one POST and
what came back. The deliveries table has no index but its key: each index costs every
insert more than the occasional full scan (start-up, counts, filters) costs. Deliveries
are committed before their first attempt, so a ``kill -9`` loses nothing: on the next start every delivery
with a ``due`` is attempted again (at least once: a duplicate is possible, a loss is not).

One connection, one lock: SQLite has one writer anyway, and WAL lets the file be read by
other processes (``sqlite3`` on the command line) while we write.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from . import policy

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused, even after a clear
    type TEXT NOT NULL,
    body BLOB NOT NULL,
    valid INTEGER NOT NULL DEFAULT 1,
    run_id TEXT,
    url TEXT NOT NULL,
    headers TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due REAL,
    scale REAL NOT NULL DEFAULT 1.0,
    created REAL NOT NULL,
    finished REAL,
    last_status_code INTEGER,
    last_error TEXT,
    redelivery_of INTEGER
);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    started REAL NOT NULL,
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    status_code INTEGER,
    latency_ms REAL,
    error_class TEXT,
    error TEXT,
    response_headers TEXT,
    response_body BLOB,
    body_truncated INTEGER NOT NULL DEFAULT 0,
    hops TEXT
);
CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts(delivery_id);
CREATE INDEX IF NOT EXISTS deliveries_run ON deliveries(run_id) WHERE run_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    scenario TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    time_scale REAL NOT NULL,
    url TEXT,
    started REAL NOT NULL,
    finished REAL,
    events INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE TABLE IF NOT EXISTS schedules (
    id TEXT PRIMARY KEY,
    name TEXT,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    ends_at REAL,
    fired INTEGER NOT NULL DEFAULT 0,
    emitted INTEGER NOT NULL DEFAULT 0,
    next_fire REAL,
    last_fire REAL,
    carry REAL NOT NULL DEFAULT 0,
    seed INTEGER NOT NULL
);
"""


@dataclass
class Job:
    """What a worker needs to make the next attempt of a delivery."""

    delivery_id: int
    url: str
    headers: dict
    body: bytes
    attempts: int
    scale: float
    due: float
    run_id: str | None = None  # the run or schedule the event came from


@dataclass
class AttemptRecord:
    """The result of one attempt, waiting to be written."""

    delivery_id: int
    number: int  # 1-based policy attempt; interrupted attempts repeat the number
    started: float
    outcome: Any  # sender.Outcome
    status: str  # the delivery's status after this attempt
    due: float | None  # its next attempt, None when finished
    run_id: str | None = None
    lateness: float = 0.0  # how long after its due time the attempt started


_EMPTY = "{}"


class Store:
    """SQLite access for the outbox. Thread-safe; every method is one short transaction."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        with self.lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a commit survives a crash of this process (kill -9); only
            # power loss can undo the last commits.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    # --- writing -------------------------------------------------------------------------

    def add_events(self, items: Iterable[tuple[str, bytes, bool, str | None, str, dict, float, float]],
                   now: float, schedule_row: dict | None = None) -> list[int]:
        """Insert deliveries of new events, committed before returning their ids.

        Each item is (type, body, valid, run_id, url, headers, scale, due). ``schedule_row``
        (a schedule's new state) is saved in the same transaction: a firing and its events
        are committed, or rolled back, as a whole.
        """
        rows = [(etype, body, int(valid), run_id, url, _EMPTY if not headers else json.dumps(headers),
                 policy.PENDING, due, scale, now) for etype, body, valid, run_id, url, headers, scale, due in items]
        ids = []
        with self.lock:
            self._db.execute("BEGIN")
            try:
                for row in rows:
                    ids.append(self._db.execute(
                        "INSERT INTO deliveries(type, body, valid, run_id, url, headers, status, due, scale, created)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?)", row).lastrowid)
                if schedule_row is not None:
                    self.save_schedule(schedule_row)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return ids

    def add_redelivery(self, delivery_id: int, now: float, url: str | None = None,
                       headers: dict | None = None) -> int | None:
        """A new delivery (a new series of attempts) of the same event; None if it is unknown."""
        with self.lock:
            row = self._db.execute("SELECT type, body, valid, run_id, url, headers, scale FROM deliveries"
                                   " WHERE id=?", (delivery_id,)).fetchone()
            if row is None:
                return None
            cur = self._db.execute(
                "INSERT INTO deliveries(type, body, valid, run_id, url, headers, status, due, scale, created,"
                " redelivery_of) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (row["type"], row["body"], row["valid"], row["run_id"], url or row["url"],
                 json.dumps(headers) if headers is not None else row["headers"],
                 policy.PENDING, now, row["scale"], now, delivery_id))
            return cur.lastrowid

    def record(self, records: list[AttemptRecord]) -> None:
        """Write attempts and the new state of their deliveries in one transaction."""
        if not records:
            return
        with self.lock:
            self._db.execute("BEGIN")
            try:
                for r in records:
                    o = r.outcome
                    finished = None if r.due is not None else r.started + o.latency_ms / 1000
                    counted = o.error_class != "interrupted"
                    updated = self._db.execute(
                        "UPDATE deliveries SET status=?, attempts=attempts+?, due=?, finished=?,"
                        " last_status_code=?, last_error=? WHERE id=?",
                        (r.status, int(counted), r.due, finished, o.status, o.error, r.delivery_id))
                    if updated.rowcount == 0:
                        continue  # deleted meanwhile (the log was cleared): nothing to attach to
                    self._db.execute(
                        "INSERT INTO attempts(delivery_id, number, started, url, method, status_code, latency_ms,"
                        " error_class, error, response_headers, response_body, body_truncated, hops)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (r.delivery_id, r.number, r.started, o.url, o.method, o.status, o.latency_ms,
                         o.error_class, o.error, json.dumps(o.response_headers), o.response_body,
                         int(o.body_truncated), json.dumps(o.hops)))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def clear(self) -> int:
        """Delete every event, delivery and attempt; returns how many deliveries went."""
        with self.lock:
            n = self._db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM attempts")
            self._db.execute("DELETE FROM deliveries")
            self._db.execute("COMMIT")
            return n

    def prune(self, keep: int | None, older_than: float | None) -> int:
        """Retention: drop finished deliveries beyond the newest `keep` or finished before a time."""
        removed = 0
        with self.lock:
            self._db.execute("BEGIN")
            try:
                if keep is not None:
                    removed += self._drop(
                        "SELECT id FROM deliveries WHERE due IS NULL ORDER BY id DESC LIMIT -1 OFFSET ?", (keep,))
                if older_than is not None:
                    removed += self._drop("SELECT id FROM deliveries WHERE due IS NULL AND finished < ?",
                                          (older_than,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return removed

    def _drop(self, select: str, args: tuple) -> int:
        ids = [r[0] for r in self._db.execute(select, args).fetchall()]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            self._db.execute(f"DELETE FROM attempts WHERE delivery_id IN ({marks})", chunk)
            self._db.execute(f"DELETE FROM deliveries WHERE id IN ({marks})", chunk)
        return len(ids)

    # --- runs ----------------------------------------------------------------------------

    _RUN_FIELDS = ("id", "scenario", "seed", "status", "time_scale", "url", "started", "finished", "events", "error")

    def save_run(self, run: dict) -> None:
        """Insert or update a run's row."""
        values = tuple(run.get(k) for k in self._RUN_FIELDS)
        with self.lock:
            self._db.execute(f"INSERT OR REPLACE INTO runs({', '.join(self._RUN_FIELDS)}) VALUES "
                             f"({', '.join('?' * len(self._RUN_FIELDS))})", values)

    def run(self, run_id: str) -> dict | None:
        with self.lock:
            row = self._db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return dict(row) if row else None

    def runs(self, limit: int = 50) -> list[dict]:
        with self.lock:
            return [dict(r) for r in self._db.execute("SELECT * FROM runs ORDER BY started DESC LIMIT ?", (limit,))]

    def run_counts(self, run_id: str) -> dict[str, int]:
        """Deliveries of a run by status."""
        with self.lock:
            rows = self._db.execute("SELECT status, count(*) FROM deliveries WHERE run_id=? GROUP BY status",
                                    (run_id,)).fetchall()
        out = {s: 0 for s in policy.STATUSES}
        out.update({r[0]: r[1] for r in rows})
        return out

    def fail_unfinished_runs(self, reason: str, now: float) -> int:
        """Runs left 'running' by a crash or stop cannot go on: mark them failed."""
        with self.lock:
            return self._db.execute("UPDATE runs SET status='failed', error=?, finished=? WHERE status='running'",
                                    (reason, now)).rowcount

    # --- schedules -----------------------------------------------------------------------

    _SCHEDULE_FIELDS = ("id", "name", "spec", "status", "created", "ends_at", "fired", "emitted", "next_fire",
                        "last_fire", "carry", "seed")

    def save_schedule(self, row: dict) -> None:
        values = tuple(json.dumps(row[k]) if k == "spec" else row.get(k) for k in self._SCHEDULE_FIELDS)
        with self.lock:
            self._db.execute(f"INSERT OR REPLACE INTO schedules({', '.join(self._SCHEDULE_FIELDS)}) VALUES "
                             f"({', '.join('?' * len(self._SCHEDULE_FIELDS))})", values)

    def schedules(self) -> list[dict]:
        with self.lock:
            rows = self._db.execute("SELECT * FROM schedules ORDER BY created").fetchall()
        return [dict(r) | {"spec": json.loads(r["spec"])} for r in rows]

    def delete_schedule(self, schedule_id: str) -> None:
        with self.lock:
            self._db.execute("DELETE FROM schedules WHERE id=?", (schedule_id,))

    # --- reading -------------------------------------------------------------------------

    def job(self, delivery_id: int) -> Job | None:
        """Everything needed for the next attempt of an unfinished delivery."""
        with self.lock:
            row = self._db.execute(
                "SELECT id, url, headers, body, attempts, scale, due, run_id FROM deliveries"
                " WHERE id=? AND due IS NOT NULL", (delivery_id,)).fetchone()
        if row is None:
            return None
        return Job(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6], row[7])

    def delivery_status(self, delivery_id: int) -> str | None:
        with self.lock:
            row = self._db.execute("SELECT status FROM deliveries WHERE id=?", (delivery_id,)).fetchone()
        return row[0] if row else None

    def unfinished(self) -> list[tuple[float, int, str]]:
        """(due, delivery id, url) of every delivery still to be attempted: the work after a restart."""
        with self.lock:
            return [(r[0], r[1], r[2]) for r in self._db.execute(
                "SELECT due, id, url FROM deliveries WHERE due IS NOT NULL ORDER BY due, id")]

    def delivery(self, delivery_id: int) -> dict | None:
        """A delivery with its event and every attempt, oldest first."""
        with self.lock:
            row = self._db.execute("SELECT * FROM deliveries WHERE id=?", (delivery_id,)).fetchone()
            if row is None:
                return None
            attempts = self._db.execute("SELECT * FROM attempts WHERE delivery_id=? ORDER BY id",
                                        (delivery_id,)).fetchall()
        out = _delivery_dict(row)
        out["attempt_log"] = [_attempt_dict(a) for a in attempts]
        return out

    def deliveries(self, *, event_type: str | None = None, status: str | None = None,
                   run_id: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
        """A page of deliveries, newest first, and the total that match the filters."""
        where, args = [], []
        if event_type:
            where.append("type = ?")
            args.append(event_type)
        if status:
            where.append("status = ?")
            args.append(status)
        if run_id:
            where.append("run_id = ?")
            args.append(run_id)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        with self.lock:
            total = self._db.execute(f"SELECT count(*) FROM deliveries {clause}", args).fetchone()[0]
            rows = self._db.execute(f"SELECT * FROM deliveries {clause} ORDER BY id DESC LIMIT ? OFFSET ?",
                                    (*args, limit, offset)).fetchall()
        return [_delivery_dict(r) for r in rows], total

    def counts(self) -> dict[str, int]:
        """How many deliveries are in each status."""
        with self.lock:
            rows = self._db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
        out = {s: 0 for s in policy.STATUSES}
        out.update({r[0]: r[1] for r in rows})
        return out

    def subscriber_health(self, last: int = 500) -> list[dict]:
        """Per subscriber origin, over the last attempts: how many, how many 2xx, the latest outcome."""
        with self.lock:
            rows = self._db.execute("SELECT url, status_code, error_class, latency_ms, started FROM attempts"
                                    " ORDER BY id DESC LIMIT ?", (last,)).fetchall()
        out: dict[str, dict] = {}
        for url, code, error_class, latency, started in rows:
            scheme, host, port = policy.origin(url)
            key = f"{scheme}://{host}:{port}"
            entry = out.setdefault(key, {"origin": key, "attempts": 0, "ok": 0, "latency_total": 0.0,
                                         "last_status": code, "last_error": error_class, "last_at": started})
            entry["attempts"] += 1
            entry["ok"] += int(policy.is_success(code) and error_class is None)
            entry["latency_total"] += latency or 0.0
        for entry in out.values():
            entry["success_rate"] = entry["ok"] / entry["attempts"]
            entry["avg_latency_ms"] = entry.pop("latency_total") / entry["attempts"]
        return sorted(out.values(), key=lambda e: -e["last_at"])


def _delivery_dict(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"], "event_type": row["type"], "status": row["status"],
        "url": row["url"], "headers": json.loads(row["headers"]), "attempts": row["attempts"],
        "next_attempt_at": row["due"], "created": row["created"], "finished": row["finished"],
        "last_status_code": row["last_status_code"], "last_error": row["last_error"],
        "redelivery_of": row["redelivery_of"], "run_id": row["run_id"], "valid": bool(row["valid"]),
        "body": row["body"].decode("utf-8"),
    }


def _attempt_dict(row: sqlite3.Row) -> dict:
    body = row["response_body"] or b""
    return {
        "number": row["number"], "started": row["started"], "url": row["url"], "method": row["method"],
        "status_code": row["status_code"], "latency_ms": row["latency_ms"], "error_class": row["error_class"],
        "error": row["error"], "response_headers": json.loads(row["response_headers"] or "[]"),
        "response_body": body.decode("utf-8", errors="replace"), "body_truncated": bool(row["body_truncated"]),
        "hops": json.loads(row["hops"] or "[]"),
    }
