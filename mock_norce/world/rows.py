"""Writing entity rows into their tables: one prepared INSERT per (entity type, columns).

Rows are dicts keyed by property name (the tables' column names, see fixtures/query-model.yaml);
an existing key is left as it is (``INSERT OR IGNORE``): an entity is made once, then changed
by UPDATEs that say what changed.
"""

from __future__ import annotations

import sqlite3


class Rows:
    def __init__(self, tables: dict[str, str]):
        self.tables = tables  # entity type name -> table
        self._sql: dict[tuple, str] = {}

    def _insert_sql(self, type_name: str, columns: tuple[str, ...]) -> str:
        key = (type_name, columns)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = (f"INSERT OR IGNORE INTO {self.tables[type_name]} ({', '.join(columns)})"
                                    f" VALUES ({', '.join('?' * len(columns))})")
        return sql

    def insert(self, db: sqlite3.Connection, type_name: str, row: dict) -> None:
        row = {k: v for k, v in row.items() if v is not None}  # a column left out is NULL
        db.execute(self._insert_sql(type_name, tuple(row)), tuple(row.values()))

    def insert_all(self, db: sqlite3.Connection, entities: dict[str, list[dict]]) -> None:
        """Every row of a new entity ({type: [row, ...]}), one executemany per type and set of
        columns. NULLs are left out rather than bound: a new order binds a third fewer values."""
        for type_name, rows in entities.items():
            groups: dict[tuple, list] = {}
            for row in rows:
                present = {k: v for k, v in row.items() if v is not None}
                groups.setdefault(tuple(present), []).append(tuple(present.values()))
            for columns, values in groups.items():
                db.executemany(self._insert_sql(type_name, columns), values)
