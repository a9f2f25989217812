"""QueryService over the small world of conftest.py: keys, paths, every $filter form, $select,
$expand, $orderby, $top/$skip, $count, 3.0 casing, and the errors (404 for what is not there,
400 for a bad query)."""

from __future__ import annotations

import pytest

from mock_norce.errors import QueryError
from mock_norce.world.query import QueryService

from tests.world.world import reader_for


def ids(body) -> list:
    return [row.get("Id", row.get("id")) for row in body["value"]]


def fails(q, status: int, *call, **kw) -> str:
    with pytest.raises(QueryError) as err:
        q(*call, **kw)
    assert err.value.status == status, str(err.value)
    return str(err.value)


# --- keys and paths ---------------------------------------------------------------------

def test_a_keyed_order_is_the_bare_entity_with_every_property_in_model_order(q, model):
    body = q("Orders(2147500123)")
    assert "value" not in body and "@odata.context" not in body
    assert list(body) == list(model.namespaces["Orders"].types["Order"].properties)  # no navigation, no _column
    assert body["Id"] == 2147500123 and body["OrderNo"] == "SO-1001"
    assert body["IsPartDelivery"] is False and body["FreightCost"] == 49.0
    assert body["ApplicationId"] is None  # nullable and null: present
    assert body["OrderDate"] == "2026-03-01T10:00:00Z"


def test_entity_context_when_asked(model, world_db):
    service = QueryService(model, reader_for(world_db), entity_context=True)
    body = service.handle("2.0", "Orders", "Orders(2147500123)", {}, "http://h/commerce/query/2.0/Orders")
    assert body["@odata.context"] == "http://h/commerce/query/2.0/Orders/$metadata#Orders/$entity"
    assert list(body)[0] == "@odata.context"


def test_string_and_composite_keys(q):
    sku = q("ProductSkus('100011-M')", namespace="Products")
    assert sku["PartNo"] == "100011-M" and sku["IsPublished"] is True
    supplier = q("SupplierProductSkus(PartNo='A-1',SupplierId=502)", namespace="Products")
    assert supplier["Name"] == "Other supplier's thing"
    assert q("SupplierProductSkus(SupplierId=501, PartNo='A-1')", namespace="Products")["Name"] == "Supplier thing"
    price = q("ProductSkuPriceLists(PartNo='100011-M',PriceListId=1,QtyBreak=10)", namespace="Products")
    assert price["PriceSale"] == 179.0
    assert q("Orders(Id=2147500124)")["OrderNo"] == "SO-1002"
    assert q("CustomerCompanies(CustomerId=42,CompanyId=9)", namespace="Customers")["IsPrimary"] is True


@pytest.mark.parametrize("resource, namespace, version", [
    ("Orders(1)", "Orders", "2.0"),
    ("ProductSkus('nope')", "Products", "2.0"),
    ("SupplierProductSkus(PartNo='A-1',SupplierId=999)", "Products", "2.0"),
    ("Nothing", "Orders", "2.0"),
    ("Orders", "Nowhere", "2.0"),
    ("Orders", "Orders", "1.0"),
    ("Orders(2147500123)/Nothing", "Orders", "2.0"),
    ("Orders(1)/Items", "Orders", "2.0"),
    ("Orders(2147500123)/Items", "Orders", "3.0"),  # 3.0 spells it items
])
def test_what_is_not_there_is_404(q, resource, namespace, version):
    fails(q, 404, resource, namespace=namespace, version=version)


@pytest.mark.parametrize("resource, namespace, says", [
    ("Orders('x')", "Orders", "Edm.Int64"),
    ("ProductSkus(100011)", "Products", "Edm.String"),
    ("SupplierProductSkus('A-1')", "Products", "name each"),
    ("SupplierProductSkus(PartNo='A-1')", "Products", "lacks SupplierId"),
    ("Orders(Nope=1)", "Orders", "not a key property"),
    ("Orders(1 2)", "Orders", "not a literal"),
    ("Orders/Items", "Orders", "a key is needed"),
    ("Orders(2147500123)/OrderNo", "Orders", "single property"),
])
def test_a_malformed_key_or_path_is_400(q, resource, namespace, says):
    assert says in fails(q, 400, resource, namespace=namespace)


def test_navigation_paths(q):
    body = q("Orders(2147500123)/Items")
    assert ids(body) == [1, 2, 3] and body["value"][0]["PartNo"] == "100011-M"
    assert body["@odata.context"] == "http://test/commerce/query/2.0/Orders/$metadata#Orders(2147500123)/Items"
    assert ids(q("Orders(2147500123)/Items", "$filter=QtyOrdered gt 1&$select=Id")) == [1]
    assert q("Orders(2147500125)/Items")["value"] == []
    assert q("OrderItems(4)/Order")["OrderNo"] == "SO-1002"
    assert q("Orders(2147500123)/Buyer")["Name"] == "Ada Buyer"  # joined on an internal column
    assert q("Orders(2147500124)/Buyer") is None  # null single navigation: 204
    assert q("Orders(2147500123)/Items/$count") == 3
    assert q("Orders/$count", "$filter=StatusId ne 2") == 2


# --- $filter ----------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("OrderNo eq 'SO-1001'", [2147500123]),
    ("StatusId ne 2", [2147500124, 2147500125]),
    ("FreightCost gt 49", [2147500125]),
    ("FreightCost ge 49", [2147500123, 2147500125]),
    ("FreightCost lt 49.5", [2147500123, 2147500124]),
    ("FreightCost le 0", [2147500124]),
    ("StatusId eq 2 or StatusId eq 4", [2147500123, 2147500125]),
    ("StatusId eq 2 and Source eq 'POS'", []),
    ("not (StatusId eq 2)", [2147500124, 2147500125]),
    ("(StatusId eq 2 or StatusId eq 6) and IsPartDelivery eq true", [2147500124]),
    ("IsPartDelivery", [2147500124]),
    ("not IsPartDelivery", [2147500123, 2147500125]),
    ("StatusId in (4, 6)", [2147500124, 2147500125]),
    ("Source in ('POS', null)", [2147500124, 2147500125]),
    ("QuotationId eq null", [2147500125]),
    ("QuotationId ne null", [2147500123, 2147500124]),
    ("Source ne 'WEB'", [2147500124, 2147500125]),  # null ne 'WEB' is true in OData
    ("not (QuotationId gt 7001)", [2147500123, 2147500125]),  # a null comparison is false, so not() is true
    ("contains(DeliveryCity, 'Lu')", [2147500123]),  # case-sensitive: 'lund' does not match
    ("contains(DeliveryCity, 'lu')", [2147500124]),
    ("startswith(OrderNo, 'SO-')", [2147500123, 2147500124]),
    ("endswith(OrderNo, '003')", [2147500125]),
    ("endswith(OrderNo, 'X003')", []),
    ("tolower(OrderNo) eq 'so-1001'", [2147500123]),
    ("toupper(DeliveryCity) eq 'LUND'", [2147500123, 2147500124]),
    ("length(OrderNo) eq 7", [2147500123, 2147500124, 2147500125]),
    ("OrderDate ge 2026-03-02T00:00:00Z", [2147500124, 2147500125]),
    ("OrderDate lt 2026-03-02T11:30:01%2B02:00", [2147500123, 2147500124]),  # 09:30:01Z (+ is %2B in a URL)
    ("OrderDate lt 2026-03-02T11:30:00%2B02:00", [2147500123]),
    ("OrderDate gt 2026-03-01T10:00:00.5Z", [2147500124, 2147500125]),
    ("OrderDate eq 2026-03-01T10:00:00Z", [2147500123]),
    ("day(OrderDate) eq 2", [2147500124]),
    ("DeliveryMark eq 'Mark ''A'''", [2147500123]),
    ("OrderNo eq 'x'' or 1 eq 1 or ''a'' eq ''a'", []),  # the quote stays in the value
    ("2147500124 eq Id", [2147500124]),
    ("7001 lt QuotationId", [2147500124]),
    ("FreightCost gt 1.5e1", [2147500123, 2147500125]),
])
def test_filters(q, expr, expected):
    assert ids(q("Orders", f"$filter={expr}&$select=Id")) == expected


def test_filters_on_guids_and_other_sets(q):
    body = q("Customers", "$filter=Key eq 0A1B2C3D-0000-4000-8000-00000000002A", namespace="Customers")
    assert [c["Id"] for c in body["value"]] == [42]
    body = q("ProductSkuPriceLists", "$filter=PartNo eq '100011-M' and PriceListId eq 1 and IsActive eq true and QtyBreak eq 1",
             namespace="Products")
    assert [p["PriceSale"] for p in body["value"]] == [199.0]


@pytest.mark.parametrize("expr, says", [
    ("Nope eq 1", "Could not find a property named 'Nope' on type 'Order'"),
    ("_buyer_address eq 1", "Could not find a property named '_buyer_address'"),
    ("OrderNo eq", "Syntax error"),
    ("OrderNo eq 'open", "Syntax error"),
    ("OrderNo eq 5", "incompatible types"),
    ("IsPartDelivery eq 'yes'", "incompatible types"),
    ("Items eq null", "navigation property"),
    ("Buyer/Name eq 'x'", "Property paths"),
    ("FreightCost add 1 gt 2", "Arithmetic"),
    ("OrderNo", "must evaluate to a boolean"),
    ("concat(OrderNo, 'x') eq 'y'", "not supported"),
    ("contains(StatusId, '1')", "takes a string argument"),
    ("Items/any(i: i/QtyOrdered gt 1)", "Lambda"),
    ("Id eq 99999999999999999999", "out of range"),
])
def test_bad_filters_are_400(q, expr, says):
    assert says in fails(q, 400, "Orders", f"$filter={expr}")


# --- $select, $orderby, $top, $skip, $count, options ------------------------------------

def test_select(q):
    body = q("Orders", "$select=OrderNo,Id,StatusId")
    assert body["value"][0] == {"Id": 2147500123, "OrderNo": "SO-1001", "StatusId": 2}  # model order
    assert list(body["value"][0]) == ["Id", "OrderNo", "StatusId"]
    assert list(q("Orders(2147500123)", "$select=FreightCost")) == ["FreightCost"]
    assert len(q("Orders(2147500123)", "$select=*")) > 30
    assert "Nope" in fails(q, 400, "Orders", "$select=Id,Nope")
    fails(q, 400, "Orders", "$select=_buyer_address")


def test_orderby_top_skip_count(q):
    assert ids(q("Orders", "$orderby=FreightCost desc&$select=Id")) == [2147500125, 2147500123, 2147500124]
    assert ids(q("Orders", "$orderby=CurrencyId desc,FreightCost&$select=Id")) == [2147500125, 2147500124, 2147500123]
    assert ids(q("Orders", "$orderby=CurrencyId&$select=Id")) == [2147500123, 2147500124, 2147500125]  # key breaks ties
    assert ids(q("Orders", "$top=2&$select=Id")) == [2147500123, 2147500124]
    assert ids(q("Orders", "$skip=1&$top=1&$select=Id")) == [2147500124]
    assert ids(q("Orders", "$skip=5")) == []
    body = q("Orders", "$count=true&$top=1&$filter=StatusId ne 2")
    assert body["@odata.count"] == 2 and len(body["value"]) == 1 and "@odata.nextLink" not in body
    assert "@odata.count" not in q("Orders", "$count=false")
    for bad in ("$top=-1", "$top=x", "$skip=1.5", "$count=yes", "$orderby=Nope", "$orderby=Id sideways",
                "$orderby=Buyer/Name", "$search=x", "$levels=2", "$format=xml", "$filter="):
        fails(q, 400, "Orders", bad)
    assert ids(q("Orders", "$format=json&$select=Id&custom=ignored")) == [2147500123, 2147500124, 2147500125]


def test_option_names_are_case_insensitive(q):
    assert ids(q("Orders", "$Select=Id&$TOP=1")) == [2147500123]
    body = q("Orders(2147500123)", "$select=Id&$expand=Items($Select=Id;$Top=1)")
    assert body["Items"] == [{"Id": 1}]


def test_a_deeply_nested_filter_is_400_not_a_crash(q):
    assert "nested too deeply" in fails(q, 400, "Orders", "$filter=" + "not " * 3000 + "IsPartDelivery")


def test_collection_options_on_a_single_entity_are_400(q):
    assert "not a collection" in fails(q, 400, "Orders(2147500123)", "$top=1")
    fails(q, 400, "Orders(2147500123)", "$filter=Id eq 1")
    fails(q, 400, "Orders(2147500123)/Buyer/$count")


# --- $expand ----------------------------------------------------------------------------

def test_expand_with_nested_options(q):
    body = q("Orders(2147500123)", "$select=Id&$expand=Items($select=Id,PartNo;$filter=QtyOrdered ge 1;"
                                   "$orderby=LineNumber desc;$top=2;$count=true),Buyer($select=Name),ShipTo")
    assert body["Items@odata.count"] == 3
    assert body["Items"] == [{"Id": 3, "PartNo": "FREIGHT"}, {"Id": 2, "PartNo": "100012-L"}]
    assert body["Buyer"] == {"Name": "Ada Buyer"} and body["ShipTo"]["City"] == "Lund"
    assert list(body) == ["Id", "Items@odata.count", "Items", "Buyer", "ShipTo"]
    body = q("Orders", "$select=Id&$expand=Items($select=PartNo;$skip=1),Buyer")
    assert [[i["PartNo"] for i in o["Items"]] for o in body["value"]] == [["100012-L", "FREIGHT"], [], []]
    assert [o["Buyer"] and o["Buyer"]["Id"] for o in body["value"]] == [1, None, 1]


def test_expand_filter_with_strings_holding_separators(q):
    body = q("Orders(2147500123)", "$select=Id&$expand=Items($filter=PartNo eq 'a,b;c(d)' or PartNo eq 'FREIGHT';$select=Id)")
    assert body["Items"] == [{"Id": 3}]


def test_expand_composite_navigations_and_across_sets(q):
    sku = q("ProductSkus('100011-M')", "$expand=PriceLists($filter=IsActive eq true;$select=PriceListId,QtyBreak)",
            namespace="Products")
    assert sku["PriceLists"] == [{"PriceListId": 1, "QtyBreak": 1}, {"PriceListId": 1, "QtyBreak": 10}]
    customer = q("Customers(42)", "$expand=Companies($expand=Company($select=Name))", namespace="Customers")
    assert customer["Companies"][0]["Company"] == {"Name": "Acme AB"}


def test_expand_depth_three_is_the_limit(q):
    body = q("Orders(2147500124)", "$select=Id&$expand=Items($select=Id;$expand=Order($select=Id;"
                                   "$expand=Items($select=Id)))")
    assert body["Items"][0]["Order"]["Items"] == [{"Id": 4}]
    says = fails(q, 400, "Orders", "$expand=Items($expand=Order($expand=Items($expand=Order)))")
    assert "expand depth 4 exceeds 3" in says


def test_expand_star_and_bad_expands(q, model):
    body = q("Orders(2147500123)", "$select=Id&$expand=*")
    assert list(body) == ["Id"] + list(model.namespaces["Orders"].types["Order"].navigation)
    assert body["Infos"][0]["Value"] == "gift" and body["Payer"] is None and body["Invoices"] == []
    for bad in ("$expand=Nope", "$expand=OrderNo", "$expand=Items($nope=1)", "$expand=Items($top=x)",
                "$expand=Buyer($top=1)", "$expand=Items(", "$expand=Items($select=Nope)", "$expand=*($levels=2)"):
        fails(q, 400, "Orders", bad)


# --- 3.0 ---------------------------------------------------------------------------------

def test_version_3_is_camel_case_in_and_out(q):
    body = q("Orders", "$filter=orderNo eq 'SO-1001'&$select=id,orderNo,isPartDelivery&$orderby=orderDate desc"
                       "&$expand=items($select=partNo;$orderby=lineNumber)", version="3.0")
    assert body["value"] == [{"id": 2147500123, "orderNo": "SO-1001", "isPartDelivery": False,
                              "items": [{"partNo": "100011-M"}, {"partNo": "100012-L"}, {"partNo": "FREIGHT"}]}]
    assert q("SupplierProductSkus(partNo='A-1',supplierId=501)", namespace="products", version="3.0")["name"] \
        == "Supplier thing"
    assert [i["id"] for i in q("Orders(2147500123)/items", "$select=id", version="3.0")["value"]] == [1, 2, 3]
    assert "Could not find a property named 'OrderNo' on type 'Order'" in \
        fails(q, 400, "Orders", "$filter=OrderNo eq 'x'", version="3.0")
    assert "'ClientProductSku'" in fails(q, 400, "ProductSkus", "$select=PartNo", namespace="Products", version="3.0")
    fails(q, 400, "Orders", "$select=id", version="2.0")
