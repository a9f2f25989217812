"""Finding deliveries in the log: the filters of the API and the UI, the payload search, paging.

Every filter reads an index, so a page costs about the same at a million deliveries as at a
hundred: type, status and run have theirs (version 2); the last status code, the last error
class and the origin of a redelivery theirs (version 3); the search reads ``delivery_search``
(FTS5, every payload value a token, filled by a trigger). A time range becomes a range of ids
(ids grow with time), found by a binary search of about twenty point reads.

Totals: the counts kept by triggers answer the filters they cover exactly; any other filter is
counted up to ``COUNT_CAP`` and then reported as "more than" (as GitHub and Stripe do), so a
filter that matches most of a million rows does not cost a scan of them all.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass

from mock_norce.limits import LOG_COUNT_CAP

COUNT_CAP = LOG_COUNT_CAP  # matches counted one by one before a total is reported as "more than"
_CODE_CLASS = re.compile(r"\A([1-5])xx\Z")


@dataclass(frozen=True)
class LogFilter:
    """Which deliveries: every field None (or empty) matches all. ``code`` is a status code
    (500) or a class of them ("5xx"); ``since``/``until`` bound ``created`` (epoch seconds,
    inclusive); ``q`` is words that must each be a value (or a word of one) in the payload,
    a trailing ``*`` making one a prefix."""

    event_type: str | None = None
    status: str | None = None
    run_id: str | None = None
    q: str | None = None
    code: str | None = None
    error_class: str | None = None
    since: float | None = None
    until: float | None = None
    redelivery_of: int | None = None
    chaos: bool | None = None  # True: only deliveries chaos did something to; False: only the others

    def kept_count(self) -> bool:
        """Whether the counts kept by triggers answer this filter's total."""
        extra = (self.q, self.code, self.error_class, self.since, self.until, self.redelivery_of, self.chaos)
        return all(v is None or v == "" for v in extra) and not (self.run_id and self.event_type)


TOKEN_CHARS = "-.@+:/_"  # besides letters and digits: schema.py's tokenizer keeps these in a token


def _token_char(ch: str) -> bool:
    # unicode61's token characters: letters, numbers, private use (L*, N*, Co), and ours.
    return ch in TOKEN_CHARS or unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "Co"


def match_expression(q: str | None) -> str | None:
    """An FTS5 query of the words of `q`: each word split as the index's tokenizer splits values,
    each token quoted (what a user types is never FTS5 syntax, and never a phrase, which an
    index without positions cannot answer); None when there is no token at all."""
    tokens = []
    for word in (q or "").split():
        prefix = word.endswith("*")
        parts = "".join(ch if _token_char(ch) else " " for ch in word.rstrip("*")).split()
        for i, part in enumerate(parts):
            if not any(ch.isalnum() for ch in part):
                continue
            last = i == len(parts) - 1
            tokens.append('"' + part.replace('"', '""') + '"' + ("*" if prefix and last else ""))
    return " ".join(tokens) if tokens else None


def code_range(code: str | None) -> tuple[int, int] | None:
    """(lowest, highest) status code of "500" or "5xx"; ValueError for anything else."""
    if code is None or code == "":
        return None
    text = str(code).lower()
    m = _CODE_CLASS.match(text)
    if m:
        return int(m.group(1)) * 100, int(m.group(1)) * 100 + 99
    if text.isascii() and text.isdigit() and 100 <= int(text) <= 599:
        return int(text), int(text)
    raise ValueError(f"a status code (100-599) or a class such as 5xx, got {code!r:.40}")


def _id_at(db: sqlite3.Connection, t: float, lo: int, hi: int, after: bool = False) -> int:
    """The smallest id in [lo, hi + 1] whose delivery was created at or after `t` (with
    ``after``: strictly after it); hi + 1 when there is none.

    A binary search by point reads on the primary key: ids grow with time, and holes (pruned
    rows) are stepped over by reading the next id that exists."""
    while lo <= hi:
        mid = (lo + hi) // 2
        row = db.execute("SELECT id, created FROM deliveries WHERE id >= ? ORDER BY id LIMIT 1", (mid,)).fetchone()
        if row is None or row[0] > hi:
            hi = mid - 1
        elif row[1] > t or (row[1] == t and not after):
            hi = mid - 1
        else:
            lo = row[0] + 1
    return lo


def where(db: sqlite3.Connection, f: LogFilter, *, sparse_index: bool) -> tuple[list[str], list, str | None]:
    """(conditions, arguments, FTS5 expression or None) for a filter, on ``deliveries`` as d.

    ``sparse_index``: use the status-code index for a class of codes (a range, so the page has
    to be sorted: good for a few thousand matches, not for half the log)."""
    conds, args = [], []
    for column, value in (("d.type", f.event_type), ("d.status", f.status), ("d.run_id", f.run_id),
                          ("d.last_error_class", f.error_class), ("d.redelivery_of", f.redelivery_of)):
        if value is not None and value != "":
            conds.append(f"{column} = ?")
            args.append(value)
    if f.chaos is not None:
        conds.append("d.chaos IS NOT NULL" if f.chaos else "d.chaos IS NULL")  # the first by its index (v4)
    codes = code_range(f.code)
    if codes is not None:
        if codes[0] == codes[1]:
            conds.append("d.last_status_code = ?")
            args.append(codes[0])
        else:
            column = "d.last_status_code" if sparse_index else "+d.last_status_code"  # +: not by index
            conds.append(f"{column} BETWEEN ? AND ?")
            args.extend(codes)
    if f.since is not None or f.until is not None:
        # Two statements: min and max together are a scan, each alone one step of the b-tree.
        lo = db.execute("SELECT min(id) FROM deliveries").fetchone()[0] or 0
        hi = db.execute("SELECT max(id) FROM deliveries").fetchone()[0] or 0
        first = _id_at(db, f.since, lo, hi) if f.since is not None else lo
        last = _id_at(db, f.until, lo, hi, after=True) - 1 if f.until is not None else hi
        # The id range is where the time range lies; created is checked as well, for the rows
        # at its edges should the clock have stepped back.
        conds.append("d.id BETWEEN ? AND ?")
        args.extend((first, last))
        if f.since is not None:
            conds.append("d.created >= ?")
            args.append(f.since)
        if f.until is not None:
            conds.append("d.created <= ?")
            args.append(f.until)
    return conds, args, match_expression(f.q)


def select(f: LogFilter, conds: list[str], expr: str | None, what: str, order: str | None) -> str:
    """The SELECT of `what` over the filtered log, newest first (order "desc"), oldest first
    ("asc") or in no order (None: a count, which must not sort what it counts)."""
    direction = "ASC" if order == "asc" else "DESC"
    if expr is not None:
        # The FTS5 table drives: it returns its rowids (delivery ids) in order, without a sort.
        sql = f"SELECT {what} FROM delivery_search s JOIN deliveries d ON d.id = s.rowid WHERE delivery_search MATCH ?"
        sql += "".join(f" AND {c}" for c in conds)
        return sql + (f" ORDER BY s.rowid {direction}" if order else "")
    sql = f"SELECT {what} FROM deliveries d" + (" WHERE " + " AND ".join(conds) if conds else "")
    return sql + (f" ORDER BY d.id {direction}" if order else "")


def count_capped(db: sqlite3.Connection, f: LogFilter, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(matches, exact): counted one by one up to `cap`; past it (cap, False)."""
    conds, args, expr = where(db, f, sparse_index=True)
    inner = select(f, conds, expr, "1", None)
    params = ([expr] if expr is not None else []) + args
    n = db.execute(f"SELECT count(*) FROM ({inner} LIMIT ?)", (*params, cap + 1)).fetchone()[0]
    return (n, True) if n <= cap else (cap, False)


def page(db: sqlite3.Connection, f: LogFilter, limit: int, offset: int, order: str,
         sparse: bool) -> list[sqlite3.Row]:
    """One page of matching deliveries (rows of ``deliveries``)."""
    conds, args, expr = where(db, f, sparse_index=sparse)
    sql = select(f, conds, expr, "d.*", order) + " LIMIT ? OFFSET ?"
    return db.execute(sql, ([expr] if expr is not None else []) + args + [limit, offset]).fetchall()


def ids(db: sqlite3.Connection, f: LogFilter, limit: int, sparse: bool) -> list[int]:
    """The ids of the newest `limit` matching deliveries, newest first."""
    conds, args, expr = where(db, f, sparse_index=sparse)
    sql = select(f, conds, expr, "d.id", "desc") + " LIMIT ?"
    return [r[0] for r in db.execute(sql, ([expr] if expr is not None else []) + args + [limit])]
