"""The rows of a new entity, made the first time an event refers to it.

Each function returns ``{entity type: [row, ...]}`` with rows keyed by property name (and the
table's own "_" columns). Values that an event carries come from the event; the rest is drawn
from a random source seeded by the entity's kind and key (``orders.rng_for``), so the same id
gives the same entity in every run, whichever event named it first.
"""

from __future__ import annotations

import json
import time
from random import Random

from mock_norce.catalogue import fakedata
from mock_norce.catalogue.orders import order_contents, rng_for
from mock_norce.catalogue.tenant import Market, Tenant

INTEGRATION_USER = 1  # CreatedBy/UpdatedBy of rows written "by the ERP integration"

ORDER_CREATED, CONFIRMED, DELIVERED, INVOICED, CANCELLED, PARTLY_DELIVERED = 0, 2, 4, 5, 6, 8

# The delivery modes a ready-for-pickup event implies (tenant.yaml's delivery_modes): collected
# in one of the tenant's stores, or at a carrier's service point instead of the door.
CLICK_AND_COLLECT, SERVICE_POINT, DOOR_DELIVERY = "CLICK_AND_COLLECT", "SERVICE_POINT", "HOME_DELIVERY"


_last_second = (0, "")  # (second, its text), swapped whole: a schedule writes thousands of rows a second


def iso(ts: float) -> str:
    """A DateTimeOffset as the tables keep it: UTC, whole seconds, 'Z' (text order = time order)."""
    global _last_second
    second, text = _last_second
    if second != int(ts):
        second = int(ts)
        text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
        _last_second = (second, text)
    return text


def street_address(market: Market, rng: Random) -> tuple[str, str, str]:
    """(line 1, zip code, city) in the market's country."""
    street = market.streets[int(rng.random() * len(market.streets))] if market.streets else "Storgatan"
    city, zip_pattern = (market.cities[int(rng.random() * len(market.cities))]
                         if market.cities else (market.name, "#####"))
    return f"{street} {1 + int(rng.random() * 89)}", fakedata.fill(zip_pattern, rng), city


def new_order(tenant: Tenant, market: Market, order_id: int, facts: dict, status: int, now: float,
              ids: "Sequences") -> dict:
    """An order with its rows and its buyer's address (buyer, payer and ship-to are one person).

    The rows' and the address's ids come from ``ids``, in the order they are made: keys that
    only grow are appended to their tables, where keys drawn at random (the order's own) touch
    a random page of a big table each; a third of a new order's cost at 150,000 orders."""
    rng = rng_for("order", order_id)
    contents = order_contents(tenant, market, order_id, rng)  # the rows first, then the rest of the order
    stamp = iso(now)
    first, last = facts.get("FirstName"), facts.get("LastName")
    if first is None and last is None and facts.get("anonymous") is not True:
        person = fakedata.person(market, rng, 0.0, 0.0, 1.0)
        first, last = person.first_name, person.last_name
    name = " ".join(p for p in (first, last) if p) or None
    line1, zip_code, city = street_address(market, rng)
    ref = facts.get("ClientOrderRef")
    quotation = int(ref) if isinstance(ref, str) and ref.isdigit() and len(ref) <= 9 else None
    source = tenant.source(facts["Source"]) if isinstance(facts.get("Source"), str) else None
    # A marketplace's or the till's delivery and payment for orders from there (tenant.yaml's
    # order_sources), else the tenant's modes and the market's methods: one draw each either way.
    modes = source.delivery_modes if source is not None and source.delivery_modes else tenant.delivery_modes
    mode = modes.pick(rng) if modes is not None else None
    methods = source.payment_methods if source is not None and source.payment_methods else market.payment_methods
    payment = methods.pick(rng).code
    payment = facts.get("payment_method") or payment  # the method its payment event named
    address_id = ids.take("address", 1)
    address = {
        "Id": address_id, "TypeId": 1, "Name": name, "Attention": name, "CareOf": None, "Line1": line1, "Line2": None,
        "ZipCode": zip_code, "City": city, "Region": None, "CountryId": market.country_id,
        "EmailAddress": facts.get("email"), "PhoneNumber": facts.get("CellPhone"),
        "ShippingPhoneNumber": facts.get("CellPhone"), "Gln": None, "ClientId": tenant.client_id,
        "Created": stamp, "CreatedBy": INTEGRATION_USER,
    }
    order = {
        "Id": order_id, "ClientId": tenant.client_id, "ApplicationId": market.application_id,
        "QuotationId": quotation, "OrderNo": facts.get("OrderNo"), "OrderDate": stamp,
        "BuyerCompanyCode": None, "BuyerCompanyId": None, "BuyerCustomerCode": None, "BuyerCustomerId": None,
        "PayerCompanyCode": None, "PayerCompanyId": None, "PayerCustomerCode": None, "PayerCustomerId": None,
        "StatusId": status, "Source": facts.get("Source"), "DeliveryMode": mode, "DeliveryDate": None,
        "IsPartDelivery": 0, "PaymentTerms": payment, "CurrencyId": market.currency_id,
        "VatRate": contents.vat_rate, "CashDiscount": 0.0, "LineDiscount": 0.0, "FreightCost": contents.freight,
        "OrderFee": 0.0, "DeliveryAttention": name, "DeliveryCareOf": None, "DeliveryAddressLine1": line1,
        "DeliveryAddressLine2": None, "DeliveryZipCode": zip_code, "DeliveryCity": city, "DeliveryRegion": None,
        "DeliveryCountryId": market.country_id, "DeliveryMark": None, "InvoiceMark": None, "TypeId": 1,
        "Created": stamp, "CreatedBy": INTEGRATION_USER, "Updated": None, "UpdatedBy": None,
        "_buyer_address": address_id, "_payer_address": address_id, "_ship_to_address": address_id,
        "_seen": now, "_market": market.code,
        # What the order's events carry that its columns do not keep exactly (the buyer's
        # names apart, the reference as sent): the next event about it carries the same.
        "_facts": _JSON.encode({k: facts[k] for k in _EVENT_FACTS if facts.get(k) is not None}),
    }
    items = []
    first_item = ids.take("order_item", len(contents.lines))
    for line in contents.lines:
        sku = tenant.sku(line.part_no)
        cost = round(sku.prices.get(market.currency, line.price) * tenant.cost_share, 2) if sku else 0.0
        items.append({
            "Id": first_item + line.number - 1, "OrderId": order_id, "LineNumber": float(line.number),
            "ParentLineNumber": None, "StatusId": status, "PartNo": line.part_no, "ExternalPartNo": None,
            "ProductName": line.name, "StockUnitOfMeasurementCount": 1.0, "PriceUnitOfMeasurementCount": 1.0,
            "WarehouseId": tenant.warehouses[0].id, "LocationId": tenant.warehouses[0].locations[0].id,
            "QtyOrdered": float(line.quantity), "CurrencyId": market.currency_id, "VatRate": contents.vat_rate,
            "CostUnit": cost, "PriceSale": line.price, "DiscountPercentage": 0.0, "DiscountAmount": 0.0,
            "LineAmount": line.amount, "DeliveryMode": mode, "IsPartDelivery": 0, "ExpectedDeliveryDate": None,
            "ConfirmedDeliveryDate": None, "PriceRecommended": None, "PriceCatalog": None,
            "PriceStandard": None, "ClientId": tenant.client_id, "Created": stamp, "CreatedBy": INTEGRATION_USER,
            "Updated": None, "UpdatedBy": None,
        })
    return {"Order": [order], "OrderItem": items, "Address": [address]}


_JSON = json.JSONEncoder(ensure_ascii=False)
_EVENT_FACTS = ("OrderNo", "ClientOrderRef", "Source", "FirstName", "LastName", "CellPhone")


class Sequences:
    """Ids that only grow, per kind, continuing from the largest in the tables at start.

    Not in a table of their own: the world has one writer, and a transaction that fails
    leaves a gap, which is all a sequence promises."""

    def __init__(self, start: dict[str, int] | None = None):
        self._next = {kind: last + 1 for kind, last in (start or {}).items()}

    def take(self, kind: str, count: int) -> int:
        """The first of `count` new ids of a kind."""
        first = self._next.get(kind, 1)
        self._next[kind] = first + count
        return first


def derived_id(kind: str, key, bounds: tuple[int, int]) -> int:
    """An id in the tenant's range for an entity known only by another key (an order known by
    its ERP number): the same key always gives the same id."""
    return fakedata.between(bounds, rng_for(kind, key))


def new_sku(tenant: Tenant, part_no: str, now: float) -> dict:
    """A SKU with its price rows (every price list of every market) and stock rows (each
    warehouse's first location); an assortment SKU at its list prices, another at drawn ones."""
    sku = tenant.sku(part_no)
    rng = rng_for("sku", part_no)
    stamp = iso(now)
    product_id = sku.product_id if sku else int(fakedata.fill("9#####", rng))
    row = {
        "PartNo": part_no, "ClientId": tenant.client_id, "ProductId": product_id, "StatusId": 1, "TypeId": 1,
        "IntegrationPartNo": None, "ErpName": sku.name if sku else f"Article {part_no}",
        "EanCode": fakedata.fill("73#########%#", rng), "GrossWeight": round(0.1 + rng.random() * 3, 2),
        "UnitOfMeasurementCount": 1.0, "IsPublished": 1, "IsBlocked": 0, "IsBuyable": 1,
        "Created": stamp, "CreatedBy": INTEGRATION_USER, "Updated": None, "UpdatedBy": None, "_seen": now,
    }
    prices = []
    for market in tenant.markets:
        base = sku.prices.get(market.currency) if sku else None
        if base is None:
            base = fakedata.price(*market.sale_price, market.price_endings, rng)
        for price_list in market.price_lists:
            prices.append(price_row(tenant, market, part_no, price_list.id, 1, round(base * price_list.factor, 2),
                                    round(base * tenant.cost_share, 2), stamp))
    stock = [onhand_row(tenant, part_no, w.id, w.locations[0].id, float(int(rng.random() * 120)), None, stamp)
             for w in tenant.warehouses]
    return {"ProductSku": [row], "ProductSkuPriceList": prices, "ProductSkuOnHand": stock}


def price_row(tenant: Tenant, market: Market, part_no: str, price_list_id: int, qty_break: int, price: float,
              cost: float, stamp: str) -> dict:
    return {
        "PartNo": part_no, "PriceListId": price_list_id, "QtyBreak": qty_break, "ClientId": tenant.client_id,
        "CurrencyId": market.currency_id, "PriceSale": price, "PriceSaleLastUpdated": stamp,
        "PriceSaleLastUpdatedBy": INTEGRATION_USER, "PriceRuleId": 2, "PriceRuleValue": None,
        "CostPurchase": cost, "CostUnit": cost, "PriceStandard": None, "PriceRecommended": None,
        "PricePrevious": None, "PriceCatalog": None, "IsPriceDiscountable": 1, "IsActive": 1,
        "Created": stamp, "CreatedBy": INTEGRATION_USER, "Updated": None, "UpdatedBy": None,
    }


def onhand_row(tenant: Tenant, part_no: str, warehouse_id: int, location_id: int, on_hand: float,
               minimum: float | None, stamp: str) -> dict:
    return {
        "PartNo": part_no, "WarehouseId": warehouse_id, "LocationId": location_id, "ClientId": tenant.client_id,
        "OnHandValue": on_hand, "OnHandLastUpdated": stamp, "IncomingValue": 0.0, "NextDeliveryDate": None,
        "IsReturnable": 1, "LeadTimeDayCount": None, "OnOrderValue": 0.0, "MinimumValue": minimum,
        "MaximumValue": None, "ReservationValue": 0.0, "IsActive": 1, "Created": stamp,
        "CreatedBy": INTEGRATION_USER, "Updated": None, "UpdatedBy": None,
    }


def new_supplier_sku(tenant: Tenant, part_no: str, supplier_id: int, now: float) -> dict:
    """A supplier's SKU, by the supplier's own part number, with one price row and one stock
    row (the supplier's own warehouse); named and priced as the assortment SKU it stands for."""
    rng = rng_for("supplier-sku", f"{supplier_id}:{part_no}")
    sku = tenant.supplier_sku(supplier_id, part_no) or tenant.sku(part_no)
    stamp = iso(now)
    main = tenant.markets[0]
    base = sku.prices.get(main.currency) if sku else None
    cost = round((base if base is not None else fakedata.price(*main.sale_price, main.price_endings, rng))
                 * tenant.cost_share, 2)
    row = {
        "PartNo": part_no, "SupplierId": supplier_id, "Name": sku.name if sku else f"Article {part_no}",
        "ManufacturerCode": None, "ManufacturerPartNo": fakedata.fill("??-#####", rng),
        "EanCode": fakedata.fill("73#########%#", rng), "UnitOfMeasurementId": 1, "UnitOfMeasurementCount": 1.0,
        "IsUsed": 1, "ClientId": tenant.client_id, "Created": stamp, "CreatedBy": INTEGRATION_USER,
        "Updated": None, "UpdatedBy": None, "_seen": now,
    }
    price = {
        "PartNo": part_no, "SupplierId": supplier_id, "SupplierPriceListId": 1, "QtyBreak": 1,
        "CurrencyId": main.currency_id, "CostPurchase": cost, "CostPurchaseLastUpdated": stamp,
        "PriceRecommended": base, "IsActive": 1, "Created": stamp, "CreatedBy": INTEGRATION_USER,
        "Updated": None, "UpdatedBy": None,
    }
    stock = {
        "PartNo": part_no, "SupplierId": supplier_id, "WarehouseId": 0, "LocationId": 0,
        "OnHandValue": float(int(rng.random() * 500)), "OnHandLastUpdated": stamp, "IncomingValue": 0.0,
        "NextDeliveryDate": None, "LeadTimeDayCount": 2 + int(rng.random() * 10), "IsActive": 1,
        "ClientId": tenant.client_id, "Created": stamp, "CreatedBy": INTEGRATION_USER, "Updated": None,
        "UpdatedBy": None,
    }
    return {"SupplierProductSku": [row], "SupplierProductSkuPriceList": [price], "SupplierProductSkuOnHand": [stock]}


def market_for(tenant: Tenant, application_id, key) -> Market:
    """The market of an entity: its event's application, else one drawn from its key."""
    market = tenant.market_of(application_id)
    return market if market is not None else tenant.market_weights.pick(rng_for("market", key))


def _address(market: Market, rng: Random, owner: str, owner_id: int, address_id: int, type_id: int,
             stamp: str) -> dict:
    line1, zip_code, city = street_address(market, rng)
    return {"Id": address_id, owner: owner_id, "TypeId": type_id, "CareOf": None, "Line1": line1, "Line2": None,
            "ZipCode": zip_code, "City": city, "Region": None, "CountryId": market.country_id, "IsDefault": 1,
            "Created": stamp, "CreatedBy": INTEGRATION_USER, "Updated": None, "UpdatedBy": None}


def new_customer(tenant: Tenant, market: Market, customer_id: int, now: float) -> dict:
    """A person customer of the market with a home address (invoice and delivery)."""
    rng = rng_for("customer", customer_id)
    person = fakedata.person(market, rng, 0.9, 1.0, 1.0)
    stamp = iso(now)
    row = {
        "Id": customer_id, "Key": fakedata.uuid4(rng), "ClientId": tenant.client_id,
        "CustomerCode": f"C{customer_id}", "TypeId": 1, "EmailAddress": person.email,
        "FirstName": person.first_name, "LastName": person.last_name, "PhoneNumber": None,
        "CellPhoneNumber": person.phone, "UseBillingAddressAsShippingAddress": 1, "IsActive": 1,
        "Created": stamp, "CreatedBy": INTEGRATION_USER, "Updated": None, "UpdatedBy": None, "_seen": now,
    }
    address = _address(market, rng, "CustomerId", customer_id, customer_id, 1, stamp)
    return {"Customer": [row], "CustomerAddress": [address]}


_COMPANY_ENDINGS = {"SE": "AB", "NO": "AS", "FI": "Oy", "DK": "ApS"}


def new_company(tenant: Tenant, market: Market, company_id: int, now: float) -> dict:
    """A company of the market with an invoice address and one to three contact persons."""
    rng = rng_for("company", company_id)
    stamp = iso(now)
    owner = fakedata.person(market, rng, 0.0, 0.0, 1.0)
    name = f"{owner.last_name} {('Bygg', 'Sport', 'Konsult', 'Handel', 'Turism')[int(rng.random() * 5)]} " \
           f"{_COMPANY_ENDINGS.get(market.code, 'AB')}"
    org = fakedata.fill("55####-####", rng) if market.code == "SE" else fakedata.fill("9########", rng)
    out = {
        "Company": [{
            "Id": company_id, "Key": fakedata.uuid4(rng), "ClientId": tenant.client_id,
            "CompanyCode": f"K{company_id}", "TypeId": 1, "OrganizationNo": org, "Name": name,
            "EmailAddress": f"info@{fakedata.mailbox_part(owner.last_name)}.{market.code.lower()}",
            "PhoneNumber": None, "ParentCompanyId": None, "UseBillingAddressAsShippingAddress": 1, "IsActive": 1,
            "ApplicationId": market.application_id, "VatNo": f"{market.code}{org.replace('-', '')}01",
            "Created": stamp, "CreatedBy": INTEGRATION_USER, "Updated": None, "UpdatedBy": None, "_seen": now,
        }],
        "CompanyAddress": [_address(market, rng, "CompanyId", company_id, company_id, 1, stamp)],
        "Customer": [], "CustomerAddress": [], "CustomerCompany": [],
    }
    low, high = tenant.ids["customer_id"]
    for n in range(1 + int(rng.random() * 3)):
        customer_id = low + (company_id * 7 + n * 104729) % (high - low + 1)  # stable contact ids
        contact = new_customer(tenant, market, customer_id, now)
        out["Customer"] += contact["Customer"]
        out["CustomerAddress"] += contact["CustomerAddress"]
        out["CustomerCompany"].append({
            "CustomerId": customer_id, "CompanyId": company_id, "RoleId": None, "CustomerCode": f"C{customer_id}",
            "Department": None, "OrganizationTitle": None, "IsPrimary": int(n == 0), "ClientId": tenant.client_id,
            "Created": stamp, "CreatedBy": INTEGRATION_USER, "Updated": None, "UpdatedBy": None,
        })
    return out
