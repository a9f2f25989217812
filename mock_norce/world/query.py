"""QueryService: Norce's read-only Query API (OData v4) over the world's SQLite tables.

The one entry point the web route calls: ``handle`` answers a GET on
``/commerce/query/{version}/{namespace}/{resource}`` with the JSON body (or the ``$count``
integer), ``metadata`` with the CSDL, ``service_document`` with the list of sets. Everything
HTTP-specific (status lines, headers, the error body) stays in web/query_api.py; this class
only raises QueryError(404) for what is not there and QueryError(400) for a bad query.

Shapes follow query.md §1.5: a collection is ``{"@odata.context", "value", ...}`` with
``@odata.count`` when asked and ``@odata.nextLink`` while rows remain (server-driven paging,
``page_size`` rows a page, the link repeating the request with ``$skip`` advanced and ``$top``
reduced); a keyed entity is the bare object (``@odata.context`` only with
``entity_context=True``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Callable, Mapping
from urllib.parse import quote, urlencode

import sqlite3

from mock_norce.errors import QueryError
from mock_norce.world import csdl
from mock_norce.world.model import VERSIONS, Model, Namespace, wire_name
from mock_norce.world.query_options import Options, parse_options
from mock_norce.world.query_path import Path, parse_path
from mock_norce.world.query_rows import count, expand, fetch, render

_PATH_SAFE = "/()',=$*:"
Reader = Callable[[], AbstractContextManager[sqlite3.Connection]]


class QueryService:
    def __init__(self, model: Model, reader: Reader, *, page_size: int = 500, entity_context: bool = False):
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.model, self.reader = model, reader
        self.page_size, self.entity_context = page_size, entity_context
        self._metadata: dict[tuple[str, str], str] = {}

    # --- documents -----------------------------------------------------------------------

    def metadata(self, version: str, namespace: str) -> str:
        """The namespace's CSDL ($metadata) for ``version``, built once."""
        ns = self._namespace(version, namespace)
        key = (version, ns.name)
        if key not in self._metadata:
            self._metadata[key] = csdl.document(ns, version)
        return self._metadata[key]

    def service_document(self, version: str, namespace: str, base_url: str) -> dict:
        """The service root: every entity set of the namespace."""
        ns = self._namespace(version, namespace)
        return {"@odata.context": f"{base_url}/$metadata",
                "value": [{"name": t.set_name, "kind": "EntitySet", "url": t.set_name} for t in ns.types.values()]}

    # --- queries -------------------------------------------------------------------------

    def handle(self, version: str, namespace: str, resource: str, args: Mapping[str, str],
               base_url: str) -> dict | int | None:
        """The body for GET {base_url}/{resource}?{args}: a dict (JSON), an int (for ``/$count``,
        served as plain text) or None (a single-valued navigation that is null: 204)."""
        ns = self._namespace(version, namespace)
        path = parse_path(ns, version, resource)
        given = {k.lower(): v for k, v in args.items() if k.startswith("$")}
        target = path.entity if path.navigation is None else ns.types[path.navigation.target]
        options = parse_options(ns, target, version, given, single=path.single)
        with self.reader() as conn:
            conditions, params = self._scope(conn, ns, path)
            if conditions is None:  # the navigation's local columns are null: nothing there
                if path.count:
                    return 0
                if path.single:
                    return None
                return self._collection(base_url, version, path, [], 0 if options.count else None)
            if options.filter:
                conditions.append(options.filter[0])
                params += list(options.filter[1])
            if path.count:
                return count(conn, target, conditions, params)
            if path.single:
                rows = fetch(conn, target, conditions, params, options, limit=1)
                if not rows:
                    if path.navigation is not None:
                        return None
                    raise QueryError(404, f"No {target.type_name(version)} with the key ({path.key_text}).")
                expand(conn, ns, rows, options)
                body = render(target, rows[0], options, version)
                if self.entity_context:
                    body = {"@odata.context": f"{base_url}/$metadata#{target.set_name}/$entity", **body}
                return body
            total = count(conn, target, conditions, params) if options.count else None
            size = self.page_size if options.top is None else min(options.top, self.page_size)
            rows = fetch(conn, target, conditions, params, options, limit=size + 1, offset=options.skip)
            more = len(rows) > size and (options.top is None or options.top > size)
            rows = rows[:size]
            expand(conn, ns, rows, options)
        body = self._collection(base_url, version, path, [render(target, r, options, version) for r in rows], total)
        if more:
            body["@odata.nextLink"] = self._next_link(base_url, resource, args, options, size)
        return body

    def _namespace(self, version: str, namespace: str) -> Namespace:
        if version not in VERSIONS:
            raise QueryError(404, f"No Query API version {version!r} (there are {', '.join(VERSIONS)}).")
        ns = self.model.namespace(namespace)
        if ns is None:
            raise QueryError(404, f"No namespace named '{namespace}' "
                                  f"(there are {', '.join(self.model.namespaces)}).")
        return ns

    def _scope(self, conn: sqlite3.Connection, ns: Namespace, path: Path) -> tuple[list[str] | None, list]:
        """The WHERE conditions the path itself sets: the key, or the parent's navigation."""
        if path.key is None:
            return [], []
        key_conditions = [f'"{k}" = ?' for k in path.key]
        key_params = list(path.key.values())
        if path.navigation is None:
            return key_conditions, key_params
        nav = path.navigation
        cols = ", ".join(f'"{c}"' for c in nav.local)
        parent = conn.execute(f'SELECT {cols} FROM "{path.entity.table}" WHERE {" AND ".join(key_conditions)}',
                              key_params).fetchone()
        if parent is None:
            raise QueryError(404, f"No {path.entity.name} with the key ({path.key_text}).")
        if any(v is None for v in parent):
            return None, []
        return [f'"{c}" = ?' for c in nav.remote], list(parent)

    @staticmethod
    def _collection(base_url: str, version: str, path: Path, value: list, total: int | None) -> dict:
        if path.navigation is None:
            context = path.entity.set_name
        else:
            context = f"{path.entity.set_name}({path.key_text})/{wire_name(path.navigation.name, version)}"
        body: dict = {"@odata.context": f"{base_url}/$metadata#{context}"}
        if total is not None:
            body["@odata.count"] = total
        body["value"] = value
        return body

    @staticmethod
    def _next_link(base_url: str, resource: str, args: Mapping[str, str], options: Options, size: int) -> str:
        """The same request, ``$skip`` advanced by a page and ``$top`` reduced by it."""
        pairs = [(k, v) for k, v in args.items() if k.lower() not in ("$skip", "$top")]
        if options.top is not None:
            pairs.append(("$top", str(options.top - size)))
        pairs.append(("$skip", str(options.skip + size)))
        query = urlencode(pairs, quote_via=quote, safe="$,'()*:/")
        return f"{base_url}/{quote(resource.strip('/'), safe=_PATH_SAFE)}?{query}"
