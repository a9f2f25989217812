"""The model file loads into checked objects; a broken file names the file and the place;
the tables it describes are created with their keys and indexes."""

from __future__ import annotations

import copy
import sqlite3

import pytest
import yaml

from mock_norce.errors import QueryModelError
from mock_norce.world.model import build_model, load_model, wire_name
from mock_norce.world.tables import clear_tables, create_tables, index_columns

from tests.world.world import MODEL_FILE, fill


def test_the_model_file_loads(model):
    orders = model.namespace("orders")  # case-insensitive
    assert orders is model.namespaces["Orders"]
    assert orders.schemas == {"2.0": "Enferno.Storm.Query.Api.DataContexts.OrderModel", "3.0": "Norce.Query.Orders"}
    order = orders.entity_set("ORDERS")
    assert order.name == "Order" and order.table == "w_orders" and order.key == ("Id",)
    assert order.properties["Id"].type == "Int64" and not order.properties["Id"].nullable
    assert order.properties["ApplicationId"].nullable
    assert list(order.properties)[:3] == ["Id", "ClientId", "ApplicationId"]  # file order kept
    items = order.navigation["Items"]
    assert (items.target, items.many, items.on) == ("OrderItem", True, (("Id", "OrderId"),))
    assert order.navigation["Buyer"].on == (("_buyer_address", "Id"),) and not order.navigation["Buyer"].many
    assert "_buyer_address" in order.internal and "_buyer_address" not in order.properties
    sku = model.namespace("Products").entity_set("ProductSkus")
    assert sku.name3 == "ClientProductSku" and sku.type_name("3.0") == "ClientProductSku"
    assert sku.type_name("2.0") == "ProductSku"
    assert model.namespace("Products").entity_set("ProductSkuPriceLists").key == ("PartNo", "PriceListId", "QtyBreak")
    assert model.namespace("nope") is None and orders.entity_set("nope") is None


def test_version_casing():
    assert wire_name("OrderNo", "2.0") == "OrderNo"
    assert wire_name("OrderNo", "3.0") == "orderNo"
    assert wire_name("Id", "3.0") == "id"


def test_members_are_found_per_version(model):
    order = model.namespaces["Orders"].types["Order"]
    assert order.member("3.0", "orderNo") == "OrderNo" and order.member("3.0", "items") == "Items"
    assert order.member("2.0", "orderNo") is None and order.member("3.0", "OrderNo") is None
    assert order.member("2.0", "_buyer_address") is None


def _doc():
    return yaml.safe_load(MODEL_FILE.read_text())


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["namespaces"]["Orders"]["types"]["Order"]["properties"].__setitem__("Foo", "Int33"),
     "Orders.Order.properties.Foo: unknown type 'Int33'"),
    (lambda d: d["namespaces"]["Orders"]["types"]["Order"].__setitem__("key", ["Nope"]),
     "Orders.Order.key: key 'Nope' is not a property"),
    (lambda d: d["namespaces"]["Orders"]["types"]["Order"]["navigation"]["Items"].__setitem__("to", "Ghost"),
     "Orders.Order.navigation.Items: target 'Ghost' is not an entity type of Orders"),
    (lambda d: d["namespaces"]["Orders"]["types"]["Order"]["navigation"]["Items"].__setitem__(True, {"Id": "Nope"}),
     "Orders.Order.navigation.Items.on: remote column 'Nope' is not a column of OrderItem"),
    (lambda d: d["namespaces"]["Orders"]["types"]["Order"]["navigation"]["Items"].__setitem__(True, {"Zz": "OrderId"}),
     "Orders.Order.navigation.Items.on: local column 'Zz' is not a column of Order"),
    (lambda d: d["namespaces"]["Orders"]["types"]["Order"]["properties"].__setitem__("_x", "Int32"),
     "cannot start with '_'"),
    (lambda d: d["namespaces"]["Orders"]["types"]["OrderItem"].__setitem__("set", "orders"),
     "Orders.Order.set: entity set 'Orders' is used twice"),
    (lambda d: d["namespaces"]["Orders"]["types"]["Order"].__setitem__("indexes", [["Nope"]]),
     "Orders.Order.indexes: index ['Nope']"),
    (lambda d: d["namespaces"]["Orders"]["types"]["Order"].__setitem__("table", "w orders; drop"),
     "is not a plain name"),
])
def test_a_broken_model_names_the_file_and_the_place(change, expected):
    doc = copy.deepcopy(_doc())
    change(doc)
    with pytest.raises(QueryModelError) as err:
        build_model(doc, "query-model.yaml")
    assert str(err.value).startswith("query-model.yaml: ") and expected in str(err.value), str(err.value)


def test_an_unreadable_model_file(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("format: [1\n")
    with pytest.raises(QueryModelError, match="m.yaml"):
        load_model(bad)
    with pytest.raises(QueryModelError, match="format: 1"):
        build_model({"format": 2}, "x")


def test_tables_keys_and_indexes(model, tmp_path):
    conn = sqlite3.connect(tmp_path / "t.db")
    create_tables(conn, model)
    create_tables(conn, model)  # idempotent
    cols = [r[1] for r in conn.execute('PRAGMA table_info("w_orders")')]
    assert cols[:2] == ["Id", "ClientId"] and "_buyer_address" in cols
    ddl = {r[0]: r[1] for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")}
    assert '"Id" INTEGER PRIMARY KEY' in ddl["w_orders"] and "WITHOUT ROWID" not in ddl["w_orders"]
    assert 'PRIMARY KEY ("PartNo", "PriceListId", "QtyBreak")' in ddl["w_sku_prices"]
    assert ddl["w_sku_prices"].rstrip().endswith("WITHOUT ROWID") and ddl["w_skus"].rstrip().endswith("WITHOUT ROWID")
    indexed = {(r[2], r[0]) for r in conn.execute("SELECT name, sql, tbl_name FROM sqlite_master WHERE type='index'")}
    assert ("w_order_items", "ix_w_order_items_OrderId") in indexed  # a navigation's remote column
    assert ("w_orders", "ix_w_orders_OrderNo") in indexed  # the model's indexes
    # a navigation onto a key prefix needs no index of its own
    assert ("PartNo",) not in index_columns(model)["w_sku_prices"]
    plan = " ".join(r[-1] for r in conn.execute(
        'EXPLAIN QUERY PLAN SELECT * FROM "w_order_items" WHERE "OrderId" IN (?, ?) ORDER BY "Id"', [1, 2]))
    assert "ix_w_order_items_OrderId" in plan
    plan = " ".join(r[-1] for r in conn.execute(
        'EXPLAIN QUERY PLAN SELECT * FROM "w_orders" WHERE ("OrderNo" = ?) ORDER BY "Id" LIMIT 501', ["x"]))
    assert "ix_w_orders_OrderNo" in plan


def test_clear_tables_empties_every_table(model, tmp_path):
    conn = sqlite3.connect(tmp_path / "t.db")
    create_tables(conn, model)
    fill(conn, model)
    assert conn.execute("SELECT count(*) FROM w_orders").fetchone()[0] == 3
    clear_tables(conn, model)
    assert not conn.in_transaction
    for ns in model.namespaces.values():
        for entity in ns.types.values():
            assert conn.execute(f'SELECT count(*) FROM "{entity.table}"').fetchone()[0] == 0
