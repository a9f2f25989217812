"""The event catalogue: event types discovered from JSON Schema files, validators built once.

Built-in types come from ``fixtures/schemas/<EventType>.json``; custom types from the user's
schema directory (``MOCK_NORCE_SCHEMAS_DIR``). The list of types is the folder's content,
never a hand-kept list. A bad custom schema is reported in ``problems`` and skipped, so it
cannot stop the others from loading.

A schema's ``x-`` keys are mock-norce's notes on the type (category, kind, the entity it is
about, unconfirmed fields); both validators ignore them.

Validation has two speeds. jsonschema (draft 2020-12, formats checked) is the reference and
lists every error with its JSON path. For schemas that only use the keywords whose meaning is
the same in every draft, a fastjsonschema-compiled check (~1 µs) answers "valid?" first, and
jsonschema is asked only for the details of an invalid payload.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import fastjsonschema
import jsonschema
from jsonschema import Draft202012Validator
from referencing import Registry

from mock_norce.errors import SchemaFileError, UnknownEventType

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
# What an event can be about: a schema's "x-norce-entity" names one; a scenario's entities have one.
ENTITY_KINDS = ("order", "sku", "customer", "company", "supplier", "job", "subscription")

# Keywords that mean the same in draft 4 to 2020-12, so a fastjsonschema compilation of a
# schema made only of these accepts exactly what jsonschema accepts.
_PORTABLE = {
    "$schema", "$id", "$comment", "title", "description", "type", "properties", "required",
    "additionalProperties", "enum", "const", "minimum", "maximum", "minLength", "maxLength",
    "format", "default", "examples", "items", "minItems", "maxItems", "pattern",
}
_FAST_FORMATS = {"int32", "int64", "double", "float"}


def _is_int_in(value: Any, bounds: tuple[int, int]) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return True  # the "type" keyword reports non-integers
    return bounds[0] <= value <= bounds[1]


FORMAT_CHECKER = jsonschema.FormatChecker()
FORMAT_CHECKER.checks("int32")(lambda v: _is_int_in(v, INT32))
FORMAT_CHECKER.checks("int64")(lambda v: _is_int_in(v, INT64))


@dataclass(frozen=True)
class EventType:
    """One event type: its schema and what the catalogue knows about it."""

    name: str
    category: str
    kind: str  # "Notification" or "Event"
    schema: dict
    path: Path
    builtin: bool
    description: str = ""
    unconfirmed: tuple[str, ...] = ()  # fields (or "*" for the type) Norce's docs leave open
    entity: str | None = None  # "x-norce-entity": the kind it is about (None: any kind, custom types)
    validator: Draft202012Validator = field(repr=False, compare=False, default=None)
    fast_check: Any = field(repr=False, compare=False, default=None)

    @property
    def fields(self) -> list[str]:
        return list(self.schema.get("properties", {}))

    @property
    def required(self) -> list[str]:
        return list(self.schema.get("required", []))

    def errors(self, payload: Any) -> list[tuple[str, str]]:
        """Every way the payload breaks the schema, as (JSON path, reason); [] if valid."""
        if self.fast_check is not None:
            try:
                self.fast_check(payload)
                return []
            except fastjsonschema.JsonSchemaValueException:
                pass
        found = sorted(self.validator.iter_errors(payload), key=lambda e: list(map(str, e.absolute_path)))
        return [(_json_path(e.absolute_path), _reason(e)) for e in found]

    def is_valid(self, payload: Any) -> bool:
        if self.fast_check is not None:
            try:
                self.fast_check(payload)
                return True
            except fastjsonschema.JsonSchemaValueException:
                return False
        return self.validator.is_valid(payload)

    def summary(self) -> dict:
        return {"name": self.name, "category": self.category, "kind": self.kind,
                "builtin": self.builtin, "description": self.description}


def _json_path(parts: Iterable) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _reason(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown field(s) {', '.join(extra)}: not a property of this event type"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required but missing")
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {error.validator_value}"
    if error.validator in ("minimum", "maximum") and "format" in error.schema:
        return f"{error.instance} is out of the {error.schema['format']} range"
    return error.message


def _walk_keywords(schema: Any) -> Iterable[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if not key.startswith("x-"):
                yield key
            if key in ("properties",) and isinstance(value, dict):
                for sub in value.values():
                    yield from _walk_keywords(sub)
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                yield from _walk_keywords(value)


def _compile_fast(schema: dict):
    if not set(_walk_keywords(schema)) <= _PORTABLE:
        return None
    formats = set()
    for sub in schema.get("properties", {}).values():
        if isinstance(sub, dict) and "format" in sub:
            formats.add(sub["format"])
    if not formats <= _FAST_FORMATS:
        return None  # other formats are checked by jsonschema's FormatChecker only
    # Integer ranges are enforced by minimum/maximum; these format names only annotate.
    return fastjsonschema.compile(schema, formats={f: (lambda v: True) for f in _FAST_FORMATS})


def load_event_type(path: Path, builtin: bool) -> EventType:
    """Read one schema file into an EventType; SchemaFileError says what is wrong and where."""
    name = path.stem
    if not _NAME.match(name):
        raise SchemaFileError(f"{path}: file name must be the event type name (letters, digits, _)")
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemaFileError(f"{path}: cannot read: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaFileError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(schema, dict):
        raise SchemaFileError(f"{path}: a schema must be a JSON object")
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaFileError(f"{path}: not a valid JSON Schema: {exc.message}") from None
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise SchemaFileError(f"{path}: an event schema needs \"type\": \"object\" and \"properties\"")
    kind = schema.get("x-norce-kind") or ("Notification" if name.endswith("Notification") else "Event")
    entity = schema.get("x-norce-entity")
    if entity is not None and entity not in ENTITY_KINDS:
        raise SchemaFileError(f"{path}: \"x-norce-entity\" must be one of {', '.join(ENTITY_KINDS)}, got {entity!r}")
    unconfirmed = tuple(k for k, v in schema["properties"].items() if isinstance(v, dict) and v.get("x-norce-unconfirmed"))
    if schema.get("x-norce-unconfirmed"):
        unconfirmed = ("*",) + unconfirmed
    try:
        fast = _compile_fast(schema)
    except fastjsonschema.JsonSchemaDefinitionException:
        fast = None
    return EventType(
        name=name,
        category=schema.get("x-norce-category") or ("Norce" if builtin else "Custom"),
        kind=kind,
        schema=schema,
        path=path,
        builtin=builtin,
        description=schema.get("description", ""),
        unconfirmed=unconfirmed,
        entity=entity,
        # An explicit, empty registry: local "#/..." refs resolve, remote ones are never fetched.
        validator=Draft202012Validator(schema, format_checker=FORMAT_CHECKER, registry=Registry()),
        fast_check=fast,
    )


class Catalog:
    """All event types by name: the built-in Norce ones, then the user's custom ones."""

    def __init__(self, builtin_dir: Path, custom_dir: Path | None = None):
        self.types: dict[str, EventType] = {}
        self.problems: list[str] = []  # custom schemas that were skipped, and why
        for path in sorted(Path(builtin_dir).glob("*.json")):
            et = load_event_type(path, builtin=True)  # a broken built-in is a bug: let it raise
            self.types[et.name] = et
        if custom_dir is not None:
            self._load_custom(Path(custom_dir))

    def _load_custom(self, directory: Path) -> None:
        if not directory.is_dir():
            self.problems.append(f"{directory}: custom schema directory does not exist")
            return
        for path in sorted(directory.glob("*.json")):
            try:
                et = load_event_type(path, builtin=False)
            except SchemaFileError as exc:
                self.problems.append(str(exc))
                continue
            if et.name in self.types:
                self.problems.append(f"{path}: {et.name} is a built-in Norce type; a custom schema cannot replace it")
                continue
            self.types[et.name] = et

    def get(self, name: str) -> EventType:
        """The event type called name, or UnknownEventType."""
        try:
            return self.types[name]
        except KeyError:
            raise UnknownEventType(name, list(self.types)) from None

    def __contains__(self, name: str) -> bool:
        return name in self.types

    def __iter__(self):
        return iter(self.types.values())

    def names(self) -> list[str]:
        return list(self.types)
