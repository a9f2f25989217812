"""The Query API's HTTP route (web/query_api.py) in a small Flask app: paths, headers, bodies,
errors as ASP.NET OData writes them; and python-odata, a real OData v4 client, over real HTTP."""

from __future__ import annotations

import json
import threading
import types

import pytest
from flask import Flask
from werkzeug.serving import make_server

from mock_norce.web.query_api import bp
from mock_norce.world.tokens import NorceAuth, TokenIssuer

OPEN_DOOR = NorceAuth(TokenIssuer(), enabled=False)  # auth off: these tests are about the route


@pytest.fixture
def app(service):
    app = Flask(__name__)
    app.extensions["mock_norce"] = types.SimpleNamespace(query=service, auth=OPEN_DOOR)
    app.register_blueprint(bp)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def test_a_collection(client):
    r = client.get("/commerce/query/2.0/Orders/Orders?$filter=OrderNo eq 'SO-1002'&$select=Id,OrderNo,IsPartDelivery")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; odata.metadata=minimal; odata.streaming=true"
    assert r.headers["OData-Version"] == "4.0"
    assert r.get_json() == {"@odata.context": "http://localhost/commerce/query/2.0/Orders/$metadata#Orders",
                            "value": [{"Id": 2147500124, "OrderNo": "SO-1002", "IsPartDelivery": True}]}
    # key order is the model's (Flask's own JSON would sort the keys)
    assert list(json.loads(r.data)["value"][0]) == ["Id", "OrderNo", "IsPartDelivery"]


def test_a_keyed_entity_with_expand_and_the_capital_q(client):
    r = client.get("/commerce/Query/2.0/Orders/Orders(2147500123)?$expand=Items($select=PartNo)&$select=Id")
    assert r.status_code == 200
    assert r.get_json() == {"Id": 2147500123, "Items": [{"PartNo": "100011-M"}, {"PartNo": "100012-L"},
                                                         {"PartNo": "FREIGHT"}]}
    r = client.get("/commerce/query/3.0/Products/ProductSkus('100011-M')?$select=partNo,isPublished")
    assert r.get_json() == {"partNo": "100011-M", "isPublished": True}


def test_count_metadata_and_service_document(client):
    r = client.get("/commerce/query/2.0/Orders/Orders/$count?$filter=StatusId ne 2")
    assert (r.status_code, r.mimetype, r.data) == (200, "text/plain", b"2")
    r = client.get("/commerce/query/2.0/Orders/$metadata")
    assert r.status_code == 200 and r.mimetype == "application/xml" and r.headers["OData-Version"] == "4.0"
    assert b'<EntitySet Name="Orders"' in r.data
    r = client.get("/commerce/query/2.0/Products/")
    assert r.status_code == 200
    assert r.get_json()["@odata.context"] == "http://localhost/commerce/query/2.0/Products/$metadata"
    assert "ProductSkus" in [s["name"] for s in r.get_json()["value"]]
    assert client.get("/commerce/query/2.0/Products").status_code == 200


def test_a_null_single_navigation_is_204(client):
    r = client.get("/commerce/query/2.0/Orders/Orders(2147500124)/Buyer")
    assert r.status_code == 204 and r.data == b""


@pytest.mark.parametrize("url", [
    "/commerce/query/2.0/Orders/Orders(1)",
    "/commerce/query/2.0/Orders/Nothing",
    "/commerce/query/2.0/Nowhere/Orders",
    "/commerce/query/2.0/Nowhere/$metadata",
    "/commerce/query/1.0/Orders/Orders",
    "/commerce/other/2.0/Orders/Orders",
])
def test_not_found_is_an_odata_error(client, url):
    r = client.get(url)
    assert r.status_code == 404 and r.headers["OData-Version"] == "4.0"
    error = r.get_json()["error"]
    assert error["code"] == "" and error["message"]


@pytest.mark.parametrize("query, says", [
    ("$filter=Nope eq 1", "Could not find a property named 'Nope'"),
    ("$expand=Items($expand=Order($expand=Items($expand=Order)))", "expand depth 4 exceeds 3"),
    ("$top=-1", "$top"),
    ("$filter=Id eq 1&$filter=Id eq 2", "specified more than once"),
    ("$bogus=1", "'$bogus' is not supported"),
])
def test_a_bad_query_is_400_in_asp_net_words(client, query, says):
    r = client.get(f"/commerce/query/2.0/Orders/Orders?{query}")
    assert r.status_code == 400
    message = r.get_json()["error"]["message"]
    assert message.startswith("The query specified in the URI is not valid. ") and says in message


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "MERGE"])
def test_writes_are_405(client, method):
    r = client.open("/commerce/query/2.0/Orders/Orders(2147500123)", method=method, json={})
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    assert "read-only" in r.get_json()["error"]["message"]


def test_next_link_is_absolute_and_followable(model, world_db):
    from mock_norce.world.query import QueryService
    from tests.world.world import reader_for

    app = Flask(__name__)
    app.extensions["mock_norce"] = types.SimpleNamespace(query=QueryService(model, reader_for(world_db), page_size=2), auth=OPEN_DOOR)
    app.register_blueprint(bp)
    client = app.test_client()
    url, seen = "/commerce/query/2.0/Orders/Orders?$select=Id&$filter=OrderNo ne 'x y'", []
    while url:
        body = client.get(url).get_json()
        seen += [row["Id"] for row in body["value"]]
        url = body.get("@odata.nextLink", "").replace("http://localhost", "")
    assert seen == [2147500123, 2147500124, 2147500125]


@pytest.fixture
def server(app):
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


def test_python_odata_reads_metadata_an_order_and_its_items(server):
    from odata import ODataService

    svc = ODataService(f"{server}/commerce/query/2.0/Orders/", reflect_entities=True, quiet_progress=True)
    Order = svc.entities["Orders"]  # python-odata keys its classes by entity set
    assert {"OrderItems", "Addresses", "Invoices"} <= set(svc.entities)
    order = svc.query(Order).get(2147500123)  # sends $filter=(Id eq 2147500123)
    assert (order.Id, order.OrderNo, order.StatusId, order.IsPartDelivery) == (2147500123, "SO-1001", 2, False)
    items = order.Items  # lazy: GET Orders(2147500123)/Items
    assert sorted((i.Id, i.PartNo) for i in items) == [(1, "100011-M"), (2, "100012-L"), (3, "FREIGHT")]
    item = svc.query(svc.entities["OrderItems"]).get(4)
    assert item.Order.OrderNo == "SO-1002"  # a single navigation: GET OrderItems(4)/Order
    found = svc.query(Order).filter(Order.OrderNo == "SO-1002").first()
    assert found.Id == 2147500124
    assert svc.query(Order).count() == 3  # Orders/$count as text/plain


def test_python_odata_on_3_0_and_composite_keys(server):
    from odata import ODataService

    svc = ODataService(f"{server}/commerce/query/3.0/Products/", reflect_entities=True, quiet_progress=True)
    Sku = svc.entities["ProductSkus"]
    sku = svc.query(Sku).get("100011-M")
    assert (sku.partNo, sku.productId, sku.isPublished) == ("100011-M", 11, True)
    prices = sorted((p.priceListId, p.qtyBreak, float(p.priceSale)) for p in sku.priceLists)
    assert prices == [(1, 1, 199.0), (1, 10, 179.0), (2, 1, 189.0)]
    Supplier = svc.entities["SupplierProductSkus"]
    assert svc.query(Supplier).get(partNo="A-1", supplierId=502).name == "Other supplier's thing"
