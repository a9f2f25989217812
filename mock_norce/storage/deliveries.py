"""The delivery log: deliveries with their attempts, which are also the delivery queue.

A delivery row is one event (type and the exact body bytes) and one series of attempts of it
to one URL, with its status and the time of its next attempt (``due``, NULL once delivered or
dead); a manual redelivery is a new row with the same body. An attempt row is one POST and
what came back. Deliveries are committed before their first attempt, so a ``kill -9`` loses
nothing: on the next start every delivery with a ``due`` is attempted again (at least once:
a duplicate is possible, a loss is not). The rows with a ``due`` are the delivery queue
itself (``due_window``); nothing else keeps them.

Connections, schema and failures are database.py's; every method here is one short
transaction or one read, and raises StorageUnavailable when the file fails. A little over
300 lines on purpose: every statement on the deliveries and attempts tables is in this one
file, so each can be checked against the indexes of schema.py.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from mock_norce import statuses
from mock_norce.errors import BadSearch
from mock_norce.storage import log_query
from mock_norce.storage.database import Database
from mock_norce.storage.log_query import LogFilter
from mock_norce.storage.schema import DELETE_TRIGGER, SEARCH_DELETE_TRIGGER, SEARCH_TABLE

@dataclass(slots=True)
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
    chaos_fail: bool = False  # chaos counts its first attempt as failed whatever the answer (chaos.py)
    # How it is sent, fixed when the delivery is created (a later change of its subscription
    # does not reach a delivery in flight): the retry policy's name (delivery/policy.py), the
    # Content-Type, and the rule for static headers on a redirect.
    policy: str = "current"
    content_type: str = "application/json"
    redirect_headers: str = "origin"


@dataclass(slots=True)
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
    url: str = ""  # the delivery's URL (where its retry goes)
    generation: int = 0  # the dispatcher's generation it was made in (a clear starts a new one)


_EMPTY = "{}"
_SENDING = ("current", "application/json", "origin")  # a delivery's policy, Content-Type, redirect rule


class DeliveryLog:
    """Deliveries and attempts in one Database. Thread-safe."""

    def __init__(self, database: Database):
        self.database = database
        self.path = database.path

    @property
    def _db(self) -> sqlite3.Connection:
        """The writer connection (tests and maintenance only)."""
        return self.database.db

    def close(self) -> None:
        self.database.close()

    # --- writing -------------------------------------------------------------------------

    def add_events(self, items: Iterable[tuple[str, bytes, bool, str | None, str, dict, float, float]],
                   now: float, also: Callable[[sqlite3.Connection], None] | None = None) -> list[int]:
        """Insert deliveries of new events, committed before returning their ids.

        Each item is (type, body, valid, run_id, url, headers, scale, due), and optionally what
        chaos did to it (a dict, or None) as a ninth, and how it is sent (policy, content type,
        redirect header rule) as a tenth (else the defaults). A chaos note's
        ``duplicate_of_row``/``duplicated_as_row`` name another item of the batch by its index
        and are recorded as that item's id. ``also`` writes more in the same transaction (a
        schedule's new state): a firing and its events are committed, or rolled back, as a whole.
        """
        items = list(items)
        rows = [(etype, body, int(valid), run_id, url, _EMPTY if not headers else json.dumps(headers),
                 statuses.PENDING, due, scale, now, *(rest[1] if len(rest) > 1 and rest[1] else _SENDING))
                for etype, body, valid, run_id, url, headers, scale, due, *rest in items]
        if not rows:
            if also is not None:
                with self.database.transaction() as db:
                    also(db)
            return []
        with self.database.transaction() as db:
            first = db.execute("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name='deliveries'"
                               ).fetchone()[0] + 1
            # One statement for the batch: under the write lock, AUTOINCREMENT hands out
            # consecutive ids from the sequence, so the ids are known without a round per row.
            rows = [row + (_chaos_text(item[8] if len(item) > 8 else None, first),) for row, item in zip(rows, items)]
            db.executemany(
                "INSERT INTO deliveries(type, body, valid, run_id, url, headers, status, due, scale, created,"
                " policy, content_type, redirect_headers, chaos) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            last = db.execute("SELECT seq FROM sqlite_sequence WHERE name='deliveries'").fetchone()[0]
            if also is not None:
                also(db)
        ids = list(range(first, last + 1))
        if len(ids) != len(rows):
            raise AssertionError(f"expected {len(rows)} consecutive ids, got {first}..{last}")
        return ids

    def add_redelivery(self, delivery_id: int, now: float, url: str | None = None,
                       headers: dict | None = None) -> int | None:
        """A new delivery (a new series of attempts) of the same event; None if it is unknown.

        ``url`` sends it elsewhere (the new delivery records that URL); ``redelivery_of`` keeps
        where it came from, so each links to the other."""
        return self.add_redeliveries([delivery_id], now, url, headers).get(delivery_id)

    def add_redeliveries(self, delivery_ids: list[int], now: float, url: str | None = None,
                         headers: dict | None = None) -> dict[int, int]:
        """Redeliveries of several deliveries in one transaction: {original id: new id}, for
        those that exist (at most 900 ids a call)."""
        if not delivery_ids:
            return {}
        out = {}
        with self.database.transaction() as db:
            rows = db.execute("SELECT id, type, body, valid, run_id, url, headers, scale, policy, content_type,"
                              " redirect_headers FROM deliveries"
                              f" WHERE id IN ({','.join('?' * len(delivery_ids))})", delivery_ids).fetchall()
            by_id = {row["id"]: row for row in rows}
            for did in delivery_ids:
                row = by_id.get(did)
                if row is None or did in out:
                    continue
                out[did] = db.execute(
                    "INSERT INTO deliveries(type, body, valid, run_id, url, headers, status, due, scale, created,"
                    " redelivery_of, policy, content_type, redirect_headers) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (row["type"], row["body"], row["valid"], row["run_id"], url or row["url"],
                     json.dumps(headers) if headers is not None else row["headers"],
                     statuses.PENDING, now, row["scale"], now, did,
                     row["policy"], row["content_type"], row["redirect_headers"])).lastrowid
        return out

    def move_due(self, delivery_id: int, due: float) -> str | None:
        """Make an unfinished delivery due at `due` (a retry now); its status ("delivered",
        "dead": unchanged, being finished), or None when there is no such delivery."""
        with self.database.transaction() as db:
            row = db.execute("SELECT status, due FROM deliveries WHERE id=?", (delivery_id,)).fetchone()
            if row is None:
                return None
            if row["due"] is not None:
                db.execute("UPDATE deliveries SET due=? WHERE id=?", (min(due, row["due"]), delivery_id))
            return row["status"]

    def record(self, records: list[AttemptRecord]) -> list[AttemptRecord]:
        """Write attempts and the new state of their deliveries in one transaction.

        Returns the records written: a delivery deleted meanwhile (the log was cleared) has
        nothing to attach its attempt to, and its series ends there.
        """
        if not records:
            return []
        updates = []
        for r in records:
            o = r.outcome
            finished = None if r.due is not None else r.started + o.latency_ms / 1000
            # The error class only where there was no answer (a 500 is found by its code).
            error_class = None if o.error_class in (None, "http_status") else o.error_class
            updates.append((r.status, int(o.error_class != "interrupted"), r.due, finished, o.status, o.error,
                            error_class, r.delivery_id))
        with self.database.transaction() as db:
            # One statement per kind for the whole batch; only after a clear do some rows miss.
            updated = db.executemany("UPDATE deliveries SET status=?, attempts=attempts+?, due=?, finished=?,"
                                     " last_status_code=?, last_error=?, last_error_class=? WHERE id=?", updates).rowcount
            written = records
            if updated != len(records):
                ids = [r.delivery_id for r in records]
                found = set()
                for start in range(0, len(ids), 900):
                    chunk = ids[start:start + 900]
                    found.update(row[0] for row in db.execute(
                        f"SELECT id FROM deliveries WHERE id IN ({','.join('?' * len(chunk))})", chunk))
                written = [r for r in records if r.delivery_id in found]
            db.executemany(
                "INSERT INTO attempts(delivery_id, number, started, url, method, status_code, latency_ms,"
                " error_class, error, response_headers, response_body, body_truncated, hops)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(r.delivery_id, r.number, r.started, r.outcome.url, r.outcome.method, r.outcome.status,
                  r.outcome.latency_ms, r.outcome.error_class, r.outcome.error,
                  json.dumps(r.outcome.response_headers), r.outcome.response_body, int(r.outcome.body_truncated),
                  json.dumps(r.outcome.hops)) for r in written])
        return written

    def clear(self) -> int:
        """Delete every delivery and attempt; returns how many deliveries went.

        The per-row count trigger is dropped for the delete (and the counts emptied), so a
        clear of a million rows takes a moment, not a minute.
        """
        with self.database.transaction() as db:
            n = db.execute("SELECT coalesce(sum(n), 0) FROM delivery_counts").fetchone()[0]
            db.execute("DELETE FROM attempts")
            db.execute("DROP TRIGGER IF EXISTS deliveries_counted_out")
            db.execute("DROP TRIGGER IF EXISTS deliveries_unsearchable")
            db.execute("DELETE FROM deliveries")
            db.execute("DELETE FROM delivery_counts")
            db.execute("DELETE FROM run_counts")
            # The search index made afresh: dropping it is quick, deleting its rows one by one is not.
            db.execute("DROP TABLE IF EXISTS delivery_search")
            db.execute(SEARCH_TABLE)
            db.execute(DELETE_TRIGGER)
            db.execute(SEARCH_DELETE_TRIGGER)
        return n

    PRUNE_CHUNK = 2000  # rows deleted per transaction, so the writer is never held long

    def prune(self, keep: int | None, older_than: float | None) -> int:
        """Retention: drop the oldest finished deliveries beyond the newest `keep`, and those
        finished before `older_than` (checked among the oldest finished ones)."""
        removed = 0
        if keep is not None:
            counts = self.counts()
            excess = sum(counts[s] for s in statuses.FINISHED) - keep
            while excess > 0:
                n = min(excess, self.PRUNE_CHUNK)
                with self.database.transaction() as db:
                    done = self._drop(db, "SELECT id FROM deliveries WHERE due IS NULL ORDER BY id LIMIT ?", (n,))
                removed += done
                excess -= n
                if done < n:
                    break
        if older_than is not None:
            with self.database.transaction() as db:
                removed += self._drop(db, "SELECT id FROM (SELECT id, finished FROM deliveries WHERE due IS NULL"
                                          " ORDER BY id LIMIT ?) WHERE finished < ?", (self.PRUNE_CHUNK, older_than))
        return removed

    def oldest_created(self) -> float | None:
        """When the oldest delivery still in the log was recorded (ids grow with time)."""
        with self.database.reader() as db:
            row = db.execute("SELECT created FROM deliveries ORDER BY id LIMIT 1").fetchone()
        return row[0] if row else None

    @staticmethod
    def _drop(db: sqlite3.Connection, select: str, args: tuple) -> int:
        ids = [r[0] for r in db.execute(select, args).fetchall()]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            db.execute(f"DELETE FROM attempts WHERE delivery_id IN ({marks})", chunk)
            db.execute(f"DELETE FROM deliveries WHERE id IN ({marks})", chunk)
        return len(ids)

    # --- the queue -----------------------------------------------------------------------

    def due_window(self, after: tuple[float, int] | None, until: float, limit: int) -> list[tuple[float, int, str]]:
        """(due, id, url) of unfinished deliveries due by `until`, after the (due, id) `after`,
        in due order: the next window of the queue."""
        with self.database.reader() as db:
            if after is None:
                return [tuple(r) for r in db.execute(
                    "SELECT due, id, url FROM deliveries WHERE due IS NOT NULL AND due <= ?"
                    " ORDER BY due, id LIMIT ?", (until, limit))]
            return [tuple(r) for r in db.execute(
                "SELECT due, id, url FROM deliveries WHERE due IS NOT NULL AND due >= ? AND due <= ?"
                " AND (due > ? OR id > ?) ORDER BY due, id LIMIT ?", (after[0], until, after[0], after[1], limit))]

    def next_due(self) -> float | None:
        """When the earliest unfinished delivery is due."""
        with self.database.reader() as db:
            return db.execute("SELECT min(due) FROM deliveries WHERE due IS NOT NULL").fetchone()[0]

    # --- reading -------------------------------------------------------------------------

    def job(self, delivery_id: int) -> Job | None:
        """Everything needed for the next attempt of an unfinished delivery."""
        return self.jobs([delivery_id]).get(delivery_id)

    def jobs(self, delivery_ids: list[int]) -> dict[int, Job]:
        """The jobs of those of these deliveries that are unfinished, in one read (at most 900 ids)."""
        with self.database.reader() as db:
            rows = db.execute(
                "SELECT id, url, headers, body, attempts, scale, due, run_id, chaos, policy, content_type,"
                f" redirect_headers FROM deliveries WHERE id IN ({','.join('?' * len(delivery_ids))})"
                " AND due IS NOT NULL", delivery_ids).fetchall()
        return {row[0]: Job(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6], row[7],
                            bool(row[8] and json.loads(row[8]).get("fail_first")), row[9], row[10], row[11])
                for row in rows}

    def delivery_status(self, delivery_id: int) -> str | None:
        with self.database.reader() as db:
            row = db.execute("SELECT status FROM deliveries WHERE id=?", (delivery_id,)).fetchone()
        return row[0] if row else None

    def delivery(self, delivery_id: int) -> dict | None:
        """A delivery with its event and every attempt, oldest first."""
        with self.database.reader() as db:
            row = db.execute("SELECT * FROM deliveries WHERE id=?", (delivery_id,)).fetchone()
            if row is None:
                return None
            attempts = db.execute("SELECT * FROM attempts WHERE delivery_id=? ORDER BY id",
                                  (delivery_id,)).fetchall()
        out = _delivery_dict(row)
        out["attempt_log"] = [_attempt_dict(a) for a in attempts]
        return out

    def deliveries(self, *, event_type: str | None = None, status: str | None = None,
                   run_id: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
        """A page of deliveries, newest first, and the total that match the filters.

        The page walks an index newest first; the total comes from the kept counts (only a
        run filtered by type as well is counted row by row).
        """
        items, total, _ = self.find(LogFilter(event_type, status, run_id), limit=limit, offset=offset)
        return items, total

    def find(self, f: LogFilter, *, limit: int = 50, offset: int = 0,
             order: str = "desc") -> tuple[list[dict], int, bool]:
        """A page of the deliveries that match `f` (log_query.py), newest first or (order
        "asc") oldest first, the total, and whether that total is exact (else "more than")."""
        problem = None
        with self.database.reader() as db:
            try:
                if f.kept_count():
                    total, exact = self._total(db, f.event_type, f.status, f.run_id), True
                else:
                    total, exact = log_query.count_capped(db, f)
                # A class of codes by its index when its matches are few (their page is sorted);
                # by the id order when they are many (a page is found within the first rows).
                rows = log_query.page(db, f, limit, offset, order, sparse=exact)
            except sqlite3.OperationalError as exc:
                problem = _search_problem(exc)  # the search's own (not the file's): said, not "storage down"
        if problem is not None:
            raise BadSearch(problem)
        return [_delivery_dict(r) for r in rows], total, exact

    def find_ids(self, f: LogFilter, limit: int) -> tuple[list[int], int, bool]:
        """The ids of the newest `limit` matches of `f`, newest first, the total and whether it is exact."""
        problem = None
        with self.database.reader() as db:
            try:
                total, exact = log_query.count_capped(db, f, max(limit, log_query.COUNT_CAP))
                return log_query.ids(db, f, limit, sparse=exact), total, exact
            except sqlite3.OperationalError as exc:
                problem = _search_problem(exc)
        raise BadSearch(problem)

    def redeliveries(self, delivery_id: int, limit: int = 100) -> list[dict]:
        """The redeliveries made of a delivery, oldest first: {id, status, created}."""
        with self.database.reader() as db:
            rows = db.execute("SELECT id, status, created FROM deliveries WHERE redelivery_of = ? ORDER BY id"
                              " LIMIT ?", (delivery_id, limit)).fetchall()
        return [{"id": r[0], "status": r[1], "created": r[2]} for r in rows]

    @staticmethod
    def _total(db, event_type, status, run_id) -> int:
        if run_id:
            table, where = "run_counts", [("run_id", run_id), ("status", status)]
        else:
            table, where = "delivery_counts", [("type", event_type), ("status", status)]
        kept = [(c, v) for c, v in where if v]
        sql = f"SELECT coalesce(sum(n), 0) FROM {table}"
        if kept:
            sql += " WHERE " + " AND ".join(f"{c} = ?" for c, _ in kept)
        return db.execute(sql, [v for _, v in kept]).fetchone()[0]

    def run_counts(self, run_id: str) -> dict[str, int]:
        """Deliveries of a run by status (kept as they change: no scan)."""
        with self.database.reader() as db:
            rows = db.execute("SELECT status, n FROM run_counts WHERE run_id=?", (run_id,)).fetchall()
        return _by_status(rows)

    def counts(self) -> dict[str, int]:
        """How many deliveries are in each status (kept as they change: no scan)."""
        with self.database.reader() as db:
            rows = db.execute("SELECT status, sum(n) FROM delivery_counts GROUP BY status").fetchall()
        return _by_status(rows)

    def attempts_sending(self, body: bytes, since: float, until: float, scan: int = 100_000) -> list[dict]:
        """The attempts started between `since` and `until` whose delivery's body is exactly
        `body`, newest first: who sent a request a subscriber received. Only the latest `scan`
        attempts are looked at (a walk of the primary key), so the cost stays flat at any size."""
        with self.database.reader() as db:
            rows = db.execute(
                "SELECT a.delivery_id, a.number, a.started, a.url FROM attempts a"
                " JOIN deliveries d ON d.id = a.delivery_id"
                " WHERE a.id > (SELECT coalesce(max(id), 0) FROM attempts) - ? AND a.started BETWEEN ? AND ?"
                " AND d.body = ? ORDER BY a.id DESC LIMIT 20", (scan, since, until, body)).fetchall()
        return [{"delivery_id": r[0], "number": r[1], "started": r[2], "url": r[3]} for r in rows]

    def recent_attempts(self, last: int = 500) -> list[tuple]:
        """(url, status code, error class, latency ms, started) of the latest attempts, newest first."""
        with self.database.reader() as db:
            return [tuple(r) for r in db.execute("SELECT url, status_code, error_class, latency_ms, started"
                                                 " FROM attempts ORDER BY id DESC LIMIT ?", (last,))]


def _search_problem(exc: sqlite3.OperationalError) -> str:
    """The words of an FTS5 refusal of a search; any other failure is the file's, raised as is."""
    if not str(exc).startswith("fts5:"):
        raise exc
    return f"q: cannot be searched ({str(exc)[6:]})"


def _chaos_text(note: dict | None, first: int) -> str | None:
    """What chaos did to a new delivery, as stored: the batch indexes it names made ids."""
    if not note:
        return None
    note = dict(note)
    for key in ("duplicate_of", "duplicated_as"):
        if f"{key}_row" in note:
            note[key] = first + note.pop(f"{key}_row")
    return json.dumps(note)


def _by_status(rows) -> dict[str, int]:
    out = {s: 0 for s in statuses.STATUSES}
    out.update({r[0]: r[1] for r in rows if r[0] in out})
    return out


def _delivery_dict(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"], "event_type": row["type"], "status": row["status"],
        "url": row["url"], "headers": json.loads(row["headers"]), "attempts": row["attempts"],
        "next_attempt_at": row["due"], "created": row["created"], "finished": row["finished"],
        "last_status_code": row["last_status_code"], "last_error": row["last_error"],
        "redelivery_of": row["redelivery_of"], "run_id": row["run_id"], "valid": bool(row["valid"]),
        "last_error_class": row["last_error_class"],
        "chaos": json.loads(row["chaos"]) if row["chaos"] else None,
        "policy": row["policy"], "content_type": row["content_type"], "redirect_headers": row["redirect_headers"],
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
