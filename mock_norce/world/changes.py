"""How each event type changes the world, applied when the event is recorded.

Norce sends an event after the change it reports, so a subscriber that fetches the entity on
receipt must see the new state: ``apply`` runs in the transaction that records the event,
before its first attempt. It creates every entity the event refers to (``builder.py``) and
then changes it as the event says. A payload that breaks its schema changes only what its
well-typed fields allow; an event type with no entity in the Query API (a basket before the
ERP confirms it, a subscription) changes nothing.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable

from mock_norce.catalogue.tenant import Tenant
from mock_norce.world import builder
from mock_norce.world.builder import (CANCELLED, CONFIRMED, DELIVERED, INTEGRATION_USER, INVOICED,
                                      PARTLY_DELIVERED, iso)
from mock_norce.world.rows import Rows

ORDER_STATUS = {  # order events and the status they leave the order in (None: unchanged)
    "OrderConfirmedEvent": CONFIRMED,
    "OrderPartlyDeliveredEvent": PARTLY_DELIVERED,
    "OrderDeliveredEvent": DELIVERED,
    "OrderCancelledEvent": CANCELLED,
    "OrderReadyForPickupEvent": None,
}


class Change:
    """One event's change: the tenant, the open transaction, the time, the event's fields."""

    def __init__(self, tenant: Tenant, rows: Rows, db: sqlite3.Connection, now: float, event_type: str,
                 body: dict, facts: dict):
        self.tenant, self.rows, self.db, self.now = tenant, rows, db, now
        self.event_type, self.body, self.facts = event_type, body, facts
        self.stamp = iso(now)

    def int_field(self, name: str) -> int | None:
        value = self.body.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def str_field(self, name: str) -> str | None:
        value = self.body.get(name)
        return value if isinstance(value, str) and value else None

    def num_field(self, name: str) -> float | None:
        value = self.body.get(name)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def market(self, key):
        return builder.market_for(self.tenant, self.int_field("ApplicationId"), key)

    # --- orders ------------------------------------------------------------------------

    def order(self, order_id: int, status: int) -> tuple[int, str, bool]:
        """(status, market, made now) of the order, made with `status` if it did not exist yet."""
        found = self.db.execute("SELECT StatusId, _market FROM w_orders WHERE Id = ?", (order_id,)).fetchone()
        if found is not None:
            self.db.execute("UPDATE w_orders SET _seen = ? WHERE Id = ?", (self.now, order_id))
            return found[0], found[1], False
        market = self.market(order_id)
        facts = {k: self.body.get(k) for k in ("OrderNo", "ClientOrderRef", "Source", "FirstName", "LastName",
                                                "CellPhone") if isinstance(self.body.get(k), str)}
        facts.setdefault("OrderNo", self.facts.get("order_no"))
        facts.setdefault("ClientOrderRef", self.facts.get("client_order_ref"))
        facts["email"] = self.facts.get("email")
        if self.event_type in ORDER_STATUS and "FirstName" not in facts and "LastName" not in facts:
            facts["anonymous"] = True  # an order event without a name: a buyer who gave none (POS)
        self.rows.insert_all(self.db, builder.new_order(self.tenant, market, order_id, facts, status, self.now))
        return status, market.code, True

    def set_order_status(self, order_id: int, status: int, part_delivery: bool | None = None) -> None:
        sets, args = "StatusId = ?, Updated = ?, UpdatedBy = ?", [status, self.stamp, INTEGRATION_USER]
        if part_delivery is not None:
            sets += ", IsPartDelivery = ?"
            args.append(int(part_delivery))
        self.db.execute(f"UPDATE w_orders SET {sets} WHERE Id = ?", (*args, order_id))
        self.db.execute("UPDATE w_order_items SET StatusId = ?, Updated = ?, UpdatedBy = ? WHERE OrderId = ?",
                        (status, self.stamp, INTEGRATION_USER, order_id))

    def deliver(self, order_id: int, partly: bool) -> None:
        """A delivery note for what is still undelivered (partly: about half of it)."""
        left = self.db.execute(
            "SELECT i.Id, i.LineNumber, i.PartNo, i.ProductName, i.QtyOrdered - coalesce("
            " (SELECT sum(d.Quantity) FROM w_delivery_note_items d WHERE d.OrderItemId = i.Id), 0)"
            " FROM w_order_items i WHERE i.OrderId = ? ORDER BY i.LineNumber", (order_id,)).fetchall()
        left = [row for row in left if row[4] > 0]
        if not left:
            return
        if partly:
            if len(left) > 1:
                left = left[:(len(left) + 1) // 2]
            elif left[0][4] >= 2:
                left = [(*left[0][:4], float(int(left[0][4] // 2)))]
        count = self.db.execute("SELECT count(*) FROM w_delivery_notes WHERE ReferenceOrderId = ?",
                                (order_id,)).fetchone()[0]
        note_id = order_id * 10 + count + 1
        order = self.db.execute(
            "SELECT DeliveryAttention, DeliveryAddressLine1, DeliveryZipCode, DeliveryCity, DeliveryCountryId,"
            " DeliveryMode, Source FROM w_orders WHERE Id = ?", (order_id,)).fetchone()
        self.rows.insert(self.db, "DeliveryNote", {
            "Id": note_id, "ClientId": self.tenant.client_id, "NoteNo": f"DN{note_id % 10**9:09d}", "TypeId": 1,
            "ReferenceOrderId": order_id, "DeliveryName": order[0], "DeliveryAttention": order[0],
            "DeliveryCareOf": None, "DeliveryAddressLine1": order[1], "DeliveryAddressLine2": None,
            "DeliveryZipCode": order[2], "DeliveryCity": order[3], "DeliveryRegion": None,
            "DeliveryCountryId": order[4], "DeliveryDate": self.stamp, "Quantity": sum(r[4] for r in left),
            "IsPrinted": 1, "DeliveryMode": order[5], "Source": order[6], "DeliveryMark": None, "NoteText": None,
            "Created": self.stamp, "CreatedBy": INTEGRATION_USER,
        })
        for n, (item_id, line, part_no, name, quantity) in enumerate(left, start=1):
            self.rows.insert(self.db, "DeliveryNoteItem", {
                "Id": note_id * 100 + n, "DeliveryNoteId": note_id, "OrderItemId": item_id, "LineNumber": line,
                "PartNo": part_no, "ProductName": name, "Quantity": quantity, "Created": self.stamp,
                "CreatedBy": INTEGRATION_USER,
            })
        self.db.execute("UPDATE w_orders SET DeliveryDate = ? WHERE Id = ?", (self.stamp, order_id))

    def invoice(self, invoice_id: int, order_id: int) -> None:
        """The invoice of an order (all its rows), unless it exists."""
        if self.db.execute("SELECT 1 FROM w_invoices WHERE Id = ?", (invoice_id,)).fetchone():
            return
        o = self.db.execute(
            "SELECT ApplicationId, Source, CurrencyId, FreightCost, VatRate, DeliveryAttention,"
            " DeliveryAddressLine1, DeliveryZipCode, DeliveryCity, DeliveryCountryId, PaymentTerms, DeliveryDate"
            " FROM w_orders WHERE Id = ?", (order_id,)).fetchone()
        items = self.db.execute("SELECT Id, LineNumber, PartNo, ProductName, QtyOrdered, PriceSale, LineAmount"
                                " FROM w_order_items WHERE OrderId = ? ORDER BY LineNumber", (order_id,)).fetchall()
        net = round(sum(i[6] for i in items) + o[3], 2)
        vat = round(net * o[4] / 100, 2)
        self.rows.insert(self.db, "Invoice", {
            "Id": invoice_id, "ClientId": self.tenant.client_id, "InvoiceNo": f"INV{invoice_id}", "TypeId": 1,
            "ReferenceOrderId": order_id, "ReferenceNoPsp": None, "BuyerCompanyId": None, "BuyerCustomerId": None,
            "PayerCompanyId": None, "PayerCustomerId": None, "DeliveryDate": o[11], "InvoiceDate": self.stamp,
            "InvoiceDueDate": builder.iso(self.now + 30 * 86400), "Source": o[1],
            "Quantity": sum(i[4] for i in items), "CurrencyId": o[2], "CurrencyRate": 1.0, "SumLineDiscount": 0.0,
            "FreightCost": o[3], "InvoiceFee": 0.0, "InvoiceAmount": round(net + vat, 2), "Vat": vat,
            "InvoiceName": o[5], "InvoiceAttention": o[5], "InvoiceCareOf": None, "InvoiceAddressLine1": o[6],
            "InvoiceAddressLine2": None, "InvoiceZipCode": o[7], "InvoiceCity": o[8], "InvoiceRegion": None,
            "InvoiceCountryId": o[9], "LastInvoiceForOrder": 1, "IsDebit": 1, "PaymentMethodCode": o[10],
            "PaymentMethodName": o[10], "Created": self.stamp, "CreatedBy": INTEGRATION_USER, "Updated": None,
            "UpdatedBy": None,
        })
        for item_id, line, part_no, name, quantity, price, amount in items:
            self.rows.insert(self.db, "InvoiceItem", {
                "Id": invoice_id * 100 + int(line), "InvoiceId": invoice_id, "LineNumber": line, "StatusId": INVOICED,
                "PartNo": part_no or "", "ProductName": name, "Quantity": int(quantity), "Quantity2": quantity,
                "CurrencyId": o[2], "VatRate": o[4], "PriceSale": price, "DiscountPercentage": 0.0,
                "DiscountAmount": 0.0, "LineAmount": amount, "OrderItemId": item_id,
                "ClientId": self.tenant.client_id, "Created": self.stamp, "CreatedBy": INTEGRATION_USER,
            })

    # --- products, customers, suppliers -------------------------------------------------

    def sku(self, part_no: str) -> None:
        if self.db.execute("UPDATE w_skus SET _seen = ? WHERE PartNo = ?", (self.now, part_no)).rowcount == 0:
            self.rows.insert_all(self.db, builder.new_sku(self.tenant, part_no, self.now))

    def touch(self, table: str, where: str, args: tuple) -> None:
        """A *ChangedNotification: the named rows were updated now, by the integration."""
        self.db.execute(f"UPDATE {table} SET Updated = ?, UpdatedBy = ? WHERE {where}",
                        (self.stamp, INTEGRATION_USER, *args))


def _order_event(c: Change) -> None:
    order_id = c.int_field("OrderId")
    if order_id is None:
        return
    target = ORDER_STATUS[c.event_type]
    _, _, made = c.order(order_id, target if target is not None else CONFIRMED)
    if target is None or (made and target == CONFIRMED):  # made confirmed: nothing more to change
        return
    if target in (DELIVERED, PARTLY_DELIVERED):
        c.deliver(order_id, partly=target == PARTLY_DELIVERED)
    c.set_order_status(order_id, target, part_delivery=True if target == PARTLY_DELIVERED else None)


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


def _customer_changed(c: Change) -> None:
    customer_id = c.int_field("CustomerId")
    if customer_id is None:
        return
    if c.db.execute("UPDATE w_customers SET _seen = ? WHERE Id = ?", (c.now, customer_id)).rowcount == 0:
        c.rows.insert_all(c.db, builder.new_customer(c.tenant, c.market(customer_id), customer_id, c.now))
    if c.body.get("EntityChanged") == "tClientCustomerAddress":
        c.touch("w_customer_addresses", "CustomerId = ?", (customer_id,))
    c.touch("w_customers", "Id = ?", (customer_id,))


def _company_changed(c: Change) -> None:
    company_id = c.int_field("CompanyId")
    if company_id is None:
        return
    if c.db.execute("UPDATE w_companies SET _seen = ? WHERE Id = ?", (c.now, company_id)).rowcount == 0:
        c.rows.insert_all(c.db, builder.new_company(c.tenant, c.market(company_id), company_id, c.now))
    if c.body.get("EntityChanged") == "tClientCompanyAddress":
        c.touch("w_company_addresses", "CompanyId = ?", (company_id,))
    c.touch("w_companies", "Id = ?", (company_id,))


_SUPPLIER_TABLES = {"SupplierSkuOnHandChangedNotification": "w_supplier_onhand",
                    "SupplierSkuPriceChangedNotification": "w_supplier_prices"}


def _supplier_changed(c: Change) -> None:
    part_no, supplier_id = c.str_field("PartNo"), c.int_field("SupplierId")
    if part_no is None or supplier_id is None:
        return
    if c.db.execute("UPDATE w_supplier_skus SET _seen = ? WHERE PartNo = ? AND SupplierId = ?",
                    (c.now, part_no, supplier_id)).rowcount == 0:
        c.rows.insert_all(c.db, builder.new_supplier_sku(c.tenant, part_no, supplier_id, c.now))
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
          facts: dict) -> bool:
    """Change the world as one event says; False when the type changes nothing."""
    handler = HANDLERS.get(event_type)
    if handler is None or not isinstance(body, dict):
        return False
    handler(Change(tenant, rows, db, now, event_type, body, facts))
    return True
