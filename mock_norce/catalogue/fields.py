"""Field values by field name, and the Draw that keeps related values together.

``MAKERS`` maps a Norce field name to a function of a Draw. A Draw caches the facts that must
agree across fields and across the events of one entity (the order's id, number, buyer,
source; the SKU; the warehouse and its location), and draws the rest fresh each time.
Fields no maker knows (custom event types) are generated from their schema
(schema_values.py); plan.py picks, for each field of a type, its maker and how often it is sent.
"""

from __future__ import annotations

import weakref
from random import Random
from typing import Any, Callable, Mapping

from mock_norce.catalogue import fakedata
from mock_norce.catalogue.orders import order_contents
from mock_norce.catalogue.schemas import EventType
from mock_norce.catalogue.tenant import Market, OrderSource, Tenant
from mock_norce.weighted import Weighted

ABSENT = object()  # a maker's answer for "this optional field is not sent this time"


class Draw:
    """The coherent facts behind a payload (or behind a scenario entity, for its whole life)."""

    __slots__ = ("tenant", "rng", "market", "fixed", "_cache", "event")
    event: EventType | None  # the type being built: enum weights and which facts apply

    def __init__(self, tenant: Tenant, rng: Random, market: Market | None = None,
                 fixed: Mapping[str, Any] | None = None, own_rng: bool = False):
        self.tenant = tenant
        if market is None:
            self.rng = rng
            self.market = tenant.market_weights.pick(rng)
        else:
            # A market named by the caller: the same randomness in another market is another
            # order (another OrderId, OrderNo, CustomerId...), as two shops never share ids, so
            # the draw takes the market's own random source, seeded once per caller's source
            # from it and the market (``own_rng``: the caller's is already the market's, see
            # market_seed). Seeding one costs 6 µs, a third of a payload: so once, not per draw.
            self.rng = rng if own_rng else _market_rng(rng, tenant, market)
            self.market = market
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

    def facts(self) -> dict:
        """What the world needs beyond the payload to build the entity coherently: the
        order's id when an event about it carries none (a payment, an invoice capture) and
        the buyer's e-mail address (the order events carry only name and phone)."""
        out = {key: self._cache[key] for key in _FACTS if key in self._cache}
        buyer = self._cache.get("buyer")
        if buyer is not None and buyer.email:
            out["email"] = buyer.email
        # How the order is paid and where it comes from, for an order a payment makes (the
        # payment event names neither its source nor, always, its method).
        if "source" in self._cache:
            out["source"] = self._cache["source"].source
        if "payment_method" in self._cache:
            out["payment_method"] = self._cache["payment_method"].code
        return out


def _place(tenant: Tenant, market: Market) -> int:
    """1 for the tenant's first market, 2 for the second...; a market not in the tenant: 0."""
    for n, m in enumerate(tenant.markets, start=1):
        if m is market:
            return n
    return 0


_MARKET_RNGS: "weakref.WeakKeyDictionary[Random, dict]" = weakref.WeakKeyDictionary()


def _market_rng(rng: Random, tenant: Tenant, market: Market) -> Random:
    """The market's random source that follows the caller's ``rng`` (a schedule's stream, a
    scenario's player): made from it on first use, then used for every draw in that market."""
    per_market = _MARKET_RNGS.get(rng)
    if per_market is None:
        per_market = _MARKET_RNGS[rng] = {}
    own = per_market.get(market.code)
    if own is None:
        own = per_market[market.code] = Random(rng.getrandbits(64) << 8 | _place(tenant, market))
    return own


def market_seed(tenant: Tenant, seed: int, market: Market) -> int:
    """The seed of a payload's random source when its market is named: another for each
    market (Random takes a seed's absolute value, so the sign is kept apart too)."""
    return (abs(seed) << 9) | (seed < 0) << 8 | _place(tenant, market)


_FACTS = ("order_id", "order_no", "client_order_ref", "basket_id")
_PICKUP = "OrderReadyForPickupEvent"  # only web orders are picked up (not POS, not marketplace)


# --- cached facts --------------------------------------------------------------------------

def _source(d: Draw) -> OrderSource:
    if "Source" in d.fixed:
        name = d.fixed["Source"]
        return d.tenant.source(name) or OrderSource(name, "%#######", 0.0)
    if d.event is not None and d.event.name == _PICKUP:
        web = [s for s in d.tenant.order_sources.values if s.web]
        if web:
            return web[int(d.rng.random() * len(web))]
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
    """The market's methods for a web order; a marketplace's own (it collects the payment)
    or the till's for orders from there."""
    own = d.once("source", _source).payment_methods
    return (own if own is not None else d.market.payment_methods).pick(d.rng)


def _payment_ref(d: Draw) -> str:
    kind = d.once("payment_method", _payment_method).ref
    if kind == "order":  # a marketplace's settlement names its own order
        return d.fixed.get("ClientOrderRef") or d.once("client_order_ref", _client_order_ref)
    return fakedata.reference(kind, d.rng)


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


def _supplier_sku(d: Draw) -> tuple[int, str]:
    """(SupplierId, the supplier's part number): mostly one of the supplier's assortment SKUs,
    else a part number of the supplier's form no order has named yet. A scenario's fixed
    SupplierId picks among that supplier's."""
    tenant = d.tenant
    supplier = tenant.supplier(d.fixed.get("SupplierId")) if "SupplierId" in d.fixed else None
    skus = tenant.skus_of(supplier.id if supplier is not None else None)
    if skus and d.chance(tenant.traffic.get("assortment_share", 0.8)):
        sku = skus[int(d.rng.random() * len(skus))]
        return sku.supplier_id, sku.supplier_part_no
    if supplier is None:
        supplier = tenant.suppliers[int(d.rng.random() * len(tenant.suppliers))]
    return supplier.id, fakedata.fill(supplier.part_no, d.rng)


def _item_part_no(d: Draw) -> str:
    """A PartNo: the supplier's own part number in an event about a supplier's SKU, else ours."""
    if d.event is not None and "SupplierId" in d.event.schema.get("properties", {}):
        return d.once("supplier_sku", _supplier_sku)[1]
    return d.once("part_no", _part_no)


def _part_no(d: Draw) -> str:
    # Mostly the assortment (SKUs that orders contain); the rest a SKU no order has named yet
    # (the world makes it on first mention), as a catalogue is larger than what sells.
    if d.tenant.skus and d.chance(d.tenant.traffic.get("assortment_share", 0.8)):
        return d.tenant.skus[int(d.rng.random() * len(d.tenant.skus))].part_no
    pats = d.tenant.ids["part_no"]
    return fakedata.fill(pats[int(d.rng.random() * len(pats))], d.rng)


def _buyer_field(attr: str) -> Callable[[Draw], Any]:
    def make(d: Draw):
        buyer = d.once("buyer", _buyer)
        value = getattr(buyer, attr) if buyer is not None else None
        return ABSENT if value is None else value
    return make


def weighted_enum(field: str, fallback: Callable[[Draw], Any] | None = None) -> Callable[[Draw], Any]:
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


def _amount(d: Draw) -> float:
    """A payment's amount: the total of the order it pays (the same id gives the same rows)."""
    return order_contents(d.tenant, d.market, MAKERS["OrderId"](d)).total


def _new_price(d: Draw) -> float:
    """A price list's new price for the SKU: its list price moved up or down, or any shop
    price for a SKU outside the assortment."""
    sku = d.tenant.sku(d.once("part_no", _part_no))
    price_list = d.once("price_list", _price_list)
    current = sku.price(d.market, price_list) if sku is not None else None
    if current is None:
        return fakedata.price(*d.market.sale_price, d.market.price_endings, d.rng)
    # Excluding VAT, so any cent: a campaign or a repricing moves it by up to 30% either way.
    return round(current * (0.7 + 0.6 * d.rng.random()), 2)


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
    "PaymentRef": lambda d: d.once("payment_ref", _payment_ref),
    "Amount": lambda d: d.once("amount", _amount),
    "CurrencyCode": lambda d: d.market.currency,
    "SubscriptionId": _id("subscription_id"),
    "RecurringOrderId": _id("recurring_order_id"),
    "RecurringOrderScheduleId": _id("recurring_order_schedule_id"),
    "BasketId": lambda d: d.once("basket_id", _basket_id),
    "ErrorMessage": _error_message,
    "JobId": _id("job_id"),
    "PartNo": _item_part_no,
    "PricelistId": lambda d: d.once("price_list", _price_list).id,
    "PricelistCode": lambda d: d.once("price_list", _price_list).code,
    "PriceSaleValue": _new_price,
    "QuantityBreak": _quantity_break,
    "WarehouseId": lambda d: d.once("warehouse", _warehouse_location)[0].id,
    "WarehouseCode": lambda d: d.once("warehouse", _warehouse_location)[0].code,
    "LocationId": lambda d: d.once("warehouse", _warehouse_location)[1].id,
    "LocationCode": lambda d: d.once("warehouse", _warehouse_location)[1].code,
    "MinimumValue": lambda d: d.once("minimum", _minimum),
    "OnHandValue": _on_hand,
    "SupplierId": lambda d: d.once("supplier_sku", _supplier_sku)[0],
    "EntityChanged": weighted_enum("EntityChanged"),
    "State": weighted_enum("State"),
    "StatusId": weighted_enum("StatusId"),
}
# ErpOrderNo (payment events) is the same ERP order number as OrderNo.
MAKERS["ErpOrderNo"] = MAKERS["OrderNo"]
