"""Generation: every type valid over many seeds and markets, realistic, seeded, overridable."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from mock_norce.catalogue.schemas import Catalog
from mock_norce.errors import BadOverride, InvalidPayload, UnknownMarket
from mock_norce.catalogue.payloads import EventFactory
from mock_norce.catalogue.fakedata import name_tables

from ..conftest import DATA

BUILTIN = [
    "CustomerChangedNotification", "CompanyChangedNotification", "InvoiceCaptureCompletedEvent",
    "OrderCancelledEvent", "OrderConfirmedEvent", "OrderDeliveredEvent", "OrderPartlyDeliveredEvent",
    "OrderReadyForPickupEvent", "OrderPaymentReceivedEvent", "OrderReceivedEvent",
    "SubscriptionFailedEvent", "JobCompletedEvent", "SkuPriceChangedNotification",
    "SkuOnHandBreakPointNotification", "SkuChangedNotification", "TranslationRequestedNotification",
    "SupplierSkuChangedNotification", "SupplierSkuOnHandChangedNotification",
    "SupplierSkuPriceChangedNotification",
]
MARKETS = [None, "SE", "NO", "FI", "DK"]


def sample(factory, name, n=500):
    return [factory.generate(name, seed=seed, market=MARKETS[seed % 5]) for seed in range(n)]


@pytest.mark.parametrize("name", BUILTIN)
def test_500_payloads_per_type_are_valid_with_formats_checked(factory, name):
    reference = Draft202012Validator(factory.catalog.get(name).schema, format_checker=FormatChecker())
    payloads = sample(factory, name)
    for p in payloads:
        errors = list(reference.iter_errors(p.body))
        assert not errors, (p.body, [e.message for e in errors])
        assert p.valid and p.body["ClientId"] == factory.tenant.client_id
    # Few payloads repeated: the generator is not stuck on a few values. (Product events
    # name the tenant's 39-SKU assortment 80% of the time, so some repeat by design: a
    # translation request, with two values besides the SKU, repeats most; a supplier SKU
    # of the assortment decides both SupplierId and PartNo, so those repeat about as much.)
    assert len({p.to_json() for p in payloads}) > (200 if name.startswith("Supplier") else 300)


@pytest.mark.parametrize("name", BUILTIN)
def test_optional_fields_are_sometimes_absent_and_sometimes_present(factory, name):
    et = factory.catalog.get(name)
    optional = set(et.fields) - set(et.required)
    seen = Counter(k for p in sample(factory, name, 300) for k in p.body)
    always = {"DropPointCode"}  # a pickup notice names its place (plan.py, test_fidelity.py)
    for field in optional - always:
        assert 0 < seen[field] < 300, (field, seen[field])
    for field in et.required:
        assert seen[field] == 300


def test_same_seed_gives_byte_identical_json(factory):
    for name in BUILTIN:
        a = [factory.generate(name, seed=s).to_bytes() for s in range(20)]
        b = [factory.generate(name, seed=s).to_bytes() for s in range(20)]
        assert a == b
    assert factory.generate("OrderConfirmedEvent", seed=1).body != factory.generate("OrderConfirmedEvent", seed=2).body


def test_a_fresh_factory_gives_the_same_bytes(settings, factory):
    from mock_norce.app import build_factory

    other = build_factory(settings)
    rng_a, rng_b = random.Random(99), random.Random(99)
    for name in BUILTIN:
        assert factory.generate(name, rng=rng_a).to_bytes() == other.generate(name, rng=rng_b).to_bytes()


def test_market_drives_application_names_phone_and_currency(factory):
    tenant = factory.tenant
    phone_prefix = {"SE": ("+467", "07"), "NO": ("+474", "+479", "4", "9"), "FI": ("+358", "04"), "DK": ("+45",)}
    for code in ("SE", "NO", "FI", "DK"):
        market = tenant.market(code)
        tables = name_tables(market)
        for seed in range(100):
            body = factory.generate("SubscriptionFailedEvent", seed=seed, market=code).body
            assert body["ApplicationId"] == market.application_id
            if "FirstName" in body:
                assert body["FirstName"] in tables.female.values + tables.male.values
                assert body["LastName"] in tables.last.values
            if "CellPhone" in body:
                assert body["CellPhone"].startswith(phone_prefix[code]), body["CellPhone"]
                assert len(re.sub(r"\D", "", body["CellPhone"])) >= 8
            if "Email" in body:
                assert re.fullmatch(r"[a-z0-9._]+@[a-z0-9.]+\.[a-z]+", body["Email"]), body["Email"]
            pay = factory.generate("OrderPaymentReceivedEvent", seed=seed, market=code).body
            if "CurrencyCode" in pay:
                assert pay["CurrencyCode"] == market.currency
            if "PaymentMethodCode" in pay:
                # The market's methods, or a marketplace's or the till's (test_fidelity.py)
                assert pay["PaymentMethodCode"] in {m.code for m in market.payment_methods.values} | {
                    m.code for s in tenant.order_sources.values if s.payment_methods for m in s.payment_methods.values}


def test_ids_and_codes_belong_together_and_to_the_tenant(factory):
    tenant = factory.tenant
    locations = {(w.id, w.code, loc.id, loc.code) for w in tenant.warehouses for loc in w.locations}
    price_lists = {(m.code, pl.id, pl.code) for m in tenant.markets for pl in m.price_lists}
    suppliers = {s.id for s in tenant.suppliers}
    for p in sample(factory, "SkuOnHandBreakPointNotification", 300):
        b = p.body
        match = [l for l in locations if l[0] == b["WarehouseId"] and l[2] == b["LocationId"]]
        assert match, b
        if "WarehouseCode" in b:
            assert match[0][1] == b["WarehouseCode"]
        if "LocationCode" in b:
            assert match[0][3] == b["LocationCode"]
        assert 0 <= b["OnHandValue"] < b["MinimumValue"], b
    for p in sample(factory, "SkuPriceChangedNotification", 300):
        b = p.body
        market = next(m for m in tenant.markets if any(pl.id == b["PricelistId"] for pl in m.price_lists))
        if "PricelistCode" in b:
            assert (market.code, b["PricelistId"], b["PricelistCode"]) in price_lists
        low, high = market.sale_price
        assert low <= b["PriceSaleValue"] <= high
        if "ApplicationId" in b:
            assert b["ApplicationId"] == market.application_id
        assert b.get("QuantityBreak", 1) >= 1
    for name in ("SupplierSkuChangedNotification", "SupplierSkuOnHandChangedNotification", "SupplierSkuPriceChangedNotification"):
        assert {p.body["SupplierId"] for p in sample(factory, name, 100)} <= suppliers


def test_orders_look_like_norce_and_erp_orders(factory):
    sources = Counter()
    for p in sample(factory, "OrderConfirmedEvent", 500):
        b = p.body
        sources[b["Source"]] += 1
        assert b["OrderId"] > 2**31 - 1  # int64 ids, above the int32 range
        assert re.fullmatch(r"SO-1\d{6}", b["OrderNo"])
        if b["Source"] == "WEB":
            assert b["ClientOrderRef"].isdigit() and 6_000_000 <= int(b["ClientOrderRef"]) <= 9_999_999
        else:
            assert not (b["ClientOrderRef"].isdigit() and len(b["ClientOrderRef"]) == 7), b
    assert sources["WEB"] > 380  # WEB mostly...
    assert len(sources) >= 4  # ...marketplaces and POS sometimes


def test_job_status_is_mostly_succeeded(factory):
    counts = Counter(p.body["StatusId"] for p in sample(factory, "JobCompletedEvent", 1000))
    assert set(counts) <= {2, 3, 4}
    assert counts[2] > 750 and counts[3] > 30 and counts[4] > 10


def test_overrides_set_fields_and_bad_ones_name_the_field(factory):
    p = factory.generate("OrderConfirmedEvent", seed=1, overrides={"OrderNo": "X-1", "Source": "CDON"})
    assert p.body["OrderNo"] == "X-1" and p.body["Source"] == "CDON"
    with pytest.raises(InvalidPayload) as err:
        factory.generate("OrderConfirmedEvent", seed=1, overrides={"OrderId": "abc", "ApplicationId": 2**40})
    message = str(err.value)
    assert "$.OrderId: 'abc' is not of type 'integer'" in message
    assert "$.ApplicationId: 1099511627776 is out of the int32 range" in message
    with pytest.raises(BadOverride, match="has no field 'OrderNumber'"):
        factory.generate("OrderConfirmedEvent", overrides={"OrderNumber": "1"})
    with pytest.raises(InvalidPayload, match=r"\$\.OrderNo: is required"):
        factory.generate("OrderConfirmedEvent", omit=["OrderNo"])
    assert "CellPhone" not in factory.generate("OrderConfirmedEvent", seed=1, omit=["CellPhone"]).body
    with pytest.raises(UnknownMarket):
        factory.generate("OrderConfirmedEvent", market="SV")


def test_invalid_payloads_on_request_are_marked(factory):
    p = factory.generate("JobCompletedEvent", seed=1, overrides={"StatusId": 9, "Extra": True}, allow_invalid=True)
    assert p.valid is False
    assert p.body["StatusId"] == 9 and p.body["Extra"] is True
    assert {path for path, _ in p.errors} == {"$", "$.StatusId"}


def test_custom_type_is_generated_from_its_schema(settings):
    from mock_norce.catalogue.tenant import load_tenant

    catalog = Catalog(settings.fixtures_dir / "schemas", DATA / "custom_schemas")
    factory = EventFactory(catalog, load_tenant(settings.tenant_path))
    et = catalog.get("LoyaltyPointsChangedEvent")
    reference = Draft202012Validator(et.schema, format_checker=FormatChecker())
    tiers = Counter()
    for seed in range(500):
        body = factory.generate(et.name, seed=seed).body
        assert reference.is_valid(body), list(reference.iter_errors(body))
        tiers[body["Tier"]] += 1
        assert "@" in body["Email"] and body["ChangedAt"].endswith("Z")
        assert body["Lines"] and all(1 <= line["Quantity"] <= 9 for line in body["Lines"])
        assert body["ClientId"] == factory.tenant.client_id  # field name drives the value
    assert set(tiers) == {"Bronze", "Silver", "Gold"}
    a = factory.generate(et.name, seed=5).to_bytes()
    assert a == factory.generate(et.name, seed=5).to_bytes()


def test_traffic_weights_only_name_values_the_schemas_allow(factory):
    for key, weights in factory.tenant.enum_weights.items():
        type_name, field = key.split(".")
        prop = factory.catalog.get(type_name).schema["properties"][field]
        if "enum" in prop:
            assert set(weights.values) <= set(prop["enum"]), key
