"""Generated data Norce's platform and the Nordic markets could produce (issue 15, item 4).

Each rule is checked over a few thousand payloads: names weighted like the population, one
phone format, marketplace orders paid by the marketplace, pickup only for web orders and
with a place, supplier part numbers, Swish references, numbers written one way, ids that
differ between markets.
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from mock_norce.catalogue import fakedata
from mock_norce.catalogue.fields import MAKERS

N = 2000
MARKETS = ("SE", "NO", "FI", "DK")


def people(factory, code: str, n: int = N):
    market = factory.tenant.market(code)
    rng = random.Random(f"people:{code}")
    return [fakedata.person(market, rng, 1.0, 1.0, 1.0) for _ in range(n)]


def top(counter: Counter, n: int) -> set:
    return {name for name, _ in counter.most_common(n)}


# --- names --------------------------------------------------------------------------------

# The most common names by the statistics offices' tables (DST, SSB, DVV, SCB): each
# market's sample must have most of its own at its top.
COMMON_LAST = {
    "DK": {"Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen"},
    "NO": {"Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen"},
    "FI": {"Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen", "Koskinen"},
    "SE": {"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson"},
}
COMMON_FIRST = {
    "DK": {"Peter", "Jens", "Michael", "Lars", "Henrik", "Thomas", "Søren", "Anne", "Kirsten", "Mette", "Hanne",
           "Anna", "Helle", "Susanne"},
    "NO": {"Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Anne", "Inger", "Kari", "Marit", "Ingrid",
           "Liv", "Eva"},
    "FI": {"Juha", "Timo", "Matti", "Kari", "Mikko", "Jari", "Antti", "Tuula", "Päivi", "Anne", "Anna", "Pirjo",
           "Sari", "Minna"},
    "SE": {"Lars", "Mikael", "Anders", "Johan", "Erik", "Per", "Peter", "Anna", "Eva", "Maria", "Karin", "Sara",
           "Lena", "Kristina"},
}
# Names borne almost only as middle names (Juhani is Finland's commonest given name, hardly
# anyone's first).
MIDDLE_NAMES = {
    "FI": {"Juhani", "Olavi", "Antero", "Tapani", "Johannes", "Kalevi", "Ilmari", "Petteri", "Sakari", "Kristian",
           "Henrik", "Kalervo", "Ensio", "Helena", "Anneli", "Kaarina", "Hannele", "Marjatta", "Annikki", "Tuulikki",
           "Katariina", "Sinikka", "Inkeri", "Orvokki", "Kyllikki", "Tellervo", "Irmeli", "Maarit"},
}
INVENTED = {"Ørni", "Øvli", "Åbjørn", "Øivind", "Øjvind", "Clavs", "Jano", "Weena", "Zehnia", "Esmarelda", "Cirkeline"}


@pytest.mark.parametrize("code", MARKETS)
def test_names_are_weighted_like_the_population(factory, code):
    sample = people(factory, code)
    last = Counter(p.last_name for p in sample)
    first = Counter(p.first_name for p in sample)
    # The five commonest surnames of the sample are among the country's eight or nine commonest.
    assert top(last, 5) <= COMMON_LAST[code], last.most_common(8)
    # ...and weigh like it: in Denmark Nielsen, Jensen and Hansen alone are one name in nine
    # of the whole population, more in a table of the top names; uniform draws give 3 in 100.
    share = sum(last[n] for n in sorted(COMMON_LAST[code])[:3]) / N
    assert share > {"DK": 0.10}.get(code, 0.0), share
    assert len(top(first, 10) & COMMON_FIRST[code]) >= 6, first.most_common(12)


def test_the_commonest_names_lead(factory):
    """Denmark's and Norway's -sen names, Sweden's -son names, and the names people go by:
    Anna, not Maria (a middle name more often than not), leads in Sweden; Juha, not Juhani,
    in Finland."""
    leaders = {"DK": ("Nielsen", "Jensen", "Hansen"), "NO": ("Hansen", "Johansen", "Olsen"),
               "SE": ("Andersson", "Johansson")}
    for code, names in leaders.items():
        sample = people(factory, code)
        last = Counter(p.last_name for p in sample)
        assert top(last, 5) >= set(names), (code, last.most_common(5))
        assert all(last[n] > N / 50 for n in names), (code, [(n, last[n]) for n in names])
    first = {code: Counter(p.first_name for p in people(factory, code)) for code in ("SE", "FI")}
    assert first["SE"]["Anna"] > first["SE"]["Maria"]
    assert first["FI"]["Juha"] > first["FI"]["Juhani"] * 10


@pytest.mark.parametrize("code", MARKETS)
def test_first_names_are_first_names_not_middle_names_and_none_invented(factory, code):
    sample = people(factory, code)
    names = Counter(p.first_name for p in sample) + Counter(p.last_name for p in sample)
    assert not INVENTED & set(names), INVENTED & set(names)
    middle = sum(n for name, n in names.items() if name in MIDDLE_NAMES.get(code, ()))
    # Faker's fi_FI draws a middle name as a first name one time in four; a country's
    # first-name table does so rarely (Mikael, Oskari: a few first names are both).
    assert middle / N < 0.02, Counter(
        {k: v for k, v in names.items() if k in MIDDLE_NAMES.get(code, ())}).most_common(5)


def test_every_market_names_a_names_file_and_each_file_is_sound(factory):
    for market in factory.tenant.markets:
        tables = fakedata.name_tables(market)
        assert market.names is tables, market.code  # our tables, not Faker's fallback
        for part in (tables.female, tables.male, tables.last):
            assert len(part.values) >= 60 and len(set(part.values)) == len(part.values)
            assert all(re.fullmatch(r"[A-ZÅÄÖØÆÜÉ][a-zåäöøæüéè]+", name) for name in part.values), part.values


def test_a_names_file_with_a_name_twice_is_refused(tmp_path):
    from mock_norce.catalogue.names import load_names
    from mock_norce.errors import TenantError

    path = tmp_path / "x.yaml"
    path.write_text("female: {Anna: 2}\nmale: {Per: 1, Per: 2}\nlast: {Berg: 1}\n", encoding="utf-8")
    with pytest.raises(TenantError, match="'Per' is listed twice"):
        load_names(str(path))
    path.write_text("female: {Anna: 2}\nmale: {Per: 0}\nlast: {Berg: 1}\n", encoding="utf-8")
    with pytest.raises(TenantError, match="Per"):
        load_names(str(path))


# --- phone numbers ---------------------------------------------------------------------------

COUNTRY_CODES = {"SE": "+46", "NO": "+47", "FI": "+358", "DK": "+45"}


@pytest.mark.parametrize("code", MARKETS)
def test_phone_numbers_are_e164_in_every_market(factory, code):
    phones = [p.phone for p in people(factory, code)]
    phones += [factory.generate("OrderReceivedEvent", seed=s, market=code).body.get("CellPhone")
               for s in range(500)]
    for phone in filter(None, phones):
        assert re.fullmatch(r"\+[1-9]\d{7,14}", phone), phone
        assert phone.startswith(COUNTRY_CODES[code]), phone


# --- payments ----------------------------------------------------------------------------------

def test_swish_references_are_upper_case_hex(factory):
    refs = [b.get("PaymentRef") for b in (factory.generate("OrderPaymentReceivedEvent", seed=s, market="SE").body
                                          for s in range(N)) if b.get("PaymentMethodCode") == "SWISH"]
    assert len([r for r in refs if r]) > 200
    for ref in filter(None, refs):
        assert re.fullmatch(r"[0-9A-F]{32}", ref), ref


# --- marketplace and POS orders ----------------------------------------------------------------

MARKETPLACES = {"CDON": "CDON", "Amazon": "AMAZON", "Zalando": "ZALANDO"}


def shop_methods(factory) -> set:
    return {m.code for market in factory.tenant.markets for m in market.payment_methods.values}


@pytest.mark.parametrize("source", sorted(MARKETPLACES))
def test_marketplace_orders_are_paid_by_the_marketplace(factory, source):
    rng = random.Random(source)
    for n in range(N // 4):
        draw = factory.draw(rng, MARKETS[n % 4], fixed={"Source": source})
        received = factory.generate("OrderReceivedEvent", draw=draw).body
        paid = factory.generate("OrderPaymentReceivedEvent", draw=draw).body
        assert paid["ClientOrderRef"] == received["ClientOrderRef"]
        if "PaymentMethodCode" in paid:
            assert paid["PaymentMethodCode"] == MARKETPLACES[source], paid
        if "PaymentRef" in paid:  # the marketplace's settlement names its own order
            assert paid["PaymentRef"] == paid["ClientOrderRef"]


def test_no_payment_of_a_marketplace_or_pos_order_uses_the_shops_methods(factory):
    """Over any payments (no source fixed), a payment whose reference is a marketplace's or a
    till's is never Klarna, Swish, a card on the web..."""
    shop = shop_methods(factory)
    web_refs = 0
    for seed in range(N):
        draw = factory.draw(random.Random(seed))
        paid = factory.generate("OrderPaymentReceivedEvent", draw=draw)
        source, method = paid.facts["source"], paid.facts.get("payment_method")
        if method is None:  # neither PaymentMethodCode nor PaymentRef this time
            continue
        assert paid.body.get("PaymentMethodCode", method) == method
        if source == "WEB":
            web_refs += 1
            assert method in shop
        else:
            assert method not in shop, (source, method)
    assert 0 < web_refs < N


def test_the_world_keeps_the_marketplace_payment_and_delivery(factory, tmp_path):
    world, database = world_of(factory, tmp_path)
    payloads = []
    for n in range(400):
        draw = factory.draw(random.Random(n), fixed={"Source": ("CDON", "Amazon", "Zalando", "POS")[n % 4]})
        payloads += [factory.generate("OrderConfirmedEvent", draw=draw),
                     factory.generate("OrderPaymentReceivedEvent", draw=draw)]
    world.record(payloads, now=1_760_000_000.0)
    with database.reader() as db:
        rows = db.execute("SELECT Source, PaymentTerms, DeliveryMode FROM w_orders").fetchall()
    assert len(rows) == 400
    for source, terms, mode in rows:
        if source == "POS":
            assert terms in {"POS_CARD", "POS_CASH"} and mode == "IN_STORE"
        else:
            assert terms == MARKETPLACES[source] and mode in {"HOME_DELIVERY", "SERVICE_POINT", "PARCEL_LOCKER"}
    database.close()


def world_of(factory, tmp_path):
    from mock_norce.storage.database import Database
    from mock_norce.world.model import load_model
    from mock_norce.world.world import World

    root = __import__("pathlib").Path(fakedata.__file__).resolve().parent.parent / "fixtures"
    database = Database(tmp_path / "world.db")
    world = World(load_model(root / "query-model.yaml"), factory.tenant, database)
    world.prepare()
    return world, database


# --- ready for pickup ------------------------------------------------------------------------

def test_only_web_orders_are_ready_for_pickup_and_always_say_where(factory):
    stores = {s.code for m in factory.tenant.markets for s in m.stores}
    at_store = 0
    for seed in range(N):
        body = factory.generate("OrderReadyForPickupEvent", seed=seed, market=MARKETS[seed % 4]).body
        assert body["Source"] == "WEB", body
        assert body["ClientOrderRef"].isdigit(), body  # a basket, not a marketplace's or a receipt's
        assert body.get("DropPointCode"), body
        at_store += body["DropPointCode"] in stores
    assert 0 < at_store < N  # stores (click and collect) and service points both


def stories(factory, scenario: str, count: int):
    """The scenario's plays (each a list of payloads), played back to back without waits."""
    from mock_norce.scenarios.library import Library
    from mock_norce.scenarios.player import MixStream

    root = __import__("pathlib").Path(fakedata.__file__).resolve().parent.parent / "fixtures"
    library = Library(factory.catalog, root, [root / "scenarios"])
    out: dict[int, list] = {}
    for story, payload in MixStream([(library.get(scenario), 1)], factory, seed=15).stories():
        if story >= count:
            break
        out.setdefault(story, []).append(payload)
    return list(out.values())


def order_timelines(plays) -> list[list]:
    """Per order (OrderId), its events in order."""
    orders: dict = {}
    for play in plays:
        for p in play:
            if "OrderId" in p.body:
                orders.setdefault(p.body["OrderId"], []).append(p)
    return list(orders.values())


@pytest.mark.parametrize("scenario", ["realistic-day", "click-and-collect", "pos-order", "marketplace-order"])
def test_in_scenarios_pickup_is_for_web_orders_and_ends_delivered(factory, scenario):
    plays = stories(factory, scenario, 1 if scenario == "realistic-day" else 60)
    pickups = 0
    for timeline in order_timelines(plays):
        types = [p.event_type for p in timeline]
        if "OrderReadyForPickupEvent" not in types:
            continue
        pickups += 1
        ready = timeline[types.index("OrderReadyForPickupEvent")].body
        assert ready["Source"] == "WEB" and ready.get("DropPointCode"), ready
        # click and collect reaches Delivered, after the pickup notice
        assert "OrderDeliveredEvent" in types[types.index("OrderReadyForPickupEvent"):], types
    if scenario in ("realistic-day", "click-and-collect"):
        assert pickups > 0


def test_the_world_delivers_a_store_pickup_as_click_and_collect(factory, tmp_path):
    world, database = world_of(factory, tmp_path)
    stores = {s.code for m in factory.tenant.markets for s in m.stores}
    payloads = [factory.generate("OrderReadyForPickupEvent", seed=seed) for seed in range(300)]
    world.record(payloads, now=1_760_000_000.0)
    with database.reader() as db:
        modes = dict(db.execute("SELECT Id, DeliveryMode FROM w_orders").fetchall())
    for p in payloads:
        mode = modes[p.body["OrderId"]]
        if p.body["DropPointCode"] in stores:
            assert mode == "CLICK_AND_COLLECT", p.body
        else:
            assert mode in {"SERVICE_POINT", "PARCEL_LOCKER"}, (mode, p.body)
    database.close()


# --- supplier part numbers -----------------------------------------------------------------------

SUPPLIER_TYPES = ("SupplierSkuChangedNotification", "SupplierSkuOnHandChangedNotification",
                  "SupplierSkuPriceChangedNotification")


@pytest.mark.parametrize("name", SUPPLIER_TYPES)
def test_supplier_events_carry_the_suppliers_own_part_numbers(factory, name):
    tenant = factory.tenant
    ours = {s.part_no for s in tenant.skus}
    forms = {s.id: re.compile(re.escape(s.part_no).replace("%", "[1-9]").replace("\\#", r"\d").replace("\\?", "[A-Z]")
                              .replace("#", r"\d").replace("?", "[A-Z]")) for s in tenant.suppliers}
    assortment = 0
    for seed in range(N):
        body = factory.generate(name, seed=seed, market=MARKETS[seed % 4]).body
        assert body["PartNo"] not in ours, body
        assert forms[body["SupplierId"]].fullmatch(body["PartNo"]), (body, forms[body["SupplierId"]].pattern)
        sku = tenant.supplier_sku(body["SupplierId"], body["PartNo"])
        assortment += sku is not None
    assert assortment > N / 2  # mostly what the shop sells, by the supplier's number


def test_a_supplier_feed_names_that_suppliers_parts(factory):
    for play in stories(factory, "supplier-feed", 5):
        for p in play:
            assert p.body["SupplierId"] == 502 and p.body["PartNo"].startswith("NS"), p.body


def test_the_world_has_the_supplier_sku_under_the_suppliers_number(factory, tmp_path):
    world, database = world_of(factory, tmp_path)
    with database.reader() as db:
        rows = db.execute("SELECT PartNo, SupplierId, Name FROM w_supplier_skus").fetchall()
    assert {(r[0], r[1]) for r in rows} == {(s.supplier_part_no, s.supplier_id) for s in factory.tenant.skus
                                            if s.supplier_id is not None}
    names = {s.name for s in factory.tenant.skus}
    assert all(r[2] in names for r in rows)
    database.close()


# --- numbers ------------------------------------------------------------------------------------

def number_fields(factory):
    return {et.name: [k for k, v in et.schema.get("properties", {}).items() if v.get("type") == "number"]
            for et in factory.catalog}


def test_every_double_is_written_with_its_decimals_from_every_source(factory):
    """Amount, PriceSaleValue, OnHandValue, MinimumValue, QuantityBreak: always 2339.0, never
    2339 (JSON numbers either way; a consumer that maps the first sample's type gets one)."""
    from mock_norce.catalogue.payloads import coerce

    fields = {name: found for name, found in number_fields(factory).items() if found}
    assert set(fields) >= {"OrderPaymentReceivedEvent", "SkuPriceChangedNotification",
                           "SkuOnHandBreakPointNotification"}
    for name, found in fields.items():
        et = factory.catalog.get(name)
        for seed in range(N // 4):
            # generated, set to a whole number (an override, a scenario's `set`), or typed in
            # a form or on the command line
            overrides = {} if seed % 3 == 0 else {
                f: (3999 if seed % 3 == 1 else coerce(et, f, "3999")) for f in found[: 1 + seed % len(found)]}
            text = factory.generate(name, seed=seed, overrides=overrides).to_json()
            for f in found:
                written = re.search(rf'"{f}":(-?[0-9.eE+-]+)', text)
                if written:
                    assert re.search(r"[.eE]", written.group(1)), (f, written.group(0))
    # A value that is not a number stays as given (for negative tests), flagged invalid.
    bad = factory.generate("SkuPriceChangedNotification", seed=1, overrides={"PriceSaleValue": "3999"},
                           allow_invalid=True)
    assert bad.body["PriceSaleValue"] == "3999" and not bad.valid


# --- ids per market --------------------------------------------------------------------------------

ID_FIELDS = {"OrderConfirmedEvent": ("OrderId", "OrderNo", "ClientOrderRef"),
             "CustomerChangedNotification": ("CustomerId",), "CompanyChangedNotification": ("CompanyId",),
             "OrderPaymentReceivedEvent": ("ClientOrderRef", "ErpOrderNo", "PaymentCode"),
             "SubscriptionFailedEvent": ("SubscriptionId", "BasketId")}


@pytest.mark.parametrize("name", sorted(ID_FIELDS))
def test_the_same_seed_in_another_market_gives_other_ids(factory, name):
    for seed in range(N // 10):
        bodies = {code: factory.generate(name, seed=seed, market=code).body for code in MARKETS}
        for field in ID_FIELDS[name]:
            values = [b[field] for b in bodies.values() if field in b]
            assert len(values) == len(set(values)), (seed, field, values)
        # ...and the same seed in the same market is the same event
        assert factory.generate(name, seed=seed, market="NO").body == bodies["NO"]


def test_a_stream_pinned_to_a_market_differs_from_the_same_stream_in_another(factory):
    """A schedule's stream (one random source for many payloads) with a market set."""
    streams = {code: [factory.generate("OrderConfirmedEvent", rng=rng, market=code).body["OrderId"]
                      for _ in range(N // 4)]
               for code, rng in ((code, random.Random(7)) for code in MARKETS)}
    for a in MARKETS:
        for b in MARKETS:
            if a < b:
                assert not set(streams[a]) & set(streams[b]), (a, b)
    rng = random.Random(7)
    assert [factory.generate("OrderConfirmedEvent", rng=rng, market="FI").body["OrderId"]
            for _ in range(N // 4)] == streams["FI"]


def test_the_world_order_is_paid_the_way_its_payment_event_says(factory, tmp_path):
    """An order confirmed first, paid after (pos-order, web-order): its PaymentTerms follow the
    payment event, whichever the world guessed when the confirmation made the order."""
    world, database = world_of(factory, tmp_path)
    methods = {}
    for n in range(300):
        draw = factory.draw(random.Random(n), fixed={"Source": ("POS", "WEB", "CDON")[n % 3]})
        confirmed = factory.generate("OrderConfirmedEvent", draw=draw)
        method = MAKERS["PaymentMethodCode"](draw)  # sent every time here (it is optional)
        paid = factory.generate("OrderPaymentReceivedEvent", draw=draw, overrides={"PaymentMethodCode": method})
        world.record([confirmed], now=1_760_000_000.0)
        world.record([paid], now=1_760_000_001.0)
        methods[confirmed.body["OrderId"]] = paid.body["PaymentMethodCode"]
    with database.reader() as db:
        terms = dict(db.execute("SELECT Id, PaymentTerms FROM w_orders").fetchall())
    assert terms == methods
    database.close()


def test_a_tenant_copied_elsewhere_keeps_the_built_in_names_and_a_missing_file_is_named(settings, tmp_path):
    from mock_norce.catalogue.tenant import load_tenant
    from mock_norce.errors import TenantError

    path = tmp_path / "tenant.yaml"
    text = settings.tenant_path.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    assert load_tenant(path).market("DK").names is load_tenant(settings.tenant_path).market("DK").names
    path.write_text(text.replace("names/dk.yaml", "names/xx.yaml"), encoding="utf-8")
    with pytest.raises(TenantError, match="xx.yaml"):
        load_tenant(path)
    path.write_text(text.replace("    names: names/dk.yaml\n", ""), encoding="utf-8")
    assert load_tenant(path).market("DK").names is None  # Faker's da_DK, as before names files
