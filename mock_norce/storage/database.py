"""The SQLite file: opening it, its schema and migrations, and turning its failures into words.

One connection writes (SQLite has one writer anyway), under a lock; reads use a small pool of
their own connections, so in WAL mode a read never waits for the writer nor the writer for
a read. An in-memory database cannot be shared between connections, so there reads go
through the writer's connection and lock.

Counts of deliveries by (type, status) and by (run, status) are kept by triggers as rows
change, so the API's totals and figures cost the same at a million deliveries as at ten.
Every index matches a filter the API or UI offers; ``deliveries_due`` is the queue: the
dispatcher reads the next window of due deliveries from it instead of holding all of them
in memory.

Failures of the file (disk full, locked by another process, read-only, damaged) become a
``StorageUnavailable`` with one clear sentence, handed to ``on_failure`` (the engine's
health, which logs it once a minute while it lasts).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from mock_norce.errors import DataDirUnwritable, StorageUnavailable
from mock_norce.storage.schema import (SCHEMA_VERSION, TABLES, VERSION_2, VERSION_3, VERSION_3_COLUMN, VERSION_4,
                                       VERSION_4_COLUMNS, VERSION_4_SENDING)

log = logging.getLogger("mock_norce.storage")
PROBE_HEADROOM = 1 << 20  # bytes free on the disk before the storage counts as writable again

_READ_POOL = 8  # idle read connections kept


def reason(exc: BaseException, path: str) -> str:
    """One sentence on why the database failed, for the log, the API and the CLI."""
    text = str(exc)
    low = text.lower()
    if "full" in low:
        return f"the disk holding {path} is full ({text})"
    if "locked" in low or "busy" in low:
        return f"another process holds the write lock of {path} ({text})"
    if "readonly" in low or "read-only" in low:
        return f"{path} is read-only ({text}): mock-norce needs to write it"
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return f"{path} is damaged ({text}): move it away or restore a copy"
    if "unable to open" in low:
        return f"cannot open {path} ({text}): check the directory exists and is writable"
    return f"{path} failed: {text}"


def check_writable(path: str | Path) -> None:
    """Make the database's directory, then prove this process can write there and can write
    the files already in it (the database, its WAL and shared memory, the engine lock).

    Otherwise a DataDirUnwritable naming the path and this process's uid and gid: in a
    container the user (``docker run --user``, OpenShift's arbitrary uid) is the usual cause,
    and SQLite's own "unable to open database file" names neither.
    """
    path = Path(path)
    directory = path.parent
    who = f"uid {os.getuid()}, gid {os.getgid()}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # Create a real file rather than ask os.access(): that answers for the real uid and
        # knows nothing of ACLs or root-squashed NFS, and root passes it on any mode (root
        # still fails here on a read-only mount). SQLite creates files there next anyway.
        fd, probe = tempfile.mkstemp(prefix=".mock-norce-write-test-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DataDirUnwritable(f"cannot write the data directory {directory} ({who}): {exc.strerror or exc}; "
                                "mount a volume writable by this user or set MOCK_NORCE_DATA_DIR") from None
    for name in (str(path), f"{path}-wal", f"{path}-shm", f"{path}.lock"):
        try:
            st = os.stat(name)
        except OSError:
            continue  # not made yet: the directory is writable, so it can be
        if not os.access(name, os.R_OK | os.W_OK):
            # A file left by another user, e.g. an earlier container with another --user.
            raise DataDirUnwritable(
                f"cannot write {name} ({who}): it belongs to uid {st.st_uid}, gid {st.st_gid}, mode "
                f"{stat.S_IMODE(st.st_mode):o}; run as that user, or make it writable by this one")


class Database:
    """The connections to one SQLite file and the translation of its failures."""

    def __init__(self, path: str | Path, on_failure=None, on_recovery=None, *, log_tables: bool = True,
                 cache_kib: int | None = None):
        self.path = str(path)
        self.log_tables = log_tables  # False: a file of other tables (the world's), made by their owner
        self.cache_kib = cache_kib  # the writer's page cache, when SQLite's 2 MB is too small
        self.memory = self.path == ":memory:"
        self.lock = threading.RLock()
        self._on_failure = on_failure or (lambda message: log.error("storage unavailable: %s", message))
        self._on_recovery = on_recovery or (lambda: None)
        # Down from a failed write until the probe succeeds: a small write that still fits
        # on a nearly full disk (an attempt's result) must not declare the storage well
        # while the events, which write more, are still refused.
        self._down = False
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        try:
            if not self.memory:
                check_writable(self.path)
            self.db = self._connect()
            self._prepare()
        except sqlite3.DatabaseError as exc:
            raise StorageUnavailable(f"cannot use the database: {reason(exc, self.path)}") from None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    def _prepare(self) -> None:
        db = self.db
        if not self.memory:
            # A quick check of the whole file: a damaged page found now is one clear line at
            # start, not a wrong answer or a dead thread an hour later.
            # Its rows can span lines ("*** in database main ***\nPage 143: ..."): one line each.
            problems = [" ".join(str(r[0]).split()) for r in db.execute("PRAGMA quick_check(5)").fetchall()]
            if problems != ["ok"]:
                raise StorageUnavailable(f"{self.path} is damaged ({'; '.join(problems)}): "
                                         "move it away or restore a copy")
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a crash of this process (kill -9); only
        # power loss can undo the last commits.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        if self.cache_kib is not None:
            db.execute(f"PRAGMA cache_size=-{int(self.cache_kib)}")
        if not self.log_tables:
            db.execute("PRAGMA user_version=1")  # a write at start: a read-only file is refused now
            return
        db.executescript(TABLES)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION:
            # Each step from the file's version on, all in one transaction: a file is never
            # left half migrated.
            columns = {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}
            v3 = ("" if "last_error_class" in columns else VERSION_3_COLUMN) + VERSION_3
            v4 = "".join(sql for table, sql in VERSION_4_COLUMNS.items()
                         if "chaos" not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")})
            v4 += "".join(sql for column, sql in VERSION_4_SENDING.items() if column not in columns) + VERSION_4
            steps = [VERSION_2] * (version < 2) + [v3] * (version < 3) + [v4] * (version < 4)
            if version < 3:
                # Version 3 indexes every payload for the log's search, which takes a while for
                # a big log: the start says why it is slow instead of looking hung.
                count = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
                if count:
                    log.warning("migrating %s from version %d to %d: indexing %d deliveries for search ...",
                                self.path, version, SCHEMA_VERSION, count)
            db.executescript("BEGIN;" + "".join(steps) + f"PRAGMA user_version={SCHEMA_VERSION};COMMIT;")
        else:
            # A write at start: a read-only file is refused now, with one line, not at the
            # first event.
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    # --- writing -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN ... COMMIT on the writer under its lock; a failure rolls back and is explained."""
        with self.lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    yield self.db
                    self.db.execute("COMMIT")
                except BaseException:
                    if self.db.in_transaction:
                        self.db.execute("ROLLBACK")
                    raise
            except sqlite3.DatabaseError as exc:
                raise self._failed(exc) from None
        if not self._down:
            self._on_recovery()

    @contextmanager
    def writer(self) -> Iterator[sqlite3.Connection]:
        """The writer connection for one statement outside a transaction."""
        with self.lock:
            try:
                yield self.db
            except sqlite3.DatabaseError as exc:
                raise self._failed(exc) from None

    # --- reading -------------------------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads that never waits for the writer (WAL)."""
        if self.memory:
            with self.writer() as conn:
                yield conn
            return
        with self._readers_lock:
            conn = self._readers.pop() if self._readers else None
        try:
            if conn is None:
                conn = self._connect()
                conn.execute("PRAGMA query_only=1")
                conn.execute("PRAGMA cache_size=-256")  # 256 kB each: reads are small pages of the log
            yield conn
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            conn = None
            raise self._failed(exc) from None
        finally:
            if conn is not None:
                with self._readers_lock:
                    if len(self._readers) < _READ_POOL and not self._closed:
                        self._readers.append(conn)
                        conn = None
                if conn is not None:
                    conn.close()

    # --- failures ------------------------------------------------------------------------

    def probe(self) -> bool:
        """Try one small write (while the storage is down): True, and recovered, if it worked.

        Its own connection with a short busy timeout, so a lock held elsewhere does not hold
        up the caller; a real write, so a full disk is not mistaken for a free one.
        """
        if self.memory:
            self._down = False
            return True
        try:
            free = os.statvfs(Path(self.path).parent)
            if free.f_bavail * free.f_frsize < PROBE_HEADROOM:
                return False  # a write may fit, but an event with its world would not
        except OSError:
            pass
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=0.1)
            try:
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            return False
        self._down = False
        self._on_recovery()
        return True

    def _failed(self, exc: sqlite3.DatabaseError) -> StorageUnavailable:
        message = reason(exc, self.path)
        self._down = True
        self._on_failure(message)  # the engine's health logs it, once a minute while it lasts
        return StorageUnavailable(message)

    def close(self) -> None:
        with self._readers_lock:
            self._closed = True
            readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()
        with self.lock:
            self.db.close()
