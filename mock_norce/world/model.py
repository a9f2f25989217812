"""The Query API's entity model, read from data (fixtures/query-model.yaml) into frozen objects.

Norce documents its entities only in part (../shared/norce/query.md), so the model is a file a
person edits, not code: namespaces (one OData service root each), entity types with their set,
SQLite table, key, properties, navigations and indexes. Everything downstream (the DDL, the
query engine, the CSDL) reads these objects; a mistake in the file is caught here, once, with
the file and the place in the message, instead of as a SQL error on some request later.

Names: the file spells properties and navigations as 2.0 does (PascalCase); 3.0 lower-cases
the first letter (``wire_name``), in what clients send and in what they get back. Namespace and
entity-set lookups are case-insensitive (Norce's own URLs vary: ``Query``/``query``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from mock_norce.errors import QueryModelError

VERSIONS = ("2.0", "3.0")
TYPES = ("Int32", "Int64", "String", "Decimal", "Double", "Boolean", "DateTimeOffset", "Guid")
SQL_TYPES = ("INTEGER", "REAL", "TEXT", "BLOB", "NUMERIC")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # names go into SQL as identifiers
_TYPE_KEYS = {"set", "table", "key", "properties", "navigation", "internal", "indexes", "inferred", "name3"}


def wire_name(name: str, version: str) -> str:
    """A property or navigation name as a client of ``version`` spells it: 2.0 as in the
    file (PascalCase), 3.0 with the first letter lower-cased (``OrderNo`` -> ``orderNo``)."""
    if version == "3.0" and name:
        return name[0].lower() + name[1:]
    return name


@dataclass(frozen=True)
class Property:
    name: str
    type: str  # one of TYPES
    nullable: bool


@dataclass(frozen=True)
class Navigation:
    name: str
    target: str  # an entity type name in the same namespace
    many: bool
    on: tuple[tuple[str, str], ...]  # (local column, remote column) pairs

    @property
    def local(self) -> tuple[str, ...]:
        return tuple(pair[0] for pair in self.on)

    @property
    def remote(self) -> tuple[str, ...]:
        return tuple(pair[1] for pair in self.on)


@dataclass(frozen=True, eq=False)  # identity equality and hash: usable as a cache key
class EntityType:
    name: str
    name3: str  # the 3.0 type name (ClientProductSku for ProductSku)
    set_name: str
    table: str
    key: tuple[str, ...]
    properties: Mapping[str, Property]
    navigation: Mapping[str, Navigation]
    internal: Mapping[str, str]  # column -> SQL type; joins and bookkeeping, never served
    indexes: tuple[tuple[str, ...], ...]
    inferred: bool
    wire: Mapping[str, Mapping[str, str]] = field(repr=False)  # version -> wire name -> name

    def type_name(self, version: str) -> str:
        return self.name3 if version == "3.0" else self.name

    def member(self, version: str, wire: str) -> str | None:
        """The property or navigation a ``version`` client means by ``wire``, or None."""
        return self.wire[version].get(wire)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column of the table: the properties in model order, then the internal ones."""
        return tuple(self.properties) + tuple(self.internal)


@dataclass(frozen=True, eq=False)
class Namespace:
    name: str
    schemas: Mapping[str, str]  # version -> CSDL schema namespace
    types: Mapping[str, EntityType]

    def entity_set(self, name: str) -> EntityType | None:
        """The entity type served under the set ``name``, compared case-insensitively."""
        wanted = name.lower()
        for entity in self.types.values():
            if entity.set_name.lower() == wanted:
                return entity
        return None


@dataclass(frozen=True, eq=False)
class Model:
    namespaces: Mapping[str, Namespace]
    path: str = ""

    def namespace(self, name: str) -> Namespace | None:
        """The namespace called ``name``, compared case-insensitively."""
        wanted = name.lower()
        for ns in self.namespaces.values():
            if ns.name.lower() == wanted:
                return ns
        return None


def load_model(path: str | Path) -> Model:
    """Read and check a model file; QueryModelError names the file and the place of a fault."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise QueryModelError(f"{path}: cannot read the query model: {exc}") from None
    return build_model(doc, str(path))


def build_model(doc: Any, where: str = "<model>") -> Model:
    """The Model of an already parsed document (tests build small ones inline)."""
    def fail(place: str, reason: str) -> QueryModelError:
        return QueryModelError(f"{where}: {place}: {reason}")

    if not isinstance(doc, dict) or doc.get("format") != 1:
        raise fail("top", "expected a mapping with `format: 1`")
    raw_namespaces = doc.get("namespaces")
    if not isinstance(raw_namespaces, dict) or not raw_namespaces:
        raise fail("namespaces", "expected a mapping of namespaces")
    namespaces: dict[str, Namespace] = {}
    tables: set[str] = set()
    for ns_name, raw_ns in raw_namespaces.items():
        if not isinstance(raw_ns, dict):
            raise fail(str(ns_name), "expected a mapping with `schema` and `types`")
        schemas = raw_ns.get("schema")
        if not isinstance(schemas, dict) or set(map(str, schemas)) != set(VERSIONS):
            raise fail(f"{ns_name}.schema", f"expected a schema name for each of {', '.join(VERSIONS)}")
        raw_types = raw_ns.get("types")
        if not isinstance(raw_types, dict) or not raw_types:
            raise fail(f"{ns_name}.types", "expected a mapping of entity types")
        types = {name: _entity(fail, f"{ns_name}.{name}", name, raw) for name, raw in raw_types.items()}
        _check_links(fail, ns_name, types)
        sets = [t.set_name.lower() for t in types.values()]
        for t in types.values():
            if sets.count(t.set_name.lower()) > 1:
                raise fail(f"{ns_name}.{t.name}.set", f"entity set {t.set_name!r} is used twice")
            if t.table in tables:
                raise fail(f"{ns_name}.{t.name}.table", f"table {t.table!r} is used twice")
            tables.add(t.table)
        namespaces[str(ns_name)] = Namespace(str(ns_name), {str(k): str(v) for k, v in schemas.items()}, types)
    if len({n.lower() for n in namespaces}) != len(namespaces):
        raise fail("namespaces", "two namespaces differ only in case")
    return Model(namespaces, where)


def _entity(fail, place: str, name: str, raw: Any) -> EntityType:
    if not isinstance(raw, dict):
        raise fail(place, "expected a mapping")
    unknown = set(raw) - _TYPE_KEYS
    if unknown:
        raise fail(place, f"unknown part(s) {', '.join(sorted(map(str, unknown)))}")
    for part in ("set", "table", "key", "properties"):
        if part not in raw:
            raise fail(place, f"`{part}` is missing")
    _identifier(fail, place, name)
    _identifier(fail, f"{place}.table", raw["table"])
    properties: dict[str, Property] = {}
    if not isinstance(raw["properties"], dict) or not raw["properties"]:
        raise fail(f"{place}.properties", "expected a mapping of name: Type")
    for prop, spelled in raw["properties"].items():
        _identifier(fail, f"{place}.properties", prop)
        if prop.startswith("_"):
            raise fail(f"{place}.properties.{prop}", "a property cannot start with '_' (internal columns go under `internal`)")
        text = str(spelled)
        nullable = text.endswith("?")
        if text.rstrip("?") not in TYPES:
            raise fail(f"{place}.properties.{prop}", f"unknown type {text!r} (known: {', '.join(TYPES)})")
        properties[prop] = Property(prop, text.rstrip("?"), nullable)
    internal: dict[str, str] = {}
    for col, sql in (raw.get("internal") or {}).items():
        _identifier(fail, f"{place}.internal", col)
        if not col.startswith("_"):
            raise fail(f"{place}.internal.{col}", "an internal column must start with '_'")
        if str(sql).upper() not in SQL_TYPES:
            raise fail(f"{place}.internal.{col}", f"unknown SQL type {sql!r} (known: {', '.join(SQL_TYPES)})")
        internal[col] = str(sql).upper()
    key = tuple(raw["key"]) if isinstance(raw["key"], list) else ()
    if not key:
        raise fail(f"{place}.key", "expected a list of key properties")
    for k in key:
        if k not in properties:
            raise fail(f"{place}.key", f"key {k!r} is not a property")
    columns = set(properties) | set(internal)
    indexes = []
    for cols in raw.get("indexes") or []:
        if not isinstance(cols, list) or not cols or any(c not in columns for c in cols):
            raise fail(f"{place}.indexes", f"index {cols!r} names a column the type does not have")
        indexes.append(tuple(cols))
    navigation: dict[str, Navigation] = {}
    for nav, spec in (raw.get("navigation") or {}).items():
        _identifier(fail, f"{place}.navigation", nav)
        # YAML 1.1 reads a bare `on:` key as the boolean True
        on = spec.get("on", spec.get(True)) if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or "to" not in spec or not isinstance(on, dict) or not on:
            raise fail(f"{place}.navigation.{nav}", "expected {to: Type, many: bool, on: {local: remote}}")
        if nav in properties:
            raise fail(f"{place}.navigation.{nav}", "a navigation cannot have a property's name")
        for local in on:
            if local not in columns:
                raise fail(f"{place}.navigation.{nav}.on", f"local column {local!r} is not a column of {name}")
        navigation[nav] = Navigation(nav, str(spec["to"]), bool(spec.get("many", False)),
                                     tuple((str(a), str(b)) for a, b in on.items()))
    members = list(properties) + list(navigation)
    wire = {v: {wire_name(m, v): m for m in members} for v in VERSIONS}
    if any(len(w) != len(members) for w in wire.values()):
        raise fail(place, "two properties or navigations differ only in the case of the first letter")
    return EntityType(name=name, name3=str(raw.get("name3") or name), set_name=str(raw["set"]),
                      table=str(raw["table"]), key=key, properties=properties, navigation=navigation,
                      internal=internal, indexes=tuple(indexes), inferred=bool(raw.get("inferred", False)),
                      wire=wire)


def _check_links(fail, ns_name: str, types: dict[str, EntityType]) -> None:
    """Every navigation points at a type of the namespace, on columns that type has."""
    for t in types.values():
        for nav in t.navigation.values():
            place = f"{ns_name}.{t.name}.navigation.{nav.name}"
            target = types.get(nav.target)
            if target is None:
                raise fail(place, f"target {nav.target!r} is not an entity type of {ns_name}")
            for remote in nav.remote:
                if remote not in target.properties and remote not in target.internal:
                    raise fail(f"{place}.on", f"remote column {remote!r} is not a column of {target.name}")


def _identifier(fail, place: str, name: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise fail(place, f"{name!r} is not a plain name (letters, digits, '_')")
