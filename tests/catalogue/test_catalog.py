"""The schemas against Norce's catalogue, the validators, and custom schema loading."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from mock_norce.catalogue.schemas import INT32, INT64, Catalog
from mock_norce.errors import UnknownEventType

from ..conftest import DATA, ROOT

CATALOGUE = json.loads((ROOT / "mock_norce/fixtures/norce/catalogue.json").read_text())
SPEC = {e["name"]: e for e in CATALOGUE["events"]}
SHARED = ROOT.parent / "shared/norce/catalogue.json"


def test_snapshot_matches_the_shared_specification():
    if not SHARED.exists():
        pytest.skip("../shared/norce is not beside this checkout")
    assert json.loads(SHARED.read_text()) == CATALOGUE


def test_one_schema_per_documented_type_and_nothing_else(factory):
    builtin = sorted(et.name for et in factory.catalog if et.builtin)
    assert builtin == sorted(SPEC) and len(builtin) == 19


@pytest.mark.parametrize("name", sorted(SPEC))
def test_schema_matches_catalogue(factory, name):
    spec, et = SPEC[name], factory.catalog.get(name)
    schema = et.schema
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert (et.category, et.kind) == (spec["category"], spec["kind"])
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == [f["name"] for f in spec["fields"]]
    assert schema["required"] == [f["name"] for f in spec["fields"] if f["required"]]
    for f in spec["fields"]:
        prop = schema["properties"][f["name"]]
        assert prop["type"] == f["type"], f["name"]
        assert prop.get("format") == f["format"], f["name"]
        assert prop.get("enum") == f["enum"], f["name"]
        bounds = {"int32": INT32, "int64": INT64}.get(f["format"])
        if bounds:
            assert (prop["minimum"], prop["maximum"]) == bounds, f["name"]
        else:
            assert "minimum" not in prop and "maximum" not in prop
        assert bool(prop.get("x-norce-unconfirmed")) == (f.get("confirmed") is False), f["name"]


def test_company_enum_is_the_newest_list(factory):
    values = factory.catalog.get("CompanyChangedNotification").schema["properties"]["EntityChanged"]["enum"]
    assert "tClientCustomerCompany" not in values and len(values) == 10


NEGATIVE = [
    ("wrong type", {"ClientId": "1042"}, "$.ClientId", "is not of type 'integer'"),
    ("missing required", None, "$", "'OrderNo' is required but missing"),
    ("int32 overflow", {"ApplicationId": 2**31}, "$.ApplicationId", "out of the int32 range"),
    ("int64 overflow", {"OrderId": 2**63}, "$.OrderId", "out of the int64 range"),
    ("unknown field", {"EventType": "x"}, "$", "unknown field(s) EventType"),
    ("boolean is not an integer", {"ClientId": True}, "$.ClientId", "is not of type 'integer'"),
]


@pytest.mark.parametrize("label,change,path,reason", NEGATIVE, ids=[n[0] for n in NEGATIVE])
def test_validator_rejects(factory, label, change, path, reason):
    body = dict(factory.generate("OrderConfirmedEvent", seed=7).body)
    if change is None:
        del body["OrderNo"]
    else:
        body.update(change)
    et = factory.catalog.get("OrderConfirmedEvent")
    errors = et.errors(body)
    assert not et.is_valid(body)
    assert any(p == path and reason in r for p, r in errors), errors
    # The reference validator, formats on, agrees.
    assert not Draft202012Validator(et.schema, format_checker=FormatChecker()).is_valid(body)


def test_validator_rejects_unknown_enum_value(factory):
    et = factory.catalog.get("JobCompletedEvent")
    body = {"ClientId": 1042, "JobId": 5, "StatusId": 7}
    assert et.errors(body) == [("$.StatusId", "7 is not one of [1, 2, 3, 4, 5, 6]")]
    et = factory.catalog.get("InvoiceCaptureCompletedEvent")
    body = {"ClientId": 1, "ApplicationId": 1, "CapturedInvoiceId": 1, "State": "captured"}
    assert [p for p, _ in et.errors(body)] == ["$.State"]


def test_every_error_is_listed_not_only_the_first(factory):
    et = factory.catalog.get("SkuOnHandBreakPointNotification")
    errors = et.errors({"ClientId": "x", "PartNo": 5, "WarehouseId": 1.5, "Extra": 1})
    paths = {p for p, _ in errors}
    assert {"$.ClientId", "$.PartNo", "$.WarehouseId", "$"} <= paths
    assert len(errors) >= 7  # 3 wrong types, 1 unknown field, 3 missing required


def test_fast_path_and_reference_agree_on_mutations(factory):
    """The compiled check must accept exactly what jsonschema accepts."""
    mutations = [None, "x", -1, 2**31, 2**31 - 1, -(2**31) - 1, 1.5, 2.0, True, [], {}, "tClientCustomer"]
    checked = 0
    for et in factory.catalog:
        assert et.fast_check is not None, f"{et.name} should compile to the fast path"
        reference = Draft202012Validator(et.schema, format_checker=FormatChecker())
        base = factory.generate(et.name, seed=3).body
        for field in et.fields:
            for value in mutations:
                body = dict(base, **{field: value})
                assert et.is_valid(body) == reference.is_valid(body), (et.name, field, value)
                checked += 1
    assert checked > 1000


def test_unknown_type_names_the_closest(factory):
    with pytest.raises(UnknownEventType, match="did you mean OrderConfirmedEvent"):
        factory.catalog.get("orderconfirmedevent")


def test_custom_schemas_load_and_bad_ones_are_reported(settings):
    catalog = Catalog(settings.fixtures_dir / "schemas", DATA / "custom_schemas")
    assert "LoyaltyPointsChangedEvent" in catalog
    custom = catalog.get("LoyaltyPointsChangedEvent")
    assert (custom.builtin, custom.category, custom.kind) == (False, "Custom", "Event")
    assert custom.fast_check is None  # uses formats/$defs: jsonschema checks it
    problems = "\n".join(catalog.problems)
    assert "BrokenJson.json: not valid JSON" in problems
    assert "BadSchema.json: not a valid JSON Schema" in problems
    assert "OrderConfirmedEvent is a built-in Norce type" in problems
    assert catalog.get("OrderConfirmedEvent").builtin  # the built-in one survived
    assert len(catalog.problems) == 3


def test_missing_custom_directory_is_a_problem_not_a_crash(settings, tmp_path):
    catalog = Catalog(settings.fixtures_dir / "schemas", tmp_path / "nope")
    assert len(catalog.names()) == 19
    assert "does not exist" in catalog.problems[0]


def test_formats_are_really_checked(settings):
    """A format whose checker library is missing would be skipped silently: prove they run."""
    catalog = Catalog(settings.fixtures_dir / "schemas", DATA / "custom_schemas")
    et = catalog.get("LoyaltyPointsChangedEvent")
    from mock_norce.catalogue.payloads import EventFactory
    from mock_norce.catalogue.tenant import load_tenant

    good = EventFactory(catalog, load_tenant(settings.tenant_path)).generate(et.name, seed=1).body
    assert et.errors(good) == []
    for field, bad in [("Email", "not-an-email"), ("ChangedAt", "2026-13-45 25:00"),
                       ("MemberId", "1234"), ("ValidUntil", "2026-02-30")]:
        errors = et.errors(dict(good, **{field: bad}))
        assert [p for p, _ in errors] == [f"$.{field}"], (field, errors)


ENTITY_OF = {
    "order": ["OrderReceivedEvent", "OrderConfirmedEvent", "OrderPaymentReceivedEvent", "OrderPartlyDeliveredEvent",
              "OrderDeliveredEvent", "OrderCancelledEvent", "OrderReadyForPickupEvent", "InvoiceCaptureCompletedEvent"],
    "sku": ["SkuPriceChangedNotification", "SkuOnHandBreakPointNotification", "SkuChangedNotification",
            "TranslationRequestedNotification"],
    "supplier": ["SupplierSkuChangedNotification", "SupplierSkuOnHandChangedNotification",
                 "SupplierSkuPriceChangedNotification"],
    "customer": ["CustomerChangedNotification"], "company": ["CompanyChangedNotification"],
    "job": ["JobCompletedEvent"], "subscription": ["SubscriptionFailedEvent"],
}


def test_entity_comes_from_the_schema_and_the_validators_ignore_it(settings, tmp_path):
    catalog = Catalog(settings.fixtures_dir / "schemas", DATA / "custom_schemas")
    assert {et.name: et.entity for et in catalog if et.builtin} == {
        name: entity for entity, names in ENTITY_OF.items() for name in names}
    assert all(et.fast_check is not None for et in catalog if et.builtin)  # x- keys keep the fast path
    assert catalog.get("LoyaltyPointsChangedEvent").entity is None  # custom, no key: any entity
    schema = {"type": "object", "properties": {"A": {"type": "string"}}, "x-norce-entity": "planet"}
    (tmp_path / "PlanetEvent.json").write_text(json.dumps(schema))
    (tmp_path / "MoonEvent.json").write_text(json.dumps({**schema, "x-norce-entity": "sku"}))
    custom = Catalog(settings.fixtures_dir / "schemas", tmp_path)
    assert "PlanetEvent" not in custom and "x-norce-entity" in custom.problems[0] and "planet" in custom.problems[0]
    assert custom.get("MoonEvent").entity == "sku" and custom.get("MoonEvent").errors({"A": "x"}) == []
