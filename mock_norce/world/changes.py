"""How each event type changes the world, applied when the event is recorded.

Norce sends an event after the change it reports, so a subscriber that fetches the entity on
receipt must see the new state: ``apply`` runs (in the world's transaction) just before the
event is recorded, so before its first attempt. It creates every entity the event refers to (``builder.py``) and
then changes it as the event says. A payload that breaks its schema changes only what its
well-typed fields allow; an event type with no entity in the Query API (a basket before the
ERP confirms it, a subscription) changes nothing.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable

from mock_norce.catalogue.tenant import Tenant
from mock_norce.world import builder
from mock_norce.world.builder import CONFIRMED, DELIVERED, INTEGRATION_USER, INVOICED, PARTLY_DELIVERED
from mock_norce.world.change import ORDER_STATUS, Change
from mock_norce.world.rows import Rows


def _order_event(c: Change) -> None:
    order_id = c.int_field("OrderId")
    if order_id is None:
        return
    target = ORDER_STATUS[c.event_type]
    _, _, made = c.order(order_id, target if target is not None else CONFIRMED)
    if c.event_type == "OrderReadyForPickupEvent":
        _ready_for_pickup(c, order_id)
    if target is None or (made and target == CONFIRMED):  # made confirmed: nothing more to change
        return
    if target in (DELIVERED, PARTLY_DELIVERED):
        c.deliver(order_id, partly=target == PARTLY_DELIVERED)
    c.set_order_status(order_id, target, part_delivery=True if target == PARTLY_DELIVERED else None)


def _ready_for_pickup(c: Change, order_id: int) -> None:
    """The order waits where the event says: in a store of the tenant (click and collect), or
    at a service point (an order that was to be delivered to the door goes there instead)."""
    place = c.str_field("DropPointCode")
    if place is None:
        return
    if any(place == s.code for m in c.tenant.markets for s in m.stores):
        mode = builder.CLICK_AND_COLLECT
    else:
        found = c.db.execute("SELECT DeliveryMode FROM w_orders WHERE Id = ?", (order_id,)).fetchone()
        if found is None or found[0] not in (builder.DOOR_DELIVERY, builder.CLICK_AND_COLLECT):
            return
        mode = builder.SERVICE_POINT
    c.db.execute("UPDATE w_orders SET DeliveryMode = ? WHERE Id = ?", (mode, order_id))
    c.db.execute("UPDATE w_order_items SET DeliveryMode = ? WHERE OrderId = ?", (mode, order_id))


def _payment(c: Change) -> None:
    """A payment names the order by its ERP number; the order exists (confirmed) from now on."""
    order_no = c.str_field("ErpOrderNo")
    order_id = c.facts.get("order_id")
    if order_id is None and order_no is not None:
        found = c.db.execute("SELECT Id FROM w_orders WHERE OrderNo = ? LIMIT 1", (order_no,)).fetchone()
        order_id = found[0] if found else builder.derived_id("order-no", order_no, c.tenant.ids["order_id"])
    if order_id is None:
        return
    c.body = {**c.body, "OrderNo": order_no}
    c.order(order_id, CONFIRMED)
    method = c.str_field("PaymentMethodCode")
    if method is not None:  # the order is paid the way its payment says (made earlier, it was a guess)
        c.db.execute("UPDATE w_orders SET PaymentTerms = ? WHERE Id = ?", (method, order_id))


def _invoice_capture(c: Change) -> None:
    invoice_id = c.int_field("CapturedInvoiceId")
    if invoice_id is None:
        return
    order_id = c.facts.get("order_id")
    if order_id is None:
        found = c.db.execute("SELECT ReferenceOrderId FROM w_invoices WHERE Id = ?", (invoice_id,)).fetchone()
        order_id = found[0] if found else builder.derived_id("invoice", invoice_id, c.tenant.ids["order_id"])
    c.order(order_id, DELIVERED)
    c.deliver(order_id, partly=False)  # invoiced after delivery: what was not yet delivered is now
    c.invoice(invoice_id, order_id)
    c.set_order_status(order_id, INVOICED)


_SKU_TABLES = {"tClientProductSkuPriceList": "w_sku_prices", "tClientProductSkuOnHand": "w_sku_onhand"}


def _sku_changed(c: Change) -> None:
    part_no = c.str_field("PartNo")
    if part_no is None:
        return
    c.sku(part_no)
    c.touch(_SKU_TABLES.get(c.body.get("EntityChanged"), "w_skus"), "PartNo = ?", (part_no,))


def _price_changed(c: Change) -> None:
    part_no, list_id, price = c.str_field("PartNo"), c.int_field("PricelistId"), c.num_field("PriceSaleValue")
    if part_no is None:
        return
    c.sku(part_no)
    if list_id is None or price is None:
        return
    qty_break = int(c.num_field("QuantityBreak") or 1)
    updated = c.db.execute(
        "UPDATE w_sku_prices SET PricePrevious = PriceSale, PriceSale = ?, PriceSaleLastUpdated = ?,"
        " PriceSaleLastUpdatedBy = ?, Updated = ?, UpdatedBy = ? WHERE PartNo = ? AND PriceListId = ? AND QtyBreak = ?",
        (price, c.stamp, INTEGRATION_USER, c.stamp, INTEGRATION_USER, part_no, list_id, qty_break)).rowcount
    if not updated:  # a new quantity break, or a list the SKU had no row on
        market = next((m for m in c.tenant.markets if any(p.id == list_id for p in m.price_lists)),
                      c.market(part_no))
        c.rows.insert(c.db, "ProductSkuPriceList", builder.price_row(
            c.tenant, market, part_no, list_id, qty_break, price, round(price * c.tenant.cost_share, 2), c.stamp))


def _on_hand_break_point(c: Change) -> None:
    part_no, warehouse, location = c.str_field("PartNo"), c.int_field("WarehouseId"), c.int_field("LocationId")
    on_hand, minimum = c.num_field("OnHandValue"), c.num_field("MinimumValue")
    if part_no is None:
        return
    c.sku(part_no)
    if warehouse is None or location is None or on_hand is None:
        return
    updated = c.db.execute(
        "UPDATE w_sku_onhand SET OnHandValue = ?, MinimumValue = ?, OnHandLastUpdated = ?, Updated = ?,"
        " UpdatedBy = ? WHERE PartNo = ? AND WarehouseId = ? AND LocationId = ?",
        (on_hand, minimum, c.stamp, c.stamp, INTEGRATION_USER, part_no, warehouse, location)).rowcount
    if not updated:
        c.rows.insert(c.db, "ProductSkuOnHand",
                      builder.onhand_row(c.tenant, part_no, warehouse, location, on_hand, minimum, c.stamp))


def _party_changed(id_field: str, table: str, address_table: str, address_change: str, make):
    """A customer's or a company's notification: made if new, then the rows it names stamped.
    (The address rows name their owner in a column spelled like the event's field.)"""

    def change(c: Change) -> None:
        key = c.int_field(id_field)
        if key is None:
            return
        c.seen_or_made(table, "Id = ?", (key,), lambda: make(c.tenant, c.market(key), key, c.now))
        if c.body.get("EntityChanged") == address_change:
            c.touch(address_table, f"{id_field} = ?", (key,))
        c.touch(table, "Id = ?", (key,))
    return change


_customer_changed = _party_changed("CustomerId", "w_customers", "w_customer_addresses", "tClientCustomerAddress",
                                   builder.new_customer)
_company_changed = _party_changed("CompanyId", "w_companies", "w_company_addresses", "tClientCompanyAddress",
                                  builder.new_company)


_SUPPLIER_TABLES = {"SupplierSkuOnHandChangedNotification": "w_supplier_onhand",
                    "SupplierSkuPriceChangedNotification": "w_supplier_prices"}


def _supplier_changed(c: Change) -> None:
    part_no, supplier_id = c.str_field("PartNo"), c.int_field("SupplierId")
    if part_no is None or supplier_id is None:
        return
    c.seen_or_made("w_supplier_skus", "PartNo = ? AND SupplierId = ?", (part_no, supplier_id),
                   lambda: builder.new_supplier_sku(c.tenant, part_no, supplier_id, c.now))
    c.touch(_SUPPLIER_TABLES.get(c.event_type, "w_supplier_skus"), "PartNo = ? AND SupplierId = ?",
            (part_no, supplier_id))


def _job_completed(c: Change) -> None:
    job_id, status = c.int_field("JobId"), c.int_field("StatusId")
    if job_id is None or status is None:
        return
    c.db.execute("INSERT INTO w_jobs(JobId, StatusId, Start, Stop, Seen) VALUES (?, ?, ?, ?, ?)"
                 " ON CONFLICT(JobId) DO UPDATE SET StatusId = excluded.StatusId, Stop = excluded.Stop,"
                 " Seen = excluded.Seen", (job_id, status, c.now - 60 - (job_id % 600), c.now, c.now))


HANDLERS: dict[str, Callable[[Change], None]] = {
    **{name: _order_event for name in ORDER_STATUS},
    "OrderPaymentReceivedEvent": _payment,
    "InvoiceCaptureCompletedEvent": _invoice_capture,
    "SkuChangedNotification": _sku_changed,
    "TranslationRequestedNotification": _sku_changed,
    "SkuPriceChangedNotification": _price_changed,
    "SkuOnHandBreakPointNotification": _on_hand_break_point,
    "CustomerChangedNotification": _customer_changed,
    "CompanyChangedNotification": _company_changed,
    "SupplierSkuChangedNotification": _supplier_changed,
    "SupplierSkuOnHandChangedNotification": _supplier_changed,
    "SupplierSkuPriceChangedNotification": _supplier_changed,
    "JobCompletedEvent": _job_completed,
}


def apply(tenant: Tenant, rows: Rows, db: sqlite3.Connection, now: float, event_type: str, body: Any,
          facts: dict, ids: builder.Sequences) -> bool:
    """Change the world as one event says; False when the type changes nothing."""
    handler = HANDLERS.get(event_type)
    if handler is None or not isinstance(body, dict):
        return False
    handler(Change(tenant, rows, db, now, event_type, body, facts, ids))
    return True
