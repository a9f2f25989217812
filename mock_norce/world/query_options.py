"""OData query options ($select, $expand, $orderby, $top, $skip, $count, $filter) parsed and
resolved against the model into one ``Options`` tree per request.

Parsing and checking happen before any SQL runs, so every bad option is a QueryError(400)
naming what is wrong, and the executor only sees canonical (2.0-spelled) names that exist.
$filter goes to query_sql (odata-query's grammar); the rest is a small grammar parsed here:
comma lists, ``Name(opt;opt)`` nesting, and single-quoted strings that may hold , ; ( ).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from mock_norce.errors import QueryError
from mock_norce.world.model import EntityType, Namespace, Navigation
from mock_norce.world.query_sql import compile_filter

MAX_EXPAND_DEPTH = 3  # "usually three (3)" (query.md §1.4)
TOP_LEVEL = ("$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count", "$format")
NESTED = ("$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count")
COLLECTION_ONLY = ("$filter", "$orderby", "$top", "$skip", "$count")
_BIG = 2 ** 62
_ITEM = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|\*)\s*(?:\((.*)\))?\s*\Z", re.S)


@dataclass(frozen=True)
class Expand:
    navigation: Navigation
    target: EntityType
    options: "Options"


@dataclass(frozen=True)
class Options:
    filter: tuple[str, tuple] | None = None  # (SQL, parameters)
    select: tuple[str, ...] | None = None  # property names in model order; None = all
    expand: tuple[Expand, ...] = ()
    orderby: tuple[tuple[str, bool], ...] = ()  # (property, descending), key tie-breakers last
    top: int | None = None
    skip: int = 0
    count: bool = False
    given: frozenset[str] = field(default=frozenset())  # the options the client sent


def split_top(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside parentheses and single-quoted strings ('' is a quote inside)."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise QueryError(400, f"Unbalanced parentheses in '{text}'.")
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth or quoted:
        raise QueryError(400, f"Unbalanced parentheses or quotes in '{text}'.")
    parts.append(text[start:])
    return parts


def parse_options(ns: Namespace, entity: EntityType, version: str, given: Mapping[str, str],
                  *, depth: int = 0, single: bool = False) -> Options:
    """Resolve the ``$``-options of one level (the request's, or one ``$expand`` item's)."""
    allowed = TOP_LEVEL if depth == 0 else NESTED
    for name in given:
        if name not in allowed:
            where = "" if depth == 0 else " inside $expand"
            raise QueryError(400, f"The query option '{name}' is not supported{where}.")
    if single:
        bad = [n for n in COLLECTION_ONLY if n in given]
        if bad:
            raise QueryError(400, "The requested resource is not a collection. Query options $filter, "
                                  "$orderby, $count, $skip, and $top can be applied only on collections.")
    fmt = given.get("$format")
    if fmt is not None and fmt.split(";")[0].strip().lower() not in ("json", "application/json"):
        raise QueryError(400, f"The $format '{fmt}' is not supported; only json is.")
    filt = None
    if given.get("$filter") is not None:
        if not given["$filter"].strip():
            raise QueryError(400, "$filter is empty.")
        filt = compile_filter(entity, version, given["$filter"])
    return Options(
        filter=filt,
        select=_select(entity, version, given.get("$select")),
        expand=_expand(ns, entity, version, given.get("$expand"), depth),
        orderby=_orderby(entity, version, given.get("$orderby")),
        top=_count_of("$top", given.get("$top")),
        skip=_count_of("$skip", given.get("$skip")) or 0,
        count=_boolean("$count", given.get("$count")),
        given=frozenset(given),
    )


def _property(entity: EntityType, version: str, wire: str, option: str) -> str:
    name = entity.member(version, wire.strip())
    if name is None or name not in entity.properties:
        raise QueryError(400, f"Could not find a property named '{wire.strip()}' on type "
                              f"'{entity.type_name(version)}' (in {option}).")
    return name


def _select(entity: EntityType, version: str, text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    wanted: set[str] = set()
    for item in split_top(text, ","):
        item = item.strip()
        if item == "*":
            return None
        if not item:
            raise QueryError(400, f"An empty name in $select '{text}'.")
        name = entity.member(version, item)
        if name in entity.navigation:
            continue  # selecting a navigation adds nothing without $expand
        wanted.add(_property(entity, version, item, "$select"))
    return tuple(p for p in entity.properties if p in wanted)


def _orderby(entity: EntityType, version: str, text: str | None) -> tuple[tuple[str, bool], ...]:
    order: list[tuple[str, bool]] = []
    if text is not None:
        for item in split_top(text, ","):
            words = item.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
                raise QueryError(400, f"'{item.strip()}' in $orderby is not 'Property [asc|desc]'.")
            if "/" in words[0] or "(" in words[0]:
                raise QueryError(400, f"Only properties can be ordered by in $orderby, not '{words[0]}'.")
            name = _property(entity, version, words[0], "$orderby")
            if all(name != n for n, _ in order):
                order.append((name, len(words) == 2 and words[1] == "desc"))
    for key in entity.key:  # a total order, so pages neither repeat nor skip rows
        if all(key != n for n, _ in order):
            order.append((key, False))
    return tuple(order)


def _count_of(option: str, text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise QueryError(400, f"Invalid value '{text}' for {option}: a non-negative integer is expected.")
    return min(int(text), _BIG)


def _boolean(option: str, text: str | None) -> bool:
    if text is None:
        return False
    if text.strip() not in ("true", "false"):
        raise QueryError(400, f"Invalid value '{text}' for {option}: true or false is expected.")
    return text.strip() == "true"


def _expand(ns: Namespace, entity: EntityType, version: str, text: str | None, depth: int) -> tuple[Expand, ...]:
    if text is None:
        return ()
    if depth + 1 > MAX_EXPAND_DEPTH:
        raise QueryError(400, f"The request includes a $expand path which is too deep: expand depth "
                              f"{depth + 1} exceeds {MAX_EXPAND_DEPTH}, the maximum allowed.")
    chosen: dict[str, Expand] = {}
    star = False
    for item in split_top(text, ","):
        match = _ITEM.match(item)
        if not match:
            raise QueryError(400, f"'{item.strip()}' in $expand is not 'Navigation' or 'Navigation(options)'.")
        wire, inner = match.group(1), match.group(2)
        if wire == "*":
            if inner is not None:
                raise QueryError(400, "Options on $expand=* are not supported.")
            star = True
            continue
        name = entity.member(version, wire)
        if name is None or name not in entity.navigation:
            raise QueryError(400, f"Could not find a navigation property named '{wire}' on type "
                                  f"'{entity.type_name(version)}' (in $expand).")
        nav = entity.navigation[name]
        target = ns.types[nav.target]
        nested = _nested(inner, wire)
        chosen[name] = Expand(nav, target, parse_options(ns, target, version, nested, depth=depth + 1,
                                                         single=not nav.many))
    if star:
        for name, nav in entity.navigation.items():
            if name not in chosen:
                target = ns.types[nav.target]
                chosen[name] = Expand(nav, target, parse_options(ns, target, version, {}, depth=depth + 1))
    return tuple(chosen.values())


def _nested(inner: str | None, wire: str) -> dict[str, str]:
    """``$select=a,b;$top=2`` -> {"$select": "a,b", "$top": "2"}."""
    out: dict[str, str] = {}
    if inner is None or not inner.strip():
        return out
    for part in split_top(inner, ";"):
        name, eq, value = part.partition("=")
        name = name.strip().lower()  # option names are case-insensitive, as at the top level
        if not eq or not name.startswith("$"):
            raise QueryError(400, f"'{part.strip()}' in $expand={wire}(...) is not '$option=value'.")
        if name in out:
            raise QueryError(400, f"The query option '{name}' is given twice in $expand={wire}(...).")
        out[name] = value
    return out
