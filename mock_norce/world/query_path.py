"""The resource path after the namespace: entity set, key, navigation, ``$count``.

``Orders``, ``Orders(2147500123)``, ``ProductSkus('100011-M')``,
``SupplierProductSkus(PartNo='A-1',SupplierId=501)``, ``Orders(2147500123)/Items`` (the form
python-odata's lazy navigation requests), and ``/$count`` after a collection. Unknown sets,
navigations and segments are 404 (nothing is there); a key that does not fit the key's
properties or types is 400 (the request is malformed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mock_norce.errors import QueryError
from mock_norce.world.model import EntityType, Namespace, Navigation
from mock_norce.world.query_options import split_top
from mock_norce.world.query_sql import literal, stored

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?\Z", re.S)
_NAMED = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)\Z", re.S)


@dataclass(frozen=True)
class Path:
    entity: EntityType  # the entity set's type
    key: dict[str, object] | None  # property -> stored value, when keyed
    key_text: str  # as the client wrote it, for context URLs
    navigation: Navigation | None  # after the key: Orders(1)/Items
    count: bool  # ends in /$count

    @property
    def single(self) -> bool:
        """Does the path name one entity (not a collection)?"""
        if self.navigation is not None:
            return not self.navigation.many
        return self.key is not None


def parse_path(ns: Namespace, version: str, resource: str) -> Path:
    segments = [s for s in split_top(resource.strip("/"), "/")]
    if not segments or not segments[0]:
        raise QueryError(404, "No entity set in the path.")
    count = segments[-1] == "$count"
    if count:
        segments.pop()
    match = _SEGMENT.match(segments[0]) if segments else None
    if not match:
        raise QueryError(404, f"No resource found for the segment '{segments[0] if segments else '$count'}'.")
    entity = ns.entity_set(match.group(1))
    if entity is None:
        raise QueryError(404, f"No entity set named '{match.group(1)}' in the namespace {ns.name}.")
    key_text = match.group(2)
    key = None if key_text is None else _key(entity, version, key_text)
    navigation = None
    if len(segments) > 1:
        if key is None:
            raise QueryError(400, f"'{segments[1]}' follows the collection {entity.set_name}; "
                                  "a key is needed before a navigation: Set(key)/Navigation.")
        wire = segments[1]
        name = entity.member(version, wire)
        if name in entity.properties:
            raise QueryError(400, f"Reading the single property '{wire}' is not supported; use $select.")
        if name is None or name not in entity.navigation:
            raise QueryError(404, f"No navigation property named '{wire}' on type '{entity.type_name(version)}'.")
        navigation = entity.navigation[name]
    if len(segments) > 2:
        raise QueryError(404 if not _SEGMENT.match(segments[2]) else 400,
                         f"Paths longer than Set(key)/Navigation are not supported: '{resource}'.")
    path = Path(entity, key, key_text or "", navigation, count)
    if count and path.single:
        raise QueryError(400, "$count applies to collections only.")
    return path


def _key(entity: EntityType, version: str, text: str) -> dict[str, object]:
    parts = [p for p in split_top(text, ",")]
    values: dict[str, object] = {}
    for part in parts:
        named = _NAMED.match(part)
        if named:
            wire, value_text = named.group(1), named.group(2)
            name = entity.member(version, wire)
            if name not in entity.key:
                raise QueryError(400, f"'{wire}' is not a key property of '{entity.type_name(version)}'.")
        elif len(parts) == 1 and len(entity.key) == 1:
            name, value_text = entity.key[0], part
        else:
            raise QueryError(400, f"The key of '{entity.type_name(version)}' has several properties; "
                                  f"name each: ({', '.join(k + '=...' for k in entity.key)}).")
        if name in values:
            raise QueryError(400, f"The key property '{name}' is given twice.")
        expr = literal(value_text.strip())
        what = f"the key property '{name}'"
        value = stored(entity.properties[name].type, expr, what)
        if value is None:
            raise QueryError(400, f"{what} cannot be null.")
        values[name] = value
    missing = [k for k in entity.key if k not in values]
    if missing:
        raise QueryError(400, f"The key of '{entity.type_name(version)}' lacks {', '.join(missing)}.")
    return values
