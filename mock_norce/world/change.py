"""One event's change in the making: the open transaction, the time, the event's fields, and
the writes more than one event type needs (an order made or found, its status, its delivery
notes and invoice, a SKU made or found, a row stamped as updated). ``changes.py`` decides, per
event type, which of them to make.
"""

from __future__ import annotations

import sqlite3

from mock_norce.catalogue.orders import Contents, Line
from mock_norce.catalogue.tenant import Tenant
from mock_norce.world import builder
from mock_norce.world.builder import INTEGRATION_USER, INVOICED, iso
from mock_norce.world.rows import Rows

ORDER_STATUS = {  # order events and the status they leave the order in (None: unchanged)
    "OrderConfirmedEvent": builder.CONFIRMED,
    "OrderPartlyDeliveredEvent": builder.PARTLY_DELIVERED,
    "OrderDeliveredEvent": builder.DELIVERED,
    "OrderCancelledEvent": builder.CANCELLED,
    "OrderReadyForPickupEvent": None,
}


class Change:
    """One event's change: the tenant, the open transaction, the time, the event's fields."""

    def __init__(self, tenant: Tenant, rows: Rows, db: sqlite3.Connection, now: float, event_type: str,
                 body: dict, facts: dict, ids: builder.Sequences):
        self.tenant, self.rows, self.db, self.now, self.ids = tenant, rows, db, now, ids
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
        facts.setdefault("Source", self.facts.get("source"))  # a payment names no source
        facts["email"] = self.facts.get("email")
        facts["payment_method"] = self.body.get("PaymentMethodCode") or self.facts.get("payment_method")
        if self.event_type in ORDER_STATUS and "FirstName" not in facts and "LastName" not in facts:
            facts["anonymous"] = True  # an order event without a name: a buyer who gave none (POS)
        self.rows.insert_all(self.db, builder.new_order(self.tenant, market, order_id, facts, status, self.now,
                                                            self.ids))
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
        # The same sums as the payment's Amount (catalogue/orders.py), over the rows as stored.
        contents = Contents(tuple(Line(int(i[1]), i[2], i[3], i[4], i[5]) for i in items), o[3], o[4])
        net, vat = contents.net, contents.vat
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

    def seen_or_made(self, table: str, where: str, args: tuple, make) -> None:
        """Mark the entity as named now (retention); make its rows (``make()``) if it did not exist."""
        if self.db.execute(f"UPDATE {table} SET _seen = ? WHERE {where}", (self.now, *args)).rowcount == 0:
            self.rows.insert_all(self.db, make())

    def sku(self, part_no: str) -> None:
        self.seen_or_made("w_skus", "PartNo = ?", (part_no,), lambda: builder.new_sku(self.tenant, part_no, self.now))

    def touch(self, table: str, where: str, args: tuple) -> None:
        """A *ChangedNotification: the named rows were updated now, by the integration."""
        self.db.execute(f"UPDATE {table} SET Updated = ?, UpdatedBy = ? WHERE {where}",
                        (self.stamp, INTEGRATION_USER, *args))
