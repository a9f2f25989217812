"""The SQLite tables behind the Query API: one per entity type, DDL derived from the model.

The model is the only description of the tables, so the DDL is generated, not written: a
property added to the YAML is a column on the next start (CREATE TABLE IF NOT EXISTS does not
alter an existing table; a changed model needs a fresh world). Storage choices, for the reads
the Query API does:

* a single integer key is the rowid (``INTEGER PRIMARY KEY``): key lookups are one b-tree probe;
* text or composite keys are ``PRIMARY KEY(...) WITHOUT ROWID``: the rows are clustered by key,
  so ``ProductSkuPriceLists`` of one PartNo sit together (unless a key column is nullable,
  which WITHOUT ROWID forbids);
* DateTimeOffset is ISO-8601 UTC text ``YYYY-MM-DDTHH:MM:SSZ``, so text order is time order and
  ``$filter``/``$orderby`` on dates work on the column as stored; Booleans are 0/1, Guids
  lower-case text;
* besides the model's ``indexes``, every navigation's remote columns are indexed (e.g.
  ``w_order_items(OrderId)``) so ``$expand`` is an index lookup, never a scan.
"""

from __future__ import annotations

import sqlite3

from mock_norce.world.model import EntityType, Model

SQL_TYPE = {"Int32": "INTEGER", "Int64": "INTEGER", "Boolean": "INTEGER", "Decimal": "REAL",
            "Double": "REAL", "String": "TEXT", "Guid": "TEXT", "DateTimeOffset": "TEXT"}


def table_ddl(entity: EntityType) -> str:
    """CREATE TABLE IF NOT EXISTS for one entity type."""
    lines = []
    rowid_key = (len(entity.key) == 1 and entity.properties[entity.key[0]].type in ("Int32", "Int64"))
    for prop in entity.properties.values():
        line = f'"{prop.name}" {SQL_TYPE[prop.type]}'
        if rowid_key and prop.name == entity.key[0]:
            line += " PRIMARY KEY"
        elif not prop.nullable:
            line += " NOT NULL"
        lines.append(line)
    for col, sql in entity.internal.items():
        lines.append(f'"{col}" {sql}')
    tail = ""
    if not rowid_key:
        lines.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in entity.key) + ")")
        if not any(entity.properties[k].nullable for k in entity.key):
            tail = " WITHOUT ROWID"
    return f'CREATE TABLE IF NOT EXISTS "{entity.table}" (\n  ' + ",\n  ".join(lines) + f"\n){tail}"


def index_columns(model: Model) -> dict[str, list[tuple[str, ...]]]:
    """table -> the column lists to index: the model's ``indexes`` and every navigation's remote
    columns, less those the primary key already serves (a prefix of it) and duplicates."""
    wanted: dict[str, list[tuple[str, ...]]] = {}
    for ns in model.namespaces.values():
        for entity in ns.types.values():
            wanted.setdefault(entity.table, []).extend(entity.indexes)
            for nav in entity.navigation.values():
                target = ns.types[nav.target]
                wanted.setdefault(target.table, []).append(nav.remote)
    keys = {e.table: e.key for ns in model.namespaces.values() for e in ns.types.values()}
    out: dict[str, list[tuple[str, ...]]] = {}
    for table, lists in wanted.items():
        kept: list[tuple[str, ...]] = []
        for cols in lists:
            if keys[table][:len(cols)] == cols or cols in kept:
                continue
            kept.append(cols)
        out[table] = kept
    return out


def create_tables(conn: sqlite3.Connection, model: Model) -> None:
    """Create every table and index of the model that does not exist yet (idempotent).

    Inside the caller's transaction when one is open (the caller commits); else committed here.
    """
    started = not conn.in_transaction
    for ns in model.namespaces.values():
        for entity in ns.types.values():
            conn.execute(table_ddl(entity))
    for table, lists in index_columns(model).items():
        for cols in lists:
            name = f"ix_{table}_" + "_".join(c.strip("_") for c in cols)
            conn.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ('
                         + ", ".join(f'"{c}"' for c in cols) + ")")
    if started and conn.in_transaction:
        conn.commit()


def clear_tables(conn: sqlite3.Connection, model: Model) -> None:
    """Delete every row of every table of the model (the tables stay). Transactions as in
    create_tables."""
    started = not conn.in_transaction
    for ns in model.namespaces.values():
        for entity in ns.types.values():
            conn.execute(f'DELETE FROM "{entity.table}"')
    if started and conn.in_transaction:
        conn.commit()
