"""The entities an event's ids name, as Query API paths: "the order behind this event".

The paths are the ones query.md §3 gives for following a webhook into the Query API (2.0
spelling, relative to the host); the delivery views in the API and the UI show them.
"""

from __future__ import annotations

from urllib.parse import quote

QUERY = "/commerce/query/2.0"
JOBS = "/commerce/connect/4.0/api/Job/Get?id="


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The ids that name their entity by number alone: (payload field, kind, path).
# Customers and companies first; then the master data the ids of stock, price and order
# events name (Application and Core). A job is at Connect's path, not the Query API's.
_BY_NUMBER = (
    ("CustomerId", "customer", QUERY + "/Customers/Customers({})?$expand=Addresses"),
    ("CompanyId", "company", QUERY + "/Customers/Companies({})?$expand=Addresses,Customers"),
    ("JobId", "job", JOBS + "{}"),
    ("PricelistId", "price_list", QUERY + "/Application/PriceLists({})"),
    ("WarehouseId", "warehouse", QUERY + "/Application/ClientWarehouses({})?$expand=Locations"),
    ("LocationId", "warehouse_location", QUERY + "/Application/WarehouseLocations({})"),
    ("SupplierId", "supplier", QUERY + "/Application/ClientSuppliers({})"),
    ("ApplicationId", "application", QUERY + "/Core/Applications({})"),
)


def entity_links(body) -> list[dict]:
    """[{kind, id, href}] for every id in a payload that names an entity the world serves."""
    if not isinstance(body, dict):
        return []
    out = []

    def add(kind: str, key, path: str) -> None:
        out.append({"kind": kind, "id": key, "href": path})

    if _is_int(body.get("OrderId")):
        add("order", body["OrderId"], f"{QUERY}/Orders/Orders({body['OrderId']})?$expand=Items")
    elif isinstance(body.get("ErpOrderNo"), str):
        add("order", body["ErpOrderNo"],
            f"{QUERY}/Orders/Orders?$filter=" + quote(f"OrderNo eq {_literal(body['ErpOrderNo'])}", safe="'"))
    if _is_int(body.get("CapturedInvoiceId")):
        add("invoice", body["CapturedInvoiceId"], f"{QUERY}/Orders/Invoices({body['CapturedInvoiceId']})?$expand=Items")
    part_no = body.get("PartNo") if isinstance(body.get("PartNo"), str) else None
    if part_no is not None and _is_int(body.get("SupplierId")):
        add("supplier_sku", f"{part_no}/{body['SupplierId']}",
            f"{QUERY}/Products/SupplierProductSkus(PartNo={quote(_literal(part_no), safe=chr(39))},"
            f"SupplierId={body['SupplierId']})?$expand=PriceLists,OnHands")
    elif part_no is not None:
        add("sku", part_no, f"{QUERY}/Products/ProductSkus({quote(_literal(part_no), safe=chr(39))})"
                            "?$expand=PriceLists,OnHands")
    for field, kind, path in _BY_NUMBER:
        if _is_int(body.get(field)):
            add(kind, body[field], path.format(body[field]))
    return out
