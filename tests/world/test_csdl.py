"""$metadata: CSDL XML that names every set and type of the namespace, in each version's
spelling, and parses as EDMX 4.0."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from mock_norce.errors import QueryError

NS = {"edmx": "http://docs.oasis-open.org/odata/ns/edmx", "edm": "http://docs.oasis-open.org/odata/ns/edm"}


@pytest.mark.parametrize("namespace", ["Orders", "Products", "Customers", "Application", "Core"])
def test_every_set_and_type_is_in_the_metadata(service, model, namespace):
    root = ET.fromstring(service.metadata("2.0", namespace))
    assert root.tag == f"{{{NS['edmx']}}}Edmx" and root.get("Version") == "4.0"
    schema = root.find("edmx:DataServices/edm:Schema", NS)
    ns = model.namespaces[namespace]
    assert schema.get("Namespace") == ns.schemas["2.0"]
    sets = {s.get("Name"): s.get("EntityType") for s in schema.findall("edm:EntityContainer/edm:EntitySet", NS)}
    assert sets == {t.set_name: f"{ns.schemas['2.0']}.{t.name}" for t in ns.types.values()}
    types = {t.get("Name"): t for t in schema.findall("edm:EntityType", NS)}
    assert set(types) == set(ns.types)
    for entity in ns.types.values():
        props = [p.get("Name") for p in types[entity.name].findall("edm:Property", NS)]
        assert props == list(entity.properties)  # never an internal column
        keys = [k.get("Name") for k in types[entity.name].findall("edm:Key/edm:PropertyRef", NS)]
        assert keys == list(entity.key)


def test_types_navigations_and_constraints(service):
    schema = ET.fromstring(service.metadata("2.0", "Orders")).find("edmx:DataServices/edm:Schema", NS)
    prefix = "Enferno.Storm.Query.Api.DataContexts.OrderModel"
    order = schema.find("edm:EntityType[@Name='Order']", NS)
    idp = order.find("edm:Property[@Name='Id']", NS)
    assert (idp.get("Type"), idp.get("Nullable")) == ("Edm.Int64", "false")
    assert order.find("edm:Property[@Name='ApplicationId']", NS).get("Nullable") is None
    assert order.find("edm:Property[@Name='FreightCost']", NS).get("Type") == "Edm.Decimal"
    items = order.find("edm:NavigationProperty[@Name='Items']", NS)
    assert items.get("Type") == f"Collection({prefix}.OrderItem)"
    assert order.find("edm:NavigationProperty[@Name='Buyer']", NS).get("Type") == f"{prefix}.Address"
    assert order.find("edm:NavigationProperty[@Name='Buyer']/edm:ReferentialConstraint", NS) is None  # internal column
    back = schema.find("edm:EntityType[@Name='OrderItem']/edm:NavigationProperty[@Name='Order']/edm:ReferentialConstraint", NS)
    assert (back.get("Property"), back.get("ReferencedProperty")) == ("OrderId", "Id")
    binding = schema.find("edm:EntityContainer/edm:EntitySet[@Name='Orders']/edm:NavigationPropertyBinding[@Path='Items']", NS)
    assert binding.get("Target") == "OrderItems"


def test_version_3_names(service):
    schema = ET.fromstring(service.metadata("3.0", "products")).find("edmx:DataServices/edm:Schema", NS)
    assert schema.get("Namespace") == "Norce.Query.Products"
    sku = schema.find("edm:EntityType[@Name='ClientProductSku']", NS)
    assert sku.find("edm:Key/edm:PropertyRef", NS).get("Name") == "partNo"
    assert sku.find("edm:NavigationProperty[@Name='priceLists']", NS).get("Type") == \
        "Collection(Norce.Query.Products.ClientProductSkuPriceList)"
    skus = schema.find("edm:EntityContainer/edm:EntitySet[@Name='ProductSkus']", NS)
    assert skus.get("EntityType") == "Norce.Query.Products.ClientProductSku"


def test_unknown_namespace_or_version(service):
    for version, namespace in (("2.0", "Nope"), ("4.0", "Orders")):
        with pytest.raises(QueryError) as err:
            service.metadata(version, namespace)
        assert err.value.status == 404


def test_service_document(service):
    body = service.service_document("2.0", "orders", "http://h/commerce/query/2.0/Orders")
    assert body["@odata.context"] == "http://h/commerce/query/2.0/Orders/$metadata"
    assert {"name": "Orders", "kind": "EntitySet", "url": "Orders"} in body["value"] and len(body["value"]) == 8
