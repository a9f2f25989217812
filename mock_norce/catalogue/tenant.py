"""The fake Norce tenant: client, markets (applications), warehouses, suppliers, sources.

Loaded once from ``fixtures/tenant.yaml`` into frozen objects with the weights already
turned into cumulative tables (weighted.Weighted), so generation only draws from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from mock_norce.errors import TenantError, UnknownMarket
from mock_norce.weighted import Weighted


def _weighted(pairs, where: str) -> Weighted:
    return Weighted(pairs, where, error=TenantError)


@dataclass(frozen=True)
class PaymentMethod:
    code: str
    ref: str


@dataclass(frozen=True)
class Store:
    code: str
    name: str


@dataclass(frozen=True)
class PriceList:
    id: int
    code: str


@dataclass(frozen=True)
class Market:
    code: str
    name: str
    application_id: int
    culture: str
    currency: str
    locale: str
    mobile_patterns: tuple[str, ...]
    email_domains: Weighted
    price_lists: tuple[PriceList, ...]
    sale_price: tuple[float, float]
    order_total: tuple[float, float]
    price_endings: tuple[float, ...]
    payment_methods: Weighted
    stores: tuple[Store, ...]
    drop_points: tuple[str, ...]


@dataclass(frozen=True)
class Location:
    id: int
    code: str


@dataclass(frozen=True)
class Warehouse:
    id: int
    code: str
    name: str
    locations: tuple[Location, ...]


@dataclass(frozen=True)
class Supplier:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class OrderSource:
    source: str
    ref: str
    anonymous: float


@dataclass(frozen=True)
class Tenant:
    client_id: int
    client_name: str
    markets: tuple[Market, ...]
    market_weights: Weighted
    warehouses: tuple[Warehouse, ...]
    suppliers: tuple[Supplier, ...]
    order_sources: Weighted
    ids: dict
    traffic: dict
    enum_weights: dict  # "Type.Field" -> Weighted

    def market(self, code: str) -> Market:
        """The market with this code (case-insensitive), or UnknownMarket."""
        for m in self.markets:
            if m.code == code.upper():
                return m
        known = ", ".join(m.code for m in self.markets)
        raise UnknownMarket(f"unknown market {code!r}; the tenant has {known}")


def load_tenant(path: Path) -> Tenant:
    """Read and check a tenant file; every problem is a TenantError naming the part."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TenantError(f"cannot read tenant file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TenantError(f"tenant file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TenantError(f"tenant file {path} must be a mapping")
    try:
        return _build(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise TenantError(f"tenant file {path}: missing or malformed {exc}") from None


def _range(value, where: str) -> tuple:
    low, high = value
    if low > high:
        raise TenantError(f"tenant {where}: range {value} is upside down")
    return (low, high)


def _build(raw: dict) -> Tenant:
    markets = []
    for i, m in enumerate(raw["markets"]):
        if not isinstance(m.get("code"), str):
            raise TenantError(f"markets[{i}].code must be a string such as \"SE\" "
                              f"(got {m.get('code')!r}; YAML reads an unquoted NO as false)")
        markets.append(
            Market(
                code=m["code"],
                name=m["name"],
                application_id=int(m["application_id"]),
                culture=m["culture"],
                currency=m["currency"],
                locale=m["locale"],
                mobile_patterns=tuple(m["mobile_patterns"]),
                email_domains=_weighted(list(m["email_domains"].items()), f"{m['code']}.email_domains"),
                price_lists=tuple(PriceList(int(p["id"]), p["code"]) for p in m["price_lists"]),
                sale_price=_range(m["sale_price"], f"{m['code']}.sale_price"),
                order_total=_range(m["order_total"], f"{m['code']}.order_total"),
                price_endings=tuple(m["price_endings"]),
                payment_methods=_weighted(
                    [(PaymentMethod(p["code"], p["ref"]), p["weight"]) for p in m["payment_methods"]],
                    f"{m['code']}.payment_methods",
                ),
                stores=tuple(Store(s["code"], s["name"]) for s in m.get("stores", ())),
                drop_points=tuple(m["drop_points"]),
            )
        )
    if not markets:
        raise TenantError("tenant has no markets")
    warehouses = tuple(
        Warehouse(
            int(w["id"]),
            w["code"],
            w.get("name", w["code"]),
            tuple(Location(int(loc["id"]), loc["code"]) for loc in w["locations"]),
        )
        for w in raw["warehouses"]
    )
    if any(not w.locations for w in warehouses):
        raise TenantError("every warehouse needs at least one location")
    traffic = dict(raw.get("traffic") or {})
    enum_weights = {
        key: _weighted(list(table.items()), f"traffic.enums.{key}")
        for key, table in (traffic.get("enums") or {}).items()
    }
    ids = dict(raw["ids"])
    for key in ("order_id", "basket_id", "customer_id", "company_id", "captured_invoice_id", "job_id",
                "subscription_id", "recurring_order_id", "recurring_order_schedule_id"):
        ids[key] = _range(ids[key], f"ids.{key}")
    ids["part_no"] = tuple(ids["part_no"])
    return Tenant(
        client_id=int(raw["client"]["id"]),
        client_name=raw["client"].get("name", ""),
        markets=tuple(markets),
        market_weights=_weighted([(m, raw_m.get("weight", 1)) for m, raw_m in zip(markets, raw["markets"])],
                                "markets.weight"),
        warehouses=warehouses,
        suppliers=tuple(Supplier(int(s["id"]), s["code"], s["name"]) for s in raw["suppliers"]),
        order_sources=_weighted(
            [(OrderSource(s["source"], s["ref"], float(s.get("anonymous", 0))), s["weight"])
             for s in raw["order_sources"]],
            "order_sources",
        ),
        ids=ids,
        traffic=traffic,
        enum_weights=enum_weights,
    )
