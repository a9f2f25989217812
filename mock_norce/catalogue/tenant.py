"""The fake Norce tenant: client, markets (applications), warehouses, suppliers, sources.

Loaded once from ``fixtures/tenant.yaml`` into frozen objects with the weights already
turned into cumulative tables (weighted.Weighted), so generation only draws from them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import yaml

from mock_norce.catalogue.names import NameTables, load_names
from mock_norce.catalogue.patterns import fill
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
    factor: float = 1.0  # its prices: the market's main list times this


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
    country_id: int | None = None
    country_name: str | None = None
    currency_id: int | None = None
    vat_rate: float = 25.0
    freight: float = 0.0
    cities: tuple[tuple[str, str], ...] = ()  # (city, postal-code pattern)
    streets: tuple[str, ...] = ()
    names: NameTables | None = None  # from the market's names file; None: the Faker locale's


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
    part_no: str = "????-#####"  # the form of the supplier's own part numbers (a fill() pattern)


@dataclass(frozen=True)
class Sku:
    """One SKU of the assortment: a product in one size, its main-list price per currency."""

    part_no: str
    product_id: int
    name: str
    supplier_id: int | None
    prices: dict  # currency code -> sale price excluding VAT on the market's main list
    supplier_part_no: str | None = None  # the supplier's part number for this SKU (its own form)

    def price(self, market: "Market", price_list: PriceList | None = None) -> float | None:
        base = self.prices.get(market.currency)
        if base is None:
            return None
        factor = price_list.factor if price_list is not None else 1.0
        return round(base * factor, 2)


@dataclass(frozen=True)
class OrderSource:
    source: str
    ref: str
    anonymous: float
    # How orders from here are paid and delivered; None: the market's payment methods and the
    # tenant's delivery modes. A marketplace collects the payment itself and pays the shop.
    payment_methods: Weighted | None = None
    delivery_modes: Weighted | None = None

    @property
    def web(self) -> bool:
        """An order made in Norce (its reference is the basket): the only kind picked up."""
        return self.ref == "basket"


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
    skus: tuple[Sku, ...] = ()
    cost_share: float = 0.45
    delivery_modes: Weighted | None = None

    def market_of(self, application_id) -> Market | None:
        """The market whose application id this is, or None."""
        for m in self.markets:
            if m.application_id == application_id:
                return m
        return None

    def sku(self, part_no: str) -> Sku | None:
        return self._sku_index().get(part_no)

    def supplier_sku(self, supplier_id: int, part_no: str) -> Sku | None:
        """The assortment SKU that a supplier's part number stands for, or None."""
        return self._cached("_by_supplier_part", lambda: {
            (s.supplier_id, s.supplier_part_no): s for s in self.skus if s.supplier_id is not None
        }).get((supplier_id, part_no))

    def skus_of(self, supplier_id: int | None) -> tuple[Sku, ...]:
        """The assortment SKUs a supplier delivers (None: every SKU that has a supplier)."""
        index = self._cached("_skus_of", lambda: _group_by_supplier(self.skus))
        return index.get(supplier_id, ())

    def supplier(self, supplier_id) -> Supplier | None:
        return next((s for s in self.suppliers if s.id == supplier_id), None)

    def source(self, name: str) -> OrderSource | None:
        """The order source of this name, or None."""
        return next((s for s in self.order_sources.values if s.source == name), None)

    def _cached(self, key: str, make):
        value = self.__dict__.get(key)
        if value is None:
            value = make()
            object.__setattr__(self, key, value)  # a cache on a frozen object
        return value

    def _sku_index(self) -> dict:
        index = self.__dict__.get("_skus_by_part_no")
        if index is None:
            index = {s.part_no: s for s in self.skus}
            object.__setattr__(self, "_skus_by_part_no", index)  # a cache on a frozen object
        return index

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
        return _build(raw, Path(path).parent)
    except (KeyError, TypeError, ValueError) as exc:
        raise TenantError(f"tenant file {path}: missing or malformed {exc}") from None


def _range(value, where: str) -> tuple:
    low, high = value
    if low > high:
        raise TenantError(f"tenant {where}: range {value} is upside down")
    return (low, high)


def _build(raw: dict, base: Path) -> Tenant:
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
                price_lists=tuple(PriceList(int(p["id"]), p["code"], float(p.get("factor", 1.0)))
                                  for p in m["price_lists"]),
                sale_price=_range(m["sale_price"], f"{m['code']}.sale_price"),
                order_total=_range(m["order_total"], f"{m['code']}.order_total"),
                price_endings=tuple(m["price_endings"]),
                payment_methods=_weighted(
                    [(PaymentMethod(p["code"], p["ref"]), p["weight"]) for p in m["payment_methods"]],
                    f"{m['code']}.payment_methods",
                ),
                stores=tuple(Store(s["code"], s["name"]) for s in m.get("stores", ())),
                drop_points=tuple(m["drop_points"]),
                country_id=_optional_int((m.get("country") or {}).get("id")),
                country_name=(m.get("country") or {}).get("name"),
                currency_id=_optional_int(m.get("currency_id")),
                vat_rate=float(m.get("vat_rate", 25.0)),
                freight=float(m.get("freight", 0.0)),
                cities=tuple((str(c), str(z)) for c, z in m.get("cities", ())),
                streets=tuple(str(x) for x in m.get("streets", ())),
                names=load_names(_names_path(base, m["names"])) if m.get("names") else None,
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
    suppliers = tuple(Supplier(int(s["id"]), s["code"], s["name"], str(s.get("part_no", "????-#####")))
                      for s in raw["suppliers"])
    assortment = raw.get("assortment") or {}
    skus = _skus(assortment.get("products") or (), {s.code: s for s in suppliers})
    modes = raw.get("delivery_modes")
    return Tenant(
        client_id=int(raw["client"]["id"]),
        client_name=raw["client"].get("name", ""),
        markets=tuple(markets),
        market_weights=_weighted([(m, raw_m.get("weight", 1)) for m, raw_m in zip(markets, raw["markets"])],
                                "markets.weight"),
        warehouses=warehouses,
        suppliers=suppliers,
        order_sources=_weighted([(_order_source(s), s["weight"]) for s in raw["order_sources"]], "order_sources"),
        ids=ids,
        traffic=traffic,
        enum_weights=enum_weights,
        skus=skus,
        cost_share=float(assortment.get("cost", 0.45)),
        delivery_modes=_weighted(list(modes.items()), "delivery_modes") if modes else None,
    )


_BUILTIN = Path(__file__).resolve().parent.parent / "fixtures"


def _names_path(base: Path, name: str) -> str:
    """A names file next to the tenant file, else the built-in one of that name (so a copy of
    the built-in tenant, edited elsewhere, keeps the shipped names)."""
    here = base / name
    return str((here if here.exists() or not (_BUILTIN / name).exists() else _BUILTIN / name).resolve())


def _order_source(raw: dict) -> OrderSource:
    name = raw["source"]
    methods = raw.get("payment_methods")
    modes = raw.get("delivery_modes")
    return OrderSource(
        name, raw["ref"], float(raw.get("anonymous", 0)),
        payment_methods=_weighted([(PaymentMethod(p["code"], p["ref"]), p["weight"]) for p in methods],
                                  f"order_sources.{name}.payment_methods") if methods else None,
        delivery_modes=_weighted(list(modes.items()), f"order_sources.{name}.delivery_modes") if modes else None,
    )


def _group_by_supplier(skus) -> dict:
    out: dict = {None: []}
    for s in skus:
        if s.supplier_id is not None:
            out.setdefault(s.supplier_id, []).append(s)
            out[None].append(s)
    return {k: tuple(v) for k, v in out.items()}


def _optional_int(value) -> int | None:
    return None if value is None else int(value)


def _skus(products, suppliers: dict) -> tuple[Sku, ...]:
    """The assortment's SKUs: one per size of a product, or one ("-01") for a product without
    sizes; each with its supplier's part number, in the supplier's own form (drawn from the
    SKU's part number, so it is the same in every run)."""
    out, seen, taken = [], set(), set()
    for i, p in enumerate(products):
        supplier = suppliers.get(p.get("supplier"))
        if p.get("supplier") is not None and supplier is None:
            raise TenantError(f"assortment.products[{i}]: unknown supplier {p.get('supplier')!r}")
        prices = {str(c): float(v) for c, v in p["prices"].items()}
        for size in p.get("sizes") or [None]:
            part_no = f"{p['id']}-{size}" if size is not None else f"{p['id']}-01"
            if part_no in seen:
                raise TenantError(f"assortment.products[{i}]: part number {part_no} appears twice")
            seen.add(part_no)
            name = f"{p['name']}, {size}" if size is not None else p["name"]
            theirs = _supplier_part_no(supplier, part_no, taken) if supplier is not None else None
            out.append(Sku(part_no, int(p["id"]), name, supplier.id if supplier else None, prices, theirs))
    return tuple(out)


def _supplier_part_no(supplier: Supplier, part_no: str, taken: set) -> str:
    """The supplier's own part number for one of our SKUs: its pattern filled from our part
    number, unique per supplier (a pattern too small for the assortment is a TenantError)."""
    rng = random.Random(f"supplier-part:{supplier.id}:{part_no}")
    for _ in range(100):
        theirs = fill(supplier.part_no, rng)
        if (supplier.id, theirs) not in taken and theirs != part_no:
            taken.add((supplier.id, theirs))
            return theirs
    raise TenantError(f"supplier {supplier.code}: part_no pattern {supplier.part_no!r} has too few numbers")
