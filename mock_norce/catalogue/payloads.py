"""Build one payload of an event type: tenant + fake data + overrides, then validate.

The schema decides which fields a payload has; the field's *name* decides its value
(``fields.MAKERS``), so an ``OrderNo`` looks like an ERP's order number in every type, custom
ones included. The values that must agree with each other (one order's id, number, buyer
and market; a warehouse's id and code) come from one ``Draw``, which a scenario keeps for the
life of an entity so that all its events carry the same identifiers.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from mock_norce import safejson
from mock_norce.catalogue import fakedata
from mock_norce.catalogue.schemas import Catalog, EventType
from mock_norce.errors import BadOverride, InvalidPayload, MockNorceError
from mock_norce.catalogue.fields import ABSENT, Draw, market_seed
from mock_norce.catalogue.plan import plan_for
from mock_norce.catalogue.tenant import Market, Tenant


@dataclass
class Payload:
    """A generated event: its body and whether it passes its schema."""

    event_type: str
    body: dict
    market: str
    valid: bool = True
    errors: list[tuple[str, str]] = field(default_factory=list)
    facts: dict = field(default_factory=dict)  # the draw's facts the body does not carry (Draw.facts)

    def to_json(self) -> str:
        return dumps(self.body)

    def to_bytes(self) -> bytes:
        return self.to_json().encode("utf-8")


_WIRE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder, not one per call


def dumps(body: Any) -> str:
    """The wire form of a body: compact UTF-8 JSON, keys in schema order (no sorting)."""
    return _WIRE.encode(body)


def new_seed() -> int:
    """A fresh random seed (for callers that did not give one but want to report it)."""
    return random.SystemRandom().randrange(2**63)


class EventFactory:
    """Generates payloads for every type of a catalogue, for one tenant."""

    def __init__(self, catalog: Catalog, tenant: Tenant):
        self.catalog = catalog
        self.tenant = tenant
        self._plans: dict[str, list] = {}
        self._doubles: dict[str, tuple] = {}  # per type: its top-level doubles, and whether it nests

    def warm(self) -> None:
        """Load every market's name tables now, not at first use: a names file is read with the
        tenant, but a market without one falls back to Faker's locale tables, imported lazily
        (~5 MB and a pause in the middle of a schedule)."""
        for market in self.tenant.markets:
            fakedata.name_tables(market)

    def draw(self, rng: random.Random, market: str | Market | None = None,
             fixed: Mapping[str, Any] | None = None) -> Draw:
        """The coherent facts for one payload, or for a scenario entity that outlives it."""
        if isinstance(market, str):
            market = self.tenant.market(market)
        return Draw(self.tenant, rng, market, fixed)

    def plan(self, et: EventType) -> list:
        plan = self._plans.get(et.name)
        if plan is None:
            plan = self._plans[et.name] = plan_for(et, self.tenant)
        return plan

    def generate(
        self,
        event_type: str,
        *,
        rng: random.Random | None = None,
        seed: int | None = None,
        market: str | None = None,
        draw: Draw | None = None,
        overrides: Mapping[str, Any] | None = None,
        omit: Iterable[str] = (),
        allow_invalid: bool = False,
    ) -> Payload:
        """One payload of event_type.

        Randomness comes from ``rng``, else from ``seed``, else from the system. ``draw`` ties
        the payload to an entity. Overrides set fields, ``omit`` removes them; a result that
        breaks the schema raises InvalidPayload, unless ``allow_invalid`` is set, when it is
        returned marked ``valid=False`` with its errors (for negative tests).
        """
        et = self.catalog.get(event_type)
        if draw is None and rng is None:
            seed = seed if seed is not None else new_seed()
            if market is not None:  # one random source, already the market's (fields.Draw)
                named = self.tenant.market(market) if isinstance(market, str) else market
                draw = Draw(self.tenant, random.Random(market_seed(self.tenant, seed, named)), named, own_rng=True)
            else:
                rng = random.Random(seed)
        if draw is None:
            draw = self.draw(rng, market)
        body = {}
        for name, make in self.plan(et):
            value = make(draw)
            if value is not ABSENT:
                body[name] = value
        if overrides or omit:
            _apply(et, body, overrides or {}, omit, allow_invalid)
            # Keys in schema order, whichever optional fields this draw made: the same
            # overrides give the same bytes with any seed (a field the draw left out and an
            # override put back was appended last). Fields the schema lacks come after.
            known = et.schema.get("properties", {})
            body = {**{k: body[k] for k in known if k in body}, **{k: v for k, v in body.items() if k not in known}}
        doubles = self._doubles.get(et.name)
        if doubles is None:
            doubles = self._doubles[et.name] = _doubles_of(et.schema)
        top, nested = doubles
        for name in top:  # the common case, without walking the schema
            value = body.get(name)
            if type(value) is int and -_EXACT <= value <= _EXACT:
                body[name] = float(value)
        if nested:
            _as_doubles(et.schema, body)
        errors = et.errors(body)
        if errors and not allow_invalid:
            raise InvalidPayload(et.name, errors)
        return Payload(et.name, body, draw.market.code, valid=not errors, errors=errors, facts=draw.facts())

    def validate(self, event_type: str, payload: Any) -> list[tuple[str, str]]:
        """Every schema error of a user's payload as (JSON path, reason); [] when valid."""
        return self.catalog.get(event_type).errors(payload)


def _apply(et: EventType, body: dict, overrides: Mapping[str, Any], omit: Iterable[str],
           allow_invalid: bool) -> None:
    known = et.schema.get("properties", {})
    strict = et.schema.get("additionalProperties") is False and not allow_invalid
    for name in omit:
        if name not in known and strict:
            raise BadOverride(f"cannot omit {name!r}: {et.name} has no such field")
        if name in et.required and not allow_invalid:
            raise InvalidPayload(et.name, [(f"$.{name}", "is required and cannot be omitted")])
        body.pop(name, None)
    for name, value in overrides.items():
        if not isinstance(name, str) or not name:
            raise BadOverride(f"override names must be non-empty strings, got {name!r}")
        if name not in known and strict:
            fields = ", ".join(known)
            raise BadOverride(f"{et.name} has no field {name!r}; its fields are {fields}")
        body[name] = value


_EXACT = 2**53  # integers a double holds exactly


def _is_number(schema: dict) -> bool:
    kind = schema.get("type")
    return kind == "number" or isinstance(kind, list) and "number" in kind and "integer" not in kind


def _doubles_of(schema: dict) -> tuple[tuple[str, ...], bool]:
    """(the top-level ``number`` fields, whether any field is an object or array to walk)."""
    props = {k: v for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict)}
    top = tuple(k for k, v in props.items() if _is_number(v))
    nested = any(v.get("type") in ("object", "array") or "properties" in v or "items" in v for v in props.values())
    return top, nested


def _as_doubles(schema: Any, value: Any) -> Any:
    """Every ``number`` (double) field written one way, with its decimals: 3999 becomes 3999.0
    (as a generated price already is), whether an override, a scenario's ``set`` or a form
    gave it, so a consumer never sees 2339.0 in one event and 3999 in the next. Walks the
    schema's properties and items (in place); leaves booleans, text and huge integers alone."""
    if not isinstance(schema, dict):
        return value
    if _is_number(schema):
        if isinstance(value, int) and not isinstance(value, bool) and -_EXACT <= value <= _EXACT:
            return float(value)
        return value
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in value:
                value[name] = _as_doubles(sub, value[name])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        value[:] = [_as_doubles(schema["items"], v) for v in value]
    return value


def coerce(et: EventType, name: str, raw: str) -> Any:
    """A command-line value for a field, typed by the field's schema ("42" -> 42 for integers)."""
    schema = et.schema.get("properties", {}).get(name)
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind == "string":
        return raw
    try:
        value = safejson.loads(raw)  # typed in a form or on a command line: the guarded parser
    except MockNorceError:
        return raw  # not JSON (or not JSON we take): keep the text; validation says what is wrong
    if kind == "integer" and isinstance(value, float) and value.is_integer() and "." not in raw:
        return int(value)
    return value
