"""The tables of the SQLite file, and the migration of each older version (``PRAGMA user_version``).

Version 1 is the tables; version 2 adds the queue index (``deliveries_due``), an index for
every filter the API offers, and the per-(type, status) and per-(run, status) counts kept by
triggers, so totals cost the same at a million deliveries as at ten. Version 3 adds what the
log's search and its new filters read: the last attempt's error class, an index each for the
last status code, that error class and a delivery's redeliveries, and ``delivery_search``, an
FTS5 index of every value in each payload (filled by a trigger, so every way a delivery is
written is covered, and backfilled for a file of an older version). Version 4 adds what
chaos did to a delivery (``deliveries.chaos``, JSON, NULL when it did nothing), with an index
for the log's chaos filter, a run's chaos spec (``runs.chaos``), and how each delivery is
sent, fixed when it is created: the retry policy (``current``/``legacy``), the Content-Type
and the redirect header rule; older rows get today's defaults.
"""

SCHEMA_VERSION = 4

TABLES = """
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
    redelivery_of INTEGER,
    policy TEXT NOT NULL DEFAULT 'current',
    content_type TEXT NOT NULL DEFAULT 'application/json',
    redirect_headers TEXT NOT NULL DEFAULT 'origin'
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

# Version 2: the queue index, filter indexes, and counts kept by triggers.
DELETE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS deliveries_counted_out AFTER DELETE ON deliveries BEGIN
    UPDATE delivery_counts SET n = n - 1 WHERE type = old.type AND status = old.status;
    UPDATE run_counts SET n = n - 1 WHERE old.run_id IS NOT NULL AND run_id = old.run_id AND status = old.status;
END;
"""
VERSION_2 = """
DROP INDEX IF EXISTS deliveries_run;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(due, id) WHERE due IS NOT NULL;
CREATE INDEX IF NOT EXISTS deliveries_type ON deliveries(type, id);
CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries(status, id);
CREATE INDEX IF NOT EXISTS deliveries_run_id ON deliveries(run_id, id) WHERE run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_started ON runs(started);
CREATE TABLE IF NOT EXISTS delivery_counts (
    type TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (type, status)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_counts (
    run_id TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (run_id, status)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS deliveries_counted_in AFTER INSERT ON deliveries BEGIN
    INSERT INTO delivery_counts(type, status, n) VALUES (new.type, new.status, 1)
        ON CONFLICT(type, status) DO UPDATE SET n = n + 1;
    INSERT INTO run_counts(run_id, status, n) SELECT new.run_id, new.status, 1 WHERE new.run_id IS NOT NULL
        ON CONFLICT(run_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS deliveries_counted_move AFTER UPDATE OF status ON deliveries
WHEN old.status IS NOT new.status BEGIN
    UPDATE delivery_counts SET n = n - 1 WHERE type = old.type AND status = old.status;
    INSERT INTO delivery_counts(type, status, n) VALUES (new.type, new.status, 1)
        ON CONFLICT(type, status) DO UPDATE SET n = n + 1;
    UPDATE run_counts SET n = n - 1 WHERE new.run_id IS NOT NULL AND run_id = new.run_id AND status = old.status;
    INSERT INTO run_counts(run_id, status, n) SELECT new.run_id, new.status, 1 WHERE new.run_id IS NOT NULL
        ON CONFLICT(run_id, status) DO UPDATE SET n = n + 1;
END;
""" + DELETE_TRIGGER + """
DELETE FROM delivery_counts;
DELETE FROM run_counts;
INSERT INTO delivery_counts SELECT type, status, count(*) FROM deliveries GROUP BY type, status;
INSERT INTO run_counts SELECT run_id, status, count(*) FROM deliveries WHERE run_id IS NOT NULL GROUP BY run_id, status;
"""

# Version 3: search over payload values, and the filters by outcome and by origin.
# Each payload value is one token: '-', '.', '@', '+', ':', '/' and '_' are part of tokens, so
# an OrderNo (SO-1366008), an e-mail or a decimal matches whole; a name's words match each.
# detail=none: no positions are kept (no phrase queries), which keeps the index small.
SEARCH_TABLE = """
CREATE VIRTUAL TABLE IF NOT EXISTS delivery_search USING fts5(
    terms, tokenize="unicode61 tokenchars '-.@+:/_'", detail=none);
"""
# The scalar values of a body that is JSON (a body that is not is simply not searchable).
_TERMS = ("(SELECT group_concat(atom, ' ') FROM json_tree(CASE WHEN json_valid(CAST({b} AS TEXT))"
          " THEN CAST({b} AS TEXT) ELSE '{{}}' END) WHERE type IN ('text', 'integer', 'real'))")
SEARCH_DELETE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS deliveries_unsearchable AFTER DELETE ON deliveries BEGIN
    DELETE FROM delivery_search WHERE rowid = old.id;
END;
"""
# Added by database.py when missing: a file that an older mock-norce opened after a newer one
# has the column but says version 2 (the older one writes its own version at start).
VERSION_3_COLUMN = "ALTER TABLE deliveries ADD COLUMN last_error_class TEXT;"
VERSION_3 = """
UPDATE deliveries SET last_error_class = (SELECT error_class FROM attempts WHERE delivery_id = deliveries.id
                                          ORDER BY id DESC LIMIT 1)
    WHERE last_error IS NOT NULL AND last_status_code IS NULL;
CREATE INDEX IF NOT EXISTS deliveries_last_code ON deliveries(last_status_code, id)
    WHERE last_status_code IS NOT NULL;
CREATE INDEX IF NOT EXISTS deliveries_last_error_class ON deliveries(last_error_class, id)
    WHERE last_error_class IS NOT NULL;
CREATE INDEX IF NOT EXISTS deliveries_redelivery_of ON deliveries(redelivery_of, id)
    WHERE redelivery_of IS NOT NULL;
""" + SEARCH_TABLE + """
CREATE TRIGGER IF NOT EXISTS deliveries_searchable AFTER INSERT ON deliveries BEGIN
    INSERT INTO delivery_search(rowid, terms) VALUES (new.id, """ + _TERMS.format(b="new.body") + """);
END;
""" + SEARCH_DELETE_TRIGGER + """
DELETE FROM delivery_search;
INSERT INTO delivery_search(rowid, terms) SELECT id, """ + _TERMS.format(b="body") + """ FROM deliveries;
"""

# Version 4: seeded sender-side chaos (delivery/chaos.py), recorded so a user can tell it from
# their endpoint's own failures. Each column added only when missing (as for version 3).
VERSION_4_COLUMNS = {
    "deliveries": "ALTER TABLE deliveries ADD COLUMN chaos TEXT;",
    "runs": "ALTER TABLE runs ADD COLUMN chaos TEXT;",
}
VERSION_4 = """
CREATE INDEX IF NOT EXISTS deliveries_chaos ON deliveries(id) WHERE chaos IS NOT NULL;
"""
# Version 4: how a delivery is sent (its policy, Content-Type and redirect header rule), kept
# with it so a change of its subscription does not reach a delivery in flight. Old rows were
# all sent the one way there was: the defaults. (Added by database.py per missing column.)
VERSION_4_SENDING = {
    "policy": "ALTER TABLE deliveries ADD COLUMN policy TEXT NOT NULL DEFAULT 'current';",
    "content_type": "ALTER TABLE deliveries ADD COLUMN content_type TEXT NOT NULL DEFAULT 'application/json';",
    "redirect_headers": "ALTER TABLE deliveries ADD COLUMN redirect_headers TEXT NOT NULL DEFAULT 'origin';",
}
