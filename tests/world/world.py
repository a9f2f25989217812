"""The small world the Query API tests read: orders with items and addresses, SKUs with
composite-key price rows, supplier SKUs, customers and companies; and a reader like
storage.Database's.

``insert`` fills every non-nullable column the test does not care about with a plain default,
so each row below names only what the tests assert on.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

from mock_norce.world.model import EntityType, Model

MODEL_FILE = Path(__file__).resolve().parents[2] / "mock_norce" / "fixtures" / "query-model.yaml"
DEFAULTS = {"Int32": 0, "Int64": 0, "Decimal": 0.0, "Double": 0.0, "Boolean": 0, "String": "",
            "Guid": "00000000-0000-0000-0000-000000000000", "DateTimeOffset": "2026-01-01T00:00:00Z"}


def insert(conn: sqlite3.Connection, entity: EntityType, **values) -> None:
    row = {name: DEFAULTS[p.type] for name, p in entity.properties.items() if not p.nullable}
    row.update(values)
    cols = ", ".join(f'"{c}"' for c in row)
    conn.execute(f'INSERT INTO "{entity.table}" ({cols}) VALUES ({", ".join("?" for _ in row)})', list(row.values()))


def types(model: Model, ns: str) -> dict[str, EntityType]:
    return dict(model.namespaces[ns].types)


def fill(conn: sqlite3.Connection, model: Model) -> None:
    o = types(model, "Orders")
    insert(conn, o["Address"], Id=1, Name="Ada Buyer", City="Malmö")
    insert(conn, o["Address"], Id=2, Name="Ship Here", City="Lund")
    insert(conn, o["Order"], Id=2147500123, OrderNo="SO-1001", StatusId=2, QuotationId=7001, Source="WEB",
           OrderDate="2026-03-01T10:00:00Z", IsPartDelivery=0, FreightCost=49.0, DeliveryCity="Lund",
           _buyer_address=1, _ship_to_address=2, CurrencyId=1, DeliveryMark="Mark 'A'")
    insert(conn, o["Order"], Id=2147500124, OrderNo="SO-1002", StatusId=6, QuotationId=7002, Source="POS",
           OrderDate="2026-03-02T09:30:00Z", IsPartDelivery=1, FreightCost=0.0, DeliveryCity="lund",
           CurrencyId=1)
    insert(conn, o["Order"], Id=2147500125, OrderNo="so-1003", StatusId=4, QuotationId=None, Source=None,
           OrderDate="2026-03-03T12:00:00Z", IsPartDelivery=0, FreightCost=99.5, DeliveryCity="Malmö",
           _buyer_address=1, CurrencyId=2)
    items = [(1, 2147500123, 1, "100011-M", 2), (2, 2147500123, 2, "100012-L", 1),
             (3, 2147500123, 3, "FREIGHT", 1), (4, 2147500124, 1, "100011-M", 5)]
    for item_id, order_id, line, part, qty in items:
        insert(conn, o["OrderItem"], Id=item_id, OrderId=order_id, LineNumber=line, PartNo=part, QtyOrdered=qty,
               PriceSale=100.0 * line, LineAmount=100.0 * line * qty)
    insert(conn, o["OrderInfo"], OrderId=2147500123, TypeId=1, Value="gift")
    p = types(model, "Products")
    insert(conn, p["ProductSku"], PartNo="100011-M", ProductId=11, StatusId=1, IsPublished=1)
    insert(conn, p["ProductSku"], PartNo="100012-L", ProductId=12, StatusId=5, IsPublished=0)
    for part, price_list, qty, price, active in [("100011-M", 1, 1, 199.0, 1), ("100011-M", 1, 10, 179.0, 1),
                                                 ("100011-M", 2, 1, 189.0, 0), ("100012-L", 1, 1, 299.0, 1)]:
        insert(conn, p["ProductSkuPriceList"], PartNo=part, PriceListId=price_list, QtyBreak=qty,
               PriceSale=price, IsActive=active)
    insert(conn, p["SupplierProductSku"], PartNo="A-1", SupplierId=501, Name="Supplier thing")
    insert(conn, p["SupplierProductSku"], PartNo="A-1", SupplierId=502, Name="Other supplier's thing")
    c = types(model, "Customers")
    insert(conn, c["Customer"], Id=42, CustomerCode="C-42", EmailAddress="ada@example.com", FirstName="Ada",
           Key="0a1b2c3d-0000-4000-8000-00000000002a")
    insert(conn, c["Company"], Id=9, CompanyCode="ACME", Name="Acme AB")
    insert(conn, c["CustomerCompany"], CustomerId=42, CompanyId=9, IsPrimary=1)
    conn.commit()


def reader_for(path: Path):
    @contextmanager
    def reader():
        conn = sqlite3.connect(path)
        conn.row_factory = sqlite3.Row  # as storage.Database's readers have
        try:
            yield conn
        finally:
            conn.close()
    return reader
