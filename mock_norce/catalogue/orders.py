"""What an order contains: its rows, freight and totals, as a pure function of its id.

The events about an order and the order that the Query API serves must agree (a payment's
Amount is the order's total). Both sides call ``order_contents`` with the order's id and
market, so neither has to ask the other, and the same id gives the same order in every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mock_norce.catalogue import fakedata
from mock_norce.catalogue.tenant import Market, Tenant

_LINE_COUNTS = (1, 1, 1, 2, 2, 2, 3, 3, 4)  # most orders have one to three rows
_QUANTITIES = (1, 1, 1, 1, 1, 2, 2, 3)


@dataclass(frozen=True)
class Line:
    number: int
    part_no: str
    name: str
    quantity: int
    price: float  # sale price per unit, excluding VAT

    @property
    def amount(self) -> float:
        return round(self.price * self.quantity, 2)


@dataclass(frozen=True)
class Contents:
    lines: tuple[Line, ...]
    freight: float  # excluding VAT
    vat_rate: float  # percent

    @property
    def net(self) -> float:
        """Rows plus freight, excluding VAT."""
        return round(sum(line.amount for line in self.lines) + self.freight, 2)

    @property
    def vat(self) -> float:
        return round(self.net * self.vat_rate / 100, 2)

    @property
    def total(self) -> float:
        """What the buyer pays: rows and freight including VAT (a payment's Amount)."""
        return round(self.net + self.vat, 2)


_SOLD: dict[tuple[int, str], list] = {}


def _sold_in(tenant: Tenant, currency: str) -> list:
    """The SKUs with a price in this currency (kept per tenant: orders are made in hot loops)."""
    key = (id(tenant), currency)
    skus = _SOLD.get(key)
    if skus is None:
        skus = _SOLD[key] = [s for s in tenant.skus if currency in s.prices]
    return skus


def rng_for(kind: str, key) -> random.Random:
    """The random source of one entity: the same kind and key give the same entity, in any run.
    (A str seed is hashed with SHA-512 by Random, independent of PYTHONHASHSEED.)"""
    return random.Random(f"{kind}:{key}")


def order_contents(tenant: Tenant, market: Market, order_id: int, rng: random.Random | None = None) -> Contents:
    """The rows of the order with this id: SKUs of the assortment at the market's main list price.

    ``rng`` (from ``rng_for("order", order_id)``) lets the caller draw more of the same order
    from the same source afterwards; the rows are drawn first, so they are the same either way.
    """
    rng = rng if rng is not None else rng_for("order", order_id)
    count = _LINE_COUNTS[int(rng.random() * len(_LINE_COUNTS))]
    skus = _sold_in(tenant, market.currency)
    lines = []
    if skus:
        for n, sku in enumerate(rng.sample(skus, min(count, len(skus))), start=1):
            quantity = _QUANTITIES[int(rng.random() * len(_QUANTITIES))]
            lines.append(Line(n, sku.part_no, sku.name, quantity, sku.price(market)))
    else:  # a tenant without an assortment: part numbers from its patterns, shop-like prices
        patterns = tenant.ids["part_no"]
        for n in range(1, count + 1):
            part_no = fakedata.fill(patterns[int(rng.random() * len(patterns))], rng)
            price = fakedata.price(*market.sale_price, market.price_endings, rng)
            lines.append(Line(n, part_no, f"Article {part_no}", 1, price))
    return Contents(tuple(lines), market.freight, market.vat_rate)
