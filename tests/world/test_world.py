"""The world behind the ids: every event's entities exist, agree with it, and follow it.

Driven through the app (the control API to fire, Norce's Query API to read), with a real
local subscriber and a real SQLite file.
"""

from __future__ import annotations

import pytest

from mock_norce.app import build_core, create_app
from mock_norce.catalogue.orders import order_contents

from ..servers import answer

Q = "/commerce/query/2.0"
BUILTIN = ["CompanyChangedNotification", "CustomerChangedNotification", "InvoiceCaptureCompletedEvent",
           "JobCompletedEvent", "OrderCancelledEvent", "OrderConfirmedEvent", "OrderDeliveredEvent",
           "OrderPartlyDeliveredEvent", "OrderPaymentReceivedEvent", "OrderReadyForPickupEvent",
           "OrderReceivedEvent", "SkuChangedNotification", "SkuOnHandBreakPointNotification",
           "SkuPriceChangedNotification", "SubscriptionFailedEvent", "SupplierSkuChangedNotification",
           "SupplierSkuOnHandChangedNotification", "SupplierSkuPriceChangedNotification",
           "TranslationRequestedNotification"]
STATUS = {"OrderConfirmedEvent": 2, "OrderPartlyDeliveredEvent": 8, "OrderDeliveredEvent": 4,
          "OrderCancelledEvent": 6, "OrderReadyForPickupEvent": 2}


@pytest.fixture
def core(settings, serve, tmp_path):
    subscriber = serve(answer(200, b"ok"))
    core = build_core(settings.with_(subscriber_url=subscriber.url, time_scale=0.001, query_auth=False),
                      database=str(tmp_path / "world.db"))
    core.start()
    yield core
    core.stop()


@pytest.fixture
def client(core):
    return create_app(core=core).test_client()


def get(client, path):
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code, resp.get_data(as_text=True))
    return resp.get_json()


def fire(client, name, seed, **overrides):
    resp = client.post(f"/api/events/{name}", json={"seed": seed, **({"overrides": overrides} if overrides else {})})
    assert resp.status_code in (200, 202), resp.get_data(as_text=True)
    return resp.get_json()


def order_agrees(client, tenant, order, event):
    """An order as the Query API serves it agrees with an event about it and adds up."""
    market = tenant.market_of(order["ApplicationId"])
    assert order["ApplicationId"] == event["ApplicationId"] and order["ClientId"] == tenant.client_id
    for field in ("OrderNo", "Source"):
        if field in event:
            assert order[field] == event[field]
    if event.get("ClientOrderRef", "").isdigit():
        assert order["QuotationId"] == int(event["ClientOrderRef"])
    buyer = order["Buyer"]
    if "FirstName" in event:
        assert buyer["Name"] == f"{event['FirstName']} {event['LastName']}"
    if "CellPhone" in event:
        assert buyer["PhoneNumber"] == event["CellPhone"]
    assert buyer["CountryId"] == market.country_id and order["DeliveryCountryId"] == market.country_id
    assert order["CurrencyId"] == market.currency_id
    items = order["Items"]
    assert items, "an order has rows"
    for item in items:
        sku = tenant.sku(item["PartNo"])
        assert sku is not None, f"{item['PartNo']} is not in the assortment"
        assert item["PriceSale"] == sku.price(market) and item["CurrencyId"] == market.currency_id
        assert item["LineAmount"] == round(item["PriceSale"] * item["QtyOrdered"], 2)
        assert item["OrderId"] == order["Id"]
    contents = order_contents(tenant, market, order["Id"])
    assert [i["PartNo"] for i in items] == [line.part_no for line in contents.lines]
    return contents


@pytest.mark.parametrize("name", BUILTIN)
def test_the_entity_behind_every_id_exists_and_agrees_with_the_event(client, core, name):
    tenant = core.factory.tenant
    answer_ = fire(client, name, seed=42)
    event = answer_["payload"]
    links = answer_["delivery"]["entities"]
    named = {k for k in event if k in ("OrderId", "ErpOrderNo", "CapturedInvoiceId", "PartNo", "CustomerId",
                                       "CompanyId", "JobId")}
    assert {link["kind"] for link in links} >= {
        {"OrderId": "order", "ErpOrderNo": "order", "CapturedInvoiceId": "invoice", "CustomerId": "customer",
         "CompanyId": "company", "JobId": "job",
         "PartNo": "supplier_sku" if "SupplierId" in event else "sku"}[k] for k in named}
    for link in links:
        found = get(client, link["href"].replace("?$expand=", "?$expand=Buyer,") if link["kind"] == "order"
                    and "OrderId" in event else link["href"])
        if link["kind"] == "order" and "OrderId" in event:
            assert found["Id"] == event["OrderId"] and found["StatusId"] == STATUS[name]
            order_agrees(client, tenant, found, event)
        elif link["kind"] == "order":  # a payment: the order by its ERP number
            (order,) = found["value"]
            full = get(client, f"{Q}/Orders/Orders({order['Id']})?$expand=Items,Buyer")
            contents = order_agrees(client, tenant, full, {**event, "OrderNo": event["ErpOrderNo"]})
            if "Amount" in event:  # optional in the schema
                assert event["Amount"] == contents.total, "the payment pays the order's total"
        elif link["kind"] == "invoice":
            assert found["Id"] == event["CapturedInvoiceId"] and found["Items"]
            order = get(client, f"{Q}/Orders/Orders({found['ReferenceOrderId']})?$expand=Items")
            assert order["StatusId"] == 5 and len(order["Items"]) == len(found["Items"])
            assert found["InvoiceAmount"] == round(found["FreightCost"] + sum(i["LineAmount"] for i in found["Items"])
                                                   + found["Vat"], 2)
        elif link["kind"] == "sku":
            assert found["PartNo"] == event["PartNo"] and found["PriceLists"] and found["OnHands"]
            if name == "SkuPriceChangedNotification":
                row = [p for p in found["PriceLists"] if p["PriceListId"] == event["PricelistId"]
                       and p["QtyBreak"] == int(event.get("QuantityBreak", 1))]
                assert row and row[0]["PriceSale"] == event["PriceSaleValue"]
            if name == "SkuOnHandBreakPointNotification":
                row = [s for s in found["OnHands"] if s["WarehouseId"] == event["WarehouseId"]
                       and s["LocationId"] == event["LocationId"]]
                assert row and row[0]["OnHandValue"] == event["OnHandValue"] <= event["MinimumValue"]
        elif link["kind"] == "supplier_sku":
            assert (found["PartNo"], found["SupplierId"]) == (event["PartNo"], event["SupplierId"])
            assert found["PriceLists"] and found["OnHands"]
        elif link["kind"] == "customer":
            assert found["Id"] == event["CustomerId"] and found["Addresses"] and found["LastName"]
        elif link["kind"] == "company":
            assert found["Id"] == event["CompanyId"] and found["Addresses"] and found["Customers"]
        elif link["kind"] == "job":
            assert found["JobId"] == event["JobId"] and found["StatusId"] == event["StatusId"]
        elif link["kind"] in ("price_list", "warehouse", "warehouse_location", "supplier", "application"):
            assert found["Id"] == link["id"]  # the tenant's master data the event's id names
        else:
            raise AssertionError(link)


def test_a_price_change_changes_the_price_the_query_api_returns(client):
    path = f"{Q}/Products/ProductSkuPriceLists(PartNo='100231-M',PriceListId=11,QtyBreak=1)"
    before = get(client, path)["PriceSale"]
    fire(client, "SkuPriceChangedNotification", 1, PartNo="100231-M", PricelistId=11, PriceSaleValue=1999.5,
         QuantityBreak=1.0)
    after = get(client, path)
    assert before == 2399.0 and after["PriceSale"] == 1999.5 and after["PricePrevious"] == before


def test_an_order_advances_through_the_legal_events_in_order(client, core):
    order_id = fire(client, "OrderConfirmedEvent", 7)["payload"]["OrderId"]
    resp = client.post(f"/api/orders/{order_id}/advance", json={"to": "Invoiced"})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    done = resp.get_json()
    assert [e["type"] for e in done["events"]] == ["OrderDeliveredEvent", "InvoiceCaptureCompletedEvent"]
    assert done["events"][0]["payload"]["OrderId"] == order_id
    order = get(client, f"{Q}/Orders/Orders({order_id})?$expand=DeliveryNotes($expand=Items),Invoices")
    assert order["StatusId"] == 5
    assert [n["ReferenceOrderId"] for n in order["DeliveryNotes"]] == [order_id]
    assert order["Invoices"][0]["Id"] == done["events"][1]["payload"]["CapturedInvoiceId"]
    # Nothing to do, then a move the lifecycle does not allow, an unknown status, an unknown order.
    assert client.post(f"/api/orders/{order_id}/advance", json={"to": "invoiced"}).status_code == 200
    illegal = client.post(f"/api/orders/{order_id}/advance", json={"to": "Confirmed"})
    assert illegal.status_code == 409 and "cannot become Confirmed" in illegal.get_json()["message"]
    assert client.post(f"/api/orders/{order_id}/advance", json={"to": "Shipped"}).status_code == 400
    assert client.post("/api/orders/1/advance", json={"to": "Delivered"}).status_code == 404
    assert client.post(f"/api/orders/{order_id}/advance", json={}).status_code == 400


def test_partly_delivered_then_delivered_notes_cover_every_row_once(client, core):
    order_id = fire(client, "OrderConfirmedEvent", 11)["payload"]["OrderId"]
    client.post(f"/api/orders/{order_id}/advance", json={"to": "PartlyDelivered"})
    partly = get(client, f"{Q}/Orders/Orders({order_id})?$expand=Items,DeliveryNotes($expand=Items)")
    assert partly["StatusId"] == 8 and partly["IsPartDelivery"] is True and len(partly["DeliveryNotes"]) == 1
    client.post(f"/api/orders/{order_id}/advance", json={"to": "Delivered"})
    full = get(client, f"{Q}/Orders/Orders({order_id})?$expand=Items,DeliveryNotes($expand=Items)")
    delivered = {}
    for note in full["DeliveryNotes"]:
        for row in note["Items"]:
            delivered[row["OrderItemId"]] = delivered.get(row["OrderItemId"], 0) + row["Quantity"]
    assert full["StatusId"] == 4 and delivered == {i["Id"]: i["QtyOrdered"] for i in full["Items"]}


def test_a_scenario_walks_its_order_through_the_statuses(client, core):
    run = client.post("/api/scenarios/order-cancelled/runs", json={"seed": 3, "time_scale": 0.0001}).get_json()
    done = get(client, f"/api/runs/{run['id']}?wait=30")
    assert done["status"] == "completed", done
    items = get(client, f"/api/deliveries?run={run['id']}&limit=50")["items"]
    events = [(d["event_type"], d["payload"]) for d in sorted(items, key=lambda d: d["id"])]
    order_ids = {p["OrderId"] for _, p in events if "OrderId" in p}
    assert len(order_ids) == 1, "one order walks through the scenario"
    order = get(client, f"{Q}/Orders/Orders({order_ids.pop()})")
    last = [t for t, _ in events if t in STATUS][-1]
    assert order["StatusId"] == STATUS[last]


def test_the_reset_clears_the_world_back_to_the_tenant(client, core):
    order_id = fire(client, "OrderConfirmedEvent", 5)["payload"]["OrderId"]
    fire(client, "SkuChangedNotification", 5, PartNo="NEW-1")
    assert client.delete("/api/deliveries", headers={"Content-Type": "application/json"}).status_code == 200
    assert client.get(f"{Q}/Orders/Orders({order_id})").status_code == 404
    assert client.get(f"{Q}/Products/ProductSkus('NEW-1')").status_code == 404
    counts = get(client, "/api/world")["entity_sets"]
    assert counts["Orders/Orders"] == 0 and counts["Products/ProductSkus"] == len(core.factory.tenant.skus)


def test_the_same_seed_gives_the_same_world(settings, tmp_path):
    seen = []
    for n in range(2):
        core = build_core(settings.with_(subscriber_url="http://127.0.0.1:9/x", query_auth=False),
                          database=str(tmp_path / f"w{n}.db"))
        core.world.prepare()
        client = create_app(core=core).test_client()
        order_id = client.post("/api/events/OrderConfirmedEvent", json={"seed": 99}).get_json()["payload"]["OrderId"]
        order = get(client, f"{Q}/Orders/Orders({order_id})?$expand=Items,Buyer")
        for row in [order, order["Buyer"], *order["Items"]]:
            for stamp in ("Created", "OrderDate", "Updated"):
                row.pop(stamp, None)
        seen.append(order)
        core.outbox.store.close()
    assert seen[0] == seen[1]


def test_retention_drops_the_entities_no_retained_event_names(settings, tmp_path):
    """World.prune: what only old events named goes, with its rows; the tenant's world stays."""
    clock = [1_000_000.0]
    core = build_core(settings.with_(subscriber_url="http://127.0.0.1:9/x"), database=str(tmp_path / "r.db"))
    core.world.clock = lambda: clock[0]
    core.outbox.clock = lambda: clock[0]
    core.world.prepare()
    f = core.factory
    old = f.generate("OrderConfirmedEvent", seed=1)
    core.outbox.emit_many([old, f.generate("SkuChangedNotification", seed=1, overrides={"PartNo": "GONE-1"}),
                           f.generate("CompanyChangedNotification", seed=1)])
    core.advancer.advance(old.body["OrderId"], "Invoiced")
    clock[0] += 3600
    new = f.generate("OrderConfirmedEvent", seed=2)
    core.outbox.emit(new)
    counts = core.world.counts()
    assert counts["Orders/Orders"] == 2 and counts["Orders/Invoices"] == 1 and counts["Customers/Companies"] == 1
    # The log keeps only the newest delivery: the world follows it (as the recorder does after a prune).
    core.outbox.store.prune(keep=None, older_than=None)
    with core.outbox.store.database.transaction() as db:
        db.execute("DELETE FROM deliveries WHERE id < (SELECT max(id) FROM deliveries)")
    (follow,) = core.outbox.dispatcher.recorder.pruned
    follow()
    counts = core.world.counts()
    assert counts["Orders/Orders"] == 1 and core.world.order(new.body["OrderId"]) is not None
    for name in ("Orders/OrderItems", "Orders/Addresses", "Orders/DeliveryNotes", "Orders/DeliveryNoteItems",
                 "Orders/Invoices", "Orders/InvoiceItems"):
        rows_of_new = {"Orders/OrderItems": len(order_contents(f.tenant, f.tenant.market_of(new.body["ApplicationId"]),
                                                               new.body["OrderId"]).lines),
                       "Orders/Addresses": 1}.get(name, 0)
        assert counts[name] == rows_of_new, name
    assert counts["Customers/Companies"] == counts["Customers/CustomerCompanies"] == counts["Customers/Customers"] == 0
    assert counts["Products/ProductSkus"] == len(f.tenant.skus)  # GONE-1 went, the assortment stays
    core.outbox.store.close()


def test_a_changed_model_starts_the_world_afresh_instead_of_failing(settings, tmp_path):
    import yaml

    from mock_norce.storage.database import Database
    from mock_norce.world.model import build_model
    from mock_norce.world.world import World

    doc = yaml.safe_load((settings.fixtures_dir / "query-model.yaml").read_text())
    tenant = build_core(settings).factory.tenant
    database = Database(tmp_path / "m.db")
    World(build_model(doc), tenant, database).prepare()
    doc["namespaces"]["Core"]["types"]["Currency"]["properties"]["Symbol"] = "String?"
    world = World(build_model(doc), tenant, database)
    world.prepare()  # the old w_currencies has no Symbol: dropped and made again, not an error
    with database.reader() as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(w_currencies)")]
    assert "Symbol" in columns and world.counts()["Core/Currencies"] == 4
    database.close()


def test_a_bug_in_a_change_is_counted_and_logged_and_the_event_still_goes(client, core, caplog):
    broken = core.world.rows.tables["Order"]
    core.world.rows.tables["Order"] = "no_such_table"  # every new order's insert now fails (not storage)
    try:
        answer_ = fire(client, "OrderConfirmedEvent", 3)
    finally:
        core.world.rows.tables["Order"] = broken
    assert answer_["recorded"] is True and answer_["delivery"]["id"]
    assert get(client, "/api/world")["failures"] == 1
    assert "could not follow a OrderConfirmedEvent" in caplog.text


def test_events_refused_for_a_bad_url_change_nothing_in_the_world(core):
    from mock_norce.errors import MockNorceError

    payload = core.factory.generate("OrderConfirmedEvent", seed=31)
    with pytest.raises(MockNorceError):
        core.outbox.emit_many([payload], url="ftp://127.0.0.1/nope")
    assert core.world.order(payload.body["OrderId"]) is None
    core.outbox.emit_many([payload])
    assert core.world.order(payload.body["OrderId"])["StatusId"] == 2
