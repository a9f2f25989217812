"""Field values by field name, and the Draw that keeps related values together.

``MAKERS`` maps a Norce field name to a function of a Draw. A Draw caches the facts that must
agree across fields and across the events of one entity (the order's id, number, buyer,
source; the SKU; the warehouse and its location), and draws the rest fresh each time.
Fields no maker knows (custom event types) are generated from their schema: enum, const,
format, type and range, with a few name hints.
"""

from __future__ import annotations

import string
from datetime import datetime, timedelta, timezone
from random import Random
from typing import Any, Callable, Mapping

from mock_norce.catalogue import fakedata
from mock_norce.catalogue.schemas import EventType
from mock_norce.catalogue.tenant import Market, OrderSource, Tenant, Weighted

ABSENT = object()  # a maker's answer for "this optional field is not sent this time"


class Draw:
    """The coherent facts behind a payload (or behind a scenario entity, for its whole life)."""

    __slots__ = ("tenant", "rng", "market", "fixed", "_cache", "event")
    event: EventType | None  # the type being built: enum weights and which facts apply

    def __init__(self, tenant: Tenant, rng: Random, market: Market | None = None,
                 fixed: Mapping[str, Any] | None = None):
        self.tenant = tenant
        self.rng = rng
        self.market = market if market is not None else tenant.market_weights.pick(rng)
        self.fixed = dict(fixed or {})  # field values set by the entity's author
        self._cache: dict[str, Any] = {}
        self.event = None

    def once(self, key: str, make: Callable[["Draw"], Any]) -> Any:
        """The cached value for key, made on first use: the same for every event of the draw."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = make(self)
            return value

    def chance(self, share: float) -> bool:
        return self.rng.random() < share


# --- cached facts --------------------------------------------------------------------------

def _source(d: Draw) -> OrderSource:
    if "Source" in d.fixed:
        name = d.fixed["Source"]
        return next((s for s in d.tenant.order_sources.values if s.source == name),
                    OrderSource(name, "%#######", 0.0))
    return d.tenant.order_sources.pick(d.rng)


def _buyer(d: Draw) -> fakedata.Person | None:
    if d.event is not None and "Source" in d.event.schema.get("properties", {}):
        src = d.once("source", _source)
        if src.anonymous and d.chance(src.anonymous):
            return None  # e.g. a POS sale without a known customer
    traffic = d.tenant.traffic
    return fakedata.person(d.market, d.rng, traffic.get("buyer_phone", 0.85), traffic.get("buyer_email", 0.95),
                           traffic.get("buyer_name", 0.97))


def _basket_id(d: Draw) -> int:
    return fakedata.between(d.tenant.ids["basket_id"], d.rng)


def _client_order_ref(d: Draw) -> str:
    src = d.once("source", _source)
    if src.ref == "basket":
        return str(d.once("basket_id", _basket_id))
    store = d.market.stores[int(d.rng.random() * len(d.market.stores))].code if d.market.stores else "POS01"
    return fakedata.fill(src.ref.replace("{store}", store), d.rng)


def _drop_point(d: Draw) -> str:
    if d.market.stores and d.chance(0.6):
        return d.market.stores[int(d.rng.random() * len(d.market.stores))].code
    return fakedata.fill(d.market.drop_points[int(d.rng.random() * len(d.market.drop_points))], d.rng)


def _payment_method(d: Draw):
    return d.market.payment_methods.pick(d.rng)


def _price_list(d: Draw):
    lists = d.market.price_lists
    # The market's main (first) list changes most often.
    return lists[0] if d.chance(0.6) else lists[int(d.rng.random() * len(lists))]


def _warehouse_location(d: Draw):
    wh = d.tenant.warehouses[int(d.rng.random() * len(d.tenant.warehouses))]
    return wh, wh.locations[int(d.rng.random() * len(wh.locations))]


def _minimum(d: Draw) -> float:
    return float(fakedata.between(tuple(d.tenant.traffic.get("stock_minimum", (2, 50))), d.rng))


def _id(key: str) -> Callable[[Draw], int]:
    return lambda d: d.once(key, lambda d: fakedata.between(d.tenant.ids[key], d.rng))


def _part_no(d: Draw) -> str:
    pats = d.tenant.ids["part_no"]
    return fakedata.fill(pats[int(d.rng.random() * len(pats))], d.rng)


def _buyer_field(attr: str) -> Callable[[Draw], Any]:
    def make(d: Draw):
        buyer = d.once("buyer", _buyer)
        value = getattr(buyer, attr) if buyer is not None else None
        return ABSENT if value is None else value
    return make


def _enum(field: str, fallback: Callable[[Draw], Any] | None = None) -> Callable[[Draw], Any]:
    def make(d: Draw):
        weights = d.tenant.enum_weights.get(f"{d.event.name}.{field}")
        if weights is not None:
            return weights.pick(d.rng)
        return fallback(d) if fallback else ABSENT
    return make


def _quantity_break(d: Draw) -> float:
    table = d.once("_qb", lambda d: Weighted(list(d.tenant.traffic.get("quantity_breaks", {1: 1}).items())))
    return float(table.pick(d.rng))


def _on_hand(d: Draw) -> float:
    # The notification fires when stock falls under the breakpoint: 0 <= on hand < minimum.
    minimum = d.once("minimum", _minimum)
    return float(int(d.rng.random() * minimum))


def _error_message(d: Draw) -> str:
    messages = d.tenant.traffic.get("subscription_errors") or ["Payment failed."]
    return messages[int(d.rng.random() * len(messages))]


MAKERS: dict[str, Callable[[Draw], Any]] = {
    "ClientId": lambda d: d.tenant.client_id,
    "ApplicationId": lambda d: d.market.application_id,
    "CustomerId": _id("customer_id"),
    "CompanyId": _id("company_id"),
    "CapturedInvoiceId": _id("captured_invoice_id"),
    "OrderId": _id("order_id"),
    "OrderNo": lambda d: d.once("order_no", lambda d: fakedata.fill(d.tenant.ids["order_no"], d.rng)),
    "ClientOrderRef": lambda d: d.once("client_order_ref", _client_order_ref),
    "Source": lambda d: d.once("source", _source).source,
    "FirstName": _buyer_field("first_name"),
    "LastName": _buyer_field("last_name"),
    "CellPhone": _buyer_field("phone"),
    "Email": _buyer_field("email"),
    "DropPointCode": lambda d: d.once("drop_point", _drop_point),
    "PaymentCode": lambda d: d.once("payment_code", lambda d: fakedata.reference(d.tenant.ids.get("payment_code", "hex32"), d.rng)),
    "PaymentMethodCode": lambda d: d.once("payment_method", _payment_method).code,
    "PaymentRef": lambda d: d.once("payment_ref", lambda d: fakedata.reference(d.once("payment_method", _payment_method).ref, d.rng)),
    "Amount": lambda d: d.once("amount", lambda d: fakedata.amount(*d.market.order_total, d.rng)),
    "CurrencyCode": lambda d: d.market.currency,
    "SubscriptionId": _id("subscription_id"),
    "RecurringOrderId": _id("recurring_order_id"),
    "RecurringOrderScheduleId": _id("recurring_order_schedule_id"),
    "BasketId": lambda d: d.once("basket_id", _basket_id),
    "ErrorMessage": _error_message,
    "JobId": _id("job_id"),
    "PartNo": lambda d: d.once("part_no", _part_no),
    "PricelistId": lambda d: d.once("price_list", _price_list).id,
    "PricelistCode": lambda d: d.once("price_list", _price_list).code,
    "PriceSaleValue": lambda d: fakedata.price(*d.market.sale_price, d.market.price_endings, d.rng),
    "QuantityBreak": _quantity_break,
    "WarehouseId": lambda d: d.once("warehouse", _warehouse_location)[0].id,
    "WarehouseCode": lambda d: d.once("warehouse", _warehouse_location)[0].code,
    "LocationId": lambda d: d.once("warehouse", _warehouse_location)[1].id,
    "LocationCode": lambda d: d.once("warehouse", _warehouse_location)[1].code,
    "MinimumValue": lambda d: d.once("minimum", _minimum),
    "OnHandValue": _on_hand,
    "SupplierId": lambda d: d.once("supplier", lambda d: d.tenant.suppliers[int(d.rng.random() * len(d.tenant.suppliers))]).id,
    "EntityChanged": _enum("EntityChanged"),
    "State": _enum("State"),
    "StatusId": _enum("StatusId"),
}
# ErpOrderNo (payment events) is the same ERP order number as OrderNo.
MAKERS["ErpOrderNo"] = MAKERS["OrderNo"]

# Fields whose makers decide presence themselves (the buyer gave a phone or not, consistently
# for the whole order), so the plan must not add a second coin toss.
_SELF_PRESENCE = {"FirstName", "LastName", "CellPhone", "Email"}


def plan_for(et: EventType, tenant: Tenant) -> list[tuple[str, Callable[[Draw], Any]]]:
    """For each property of the type, in schema order, a function of a Draw giving its value."""
    traffic = tenant.traffic
    required = set(et.required)
    plan = []
    for name, schema in et.schema.get("properties", {}).items():
        make = MAKERS.get(name)
        if make is None or (name in _ENUM_FIELDS and "enum" not in schema and not _has_weights(tenant, et, name)):
            make = from_schema(schema if isinstance(schema, dict) else {}, name, et.schema)
        elif name in _ENUM_FIELDS:
            make = _enum(name, from_schema(schema, name, et.schema))
        share = None
        if name not in required and name not in _SELF_PRESENCE:
            share = traffic.get("optional_presence", 0.85)
            if name == "ApplicationId" and et.kind == "Notification":
                share = traffic.get("application_id_on_notifications", 0.6)
        fallback = None
        if name in required and name in _SELF_PRESENCE:
            fallback = from_schema(schema if isinstance(schema, dict) else {}, name, et.schema)
        plan.append((name, _field(name, make, et, share, fallback)))
    return plan


_ENUM_FIELDS = {"EntityChanged", "State", "StatusId"}


def _has_weights(tenant: Tenant, et: EventType, name: str) -> bool:
    return f"{et.name}.{name}" in tenant.enum_weights


def _field(name: str, make: Callable[[Draw], Any], event: EventType, share: float | None,
           fallback: Callable[[Draw], Any] | None):
    """One field's value for a Draw: the entity's fixed value, else (maybe) a made one."""
    def value(d: Draw):
        if name in d.fixed:
            return d.fixed[name]
        if share is not None and d.rng.random() >= share:
            return ABSENT
        d.event = event
        made = make(d)
        if made is ABSENT and fallback is not None:  # a required field the buyer did not give
            made = fallback(d)
        return made
    return value


# --- values from a schema (custom event types, unknown field names) ------------------------

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
    tables = fakedata.name_tables(d.market.locale)
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
