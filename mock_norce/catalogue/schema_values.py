"""Values from a property's schema: for custom event types and field names no maker knows.

enum, const, format, type and range decide; a few name hints (``email``, ``phone``,
``price``...) borrow the makers of the Norce fields they resemble, so a custom type's values
look like the built-in ones.
"""

from __future__ import annotations

import string
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from mock_norce.catalogue import fakedata
from mock_norce.catalogue.fields import MAKERS, Draw

_NAME_HINTS: list[tuple[str, Callable[[Draw], Any]]] = [
    ("email", MAKERS["Email"]),
    ("phone", MAKERS["CellPhone"]),
    ("firstname", MAKERS["FirstName"]),
    ("lastname", MAKERS["LastName"]),
    ("partno", MAKERS["PartNo"]),
    ("sku", MAKERS["PartNo"]),
    ("orderno", MAKERS["OrderNo"]),
    ("currency", MAKERS["CurrencyCode"]),
    ("culture", lambda d: d.market.culture),
    ("country", lambda d: d.market.code),
    ("market", lambda d: d.market.code),
    ("price", MAKERS["PriceSaleValue"]),
    ("amount", MAKERS["Amount"]),
]


def _resolve(schema: dict, root: dict) -> dict:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#"):
        return schema
    node: Any = root
    for part in ref[1:].split("/")[1:]:
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
    return {**node, **{k: v for k, v in schema.items() if k != "$ref"}}


def from_schema(schema: dict, name: str, root: dict) -> Callable[[Draw], Any]:
    """A maker driven by a property's schema: enum, const, format, type, range, name hints."""
    schema = _resolve(schema, root)
    if "const" in schema:
        const = schema["const"]
        return lambda d: const
    if schema.get("enum"):
        values = list(schema["enum"])
        return lambda d: values[int(d.rng.random() * len(values))]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    lowered = name.lower().replace("_", "")
    if kind == "string" or kind is None and "format" in schema:
        return _string_maker(schema, lowered)
    if kind in ("integer", "number"):
        return _number_maker(schema, lowered, kind == "integer")
    if kind == "boolean":
        return lambda d: d.rng.random() < 0.5
    if kind == "array":
        item = from_schema(schema.get("items") or {}, name, root)
        low = schema.get("minItems", 1)
        high = max(low, min(schema.get("maxItems", 3), low + 3))
        return lambda d: [item(d) for _ in range(low + int(d.rng.random() * (high - low + 1)))]
    if kind == "object":
        props = schema.get("properties") or {}
        req = set(schema.get("required") or [])
        parts = [(k, from_schema(v if isinstance(v, dict) else {}, k, root), k in req) for k, v in props.items()]

        def obj(d: Draw):
            return {k: make(d) for k, make, must in parts if must or d.rng.random() < 0.85}
        return obj
    if kind == "null":
        return lambda d: None
    return lambda d: fakedata.fill("????-####", d.rng)  # no type: a harmless code


def _string_maker(schema: dict, lowered: str) -> Callable[[Draw], Any]:
    fmt = schema.get("format")
    if fmt == "email":
        return lambda d: fakedata.email_address(*_names(d), d.market, d.rng)
    if fmt == "uuid":
        return lambda d: fakedata.uuid4(d.rng)
    if fmt == "date-time":
        return lambda d: _moment(d).isoformat(timespec="seconds").replace("+00:00", "Z")
    if fmt == "date":
        return lambda d: _moment(d).date().isoformat()
    if fmt in ("uri", "url", "iri"):
        return lambda d: f"https://shop.example.{d.market.code.lower()}/p/{MAKERS['PartNo'](d).lower()}"
    if fmt in ("ipv4",):
        return lambda d: f"192.0.2.{1 + int(d.rng.random() * 254)}"
    for hint, make in _NAME_HINTS:
        if hint in lowered:
            return _fit_length(make, schema)
    if lowered.endswith("code"):
        return _fit_length(lambda d: fakedata.fill("???-###", d.rng), schema)
    if "name" in lowered:
        return _fit_length(lambda d: " ".join(_names(d)), schema)
    return _fit_length(lambda d: fakedata.fill("??-#####", d.rng), schema)


def _names(d: Draw) -> tuple[str, str]:
    tables = fakedata.name_tables(d.market)
    return tables.female.pick(d.rng), tables.last.pick(d.rng)


def _moment(d: Draw) -> datetime:
    # Within the last 30 days of a fixed day, so a seed gives the same timestamp every run.
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return base - timedelta(seconds=int(d.rng.random() * 30 * 86400))


def _fit_length(make: Callable[[Draw], Any], schema: dict) -> Callable[[Draw], Any]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if not low and high is None:
        return make

    def fitted(d: Draw):
        value = str(make(d))
        if len(value) < low:
            value += "".join(string.ascii_uppercase[int(d.rng.random() * 26)] for _ in range(low - len(value)))
        return value[:high] if high is not None else value
    return fitted


def _number_maker(schema: dict, lowered: str, integer: bool) -> Callable[[Draw], Any]:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if not integer and low is None and high is None:
        for hint in ("price", "amount"):
            if hint in lowered:
                return dict(_NAME_HINTS)[hint]
    low = 1 if low is None else low
    high = max(low, 1_000_000 if high is None else high)
    if "exclusiveMinimum" in schema and "minimum" not in schema:
        low += 1 if integer else 0.01
    if "exclusiveMaximum" in schema and "maximum" not in schema:
        high -= 1 if integer else 0.01
    if integer:
        # Stay in a realistic id range even when the schema only says int32.
        low_i, high_i = int(low), int(min(high, max(low + 1_000_000, 1_000_000)))
        return lambda d: fakedata.between((low_i, high_i), d.rng)
    return lambda d: round(low + d.rng.random() * (min(high, low + 10_000) - low), 2)
