"""Rows out of SQLite and into OData JSON: SELECT, COUNT, ``$expand``, rendering.

Expansions are batched: one query per navigation per page of parents
(``WHERE OrderId IN (...)``), never one per row, so ``Orders?$expand=Items`` over 500 orders
is two queries. Nested ``$top``/``$skip`` apply per parent, after grouping. Rows are dicts of
column -> stored value while they travel; ``render`` turns them into the served shape: every
selected property in model order with its version's spelling, Booleans as true/false, then
the expanded navigations (arrays, or an object or null).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Iterable

from mock_norce.world.model import EntityType, Namespace, wire_name
from mock_norce.world.query_options import Options

_CHUNK = 300  # parent keys per expansion query (x columns stays under SQLite's variable limit)
_NAV = "@nav"  # where a row keeps its expansions (no column can have this name)
_CONVERT = {"Boolean": bool, "Int32": int, "Int64": int, "Decimal": float, "Double": float}


def where_sql(conditions: Iterable[str]) -> str:
    parts = [c for c in conditions if c]
    return (" WHERE " + " AND ".join(parts)) if parts else ""


def columns(entity: EntityType, options: Options, extra: Iterable[str] = ()) -> list[str]:
    """The columns to read: the served properties, the key, the columns expansions join on."""
    wanted = list(options.select or entity.properties) + list(entity.key) + list(extra)
    for e in options.expand:
        wanted.extend(e.navigation.local)
    return list(dict.fromkeys(wanted))


def fetch(conn: sqlite3.Connection, entity: EntityType, conditions: list[str], params: list,
          options: Options, *, limit: int | None = None, offset: int = 0,
          extra: Iterable[str] = ()) -> list[dict]:
    cols = columns(entity, options, extra)
    order = ", ".join(f'"{name}"' + (" DESC" if desc else "") for name, desc in options.orderby)
    sql = (f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM \"{entity.table}\""
           f"{where_sql(conditions)} ORDER BY {order}")
    args = list(params)
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        args += [limit, offset]
    elif offset:
        sql += " LIMIT -1 OFFSET ?"
        args.append(offset)
    return [dict(zip(cols, row)) for row in conn.execute(sql, args)]


def count(conn: sqlite3.Connection, entity: EntityType, conditions: list[str], params: list) -> int:
    sql = f'SELECT count(*) FROM "{entity.table}"{where_sql(conditions)}'
    return conn.execute(sql, list(params)).fetchone()[0]


def match(cols: tuple[str, ...], keys: list[tuple]) -> tuple[str, list]:
    """SQL matching rows whose ``cols`` equal one of ``keys``: an IN list for one column, an OR
    of ANDs for several (SQLite serves each branch from the index)."""
    if len(cols) == 1:
        return f'"{cols[0]}" IN ({", ".join("?" for _ in keys)})', [k[0] for k in keys]
    one = "(" + " AND ".join(f'"{c}" = ?' for c in cols) + ")"
    return "(" + " OR ".join(one for _ in keys) + ")", [v for k in keys for v in k]


def expand(conn: sqlite3.Connection, ns: Namespace, rows: list[dict], options: Options) -> None:
    """Attach every ``$expand`` of ``options`` to ``rows`` (recursively), a query per navigation."""
    for e in options.expand:
        nav, target, sub = e.navigation, e.target, e.options
        keys = list(dict.fromkeys(tuple(row[c] for c in nav.local) for row in rows))
        keys = [k for k in keys if None not in k]
        children: list[dict] = []
        for start in range(0, len(keys), _CHUNK):
            cond, params = match(nav.remote, keys[start:start + _CHUNK])
            conditions = [cond] + ([sub.filter[0]] if sub.filter else [])
            params += list(sub.filter[1]) if sub.filter else []
            children += fetch(conn, target, conditions, params, sub, extra=nav.remote)
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for child in children:
            groups[tuple(child[c] for c in nav.remote)].append(child)
        kept: list[dict] = []
        for row in rows:
            group = groups.get(tuple(row[c] for c in nav.local), [])
            if nav.many:
                end = None if sub.top is None else sub.skip + sub.top
                page = group[sub.skip:end]
                row.setdefault(_NAV, {})[nav.name] = (page, len(group))
                kept.extend(page)
            else:
                row.setdefault(_NAV, {})[nav.name] = (group[0] if group else None, None)
                kept.extend(group[:1])
        if sub.expand and kept:
            unique = list({id(r): r for r in kept}.values())
            expand(conn, ns, unique, sub)


def render(entity: EntityType, row: dict, options: Options, version: str) -> dict:
    out: dict = {}
    for name in options.select or entity.properties:
        value = row[name]
        convert = _CONVERT.get(entity.properties[name].type)
        out[wire_name(name, version)] = value if value is None or convert is None else convert(value)
    for e in options.expand:
        key = wire_name(e.navigation.name, version)
        value, total = row[_NAV][e.navigation.name]
        if e.navigation.many:
            if e.options.count:
                out[key + "@odata.count"] = total
            out[key] = [render(e.target, child, e.options, version) for child in value]
        else:
            out[key] = None if value is None else render(e.target, value, e.options, version)
    return out
