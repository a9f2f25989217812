"""Server-driven paging: at most page_size rows a response, @odata.nextLink repeats the query
with $skip advanced (and $top reduced), and following the links sees every row once."""

from __future__ import annotations

import sqlite3
from urllib.parse import parse_qsl, urlsplit

import pytest

from mock_norce.world.query import QueryService
from mock_norce.world.tables import create_tables

from tests.world.world import insert, reader_for

BASE = "http://test/commerce/query/2.0/Orders"
N = 1203


@pytest.fixture(scope="module")
def service(tmp_path_factory, model) -> QueryService:
    path = tmp_path_factory.mktemp("paging") / "paging.db"
    conn = sqlite3.connect(path)
    create_tables(conn, model)
    types = model.namespaces["Orders"].types
    for i in range(1, N + 1):
        insert(conn, types["Order"], Id=10_000 + i, OrderNo=f"SO-{i}", StatusId=i % 3, FreightCost=float(i % 7))
        insert(conn, types["OrderItem"], Id=i, OrderId=10_000 + i, PartNo=f"P-{i % 5}")
    conn.commit()
    conn.close()
    return QueryService(model, reader_for(path))


def get(service, url: str) -> dict:
    """GET an absolute URL of the service, as a client following nextLink does."""
    parts = urlsplit(url)
    assert url.startswith(BASE + "/")
    resource = parts.path[len(urlsplit(BASE).path) + 1:]
    return service.handle("2.0", "Orders", resource, dict(parse_qsl(parts.query, keep_blank_values=True)), BASE)


def follow(service, url: str) -> tuple[list[int], list[int]]:
    seen, sizes = [], []
    while url:
        body = get(service, url)
        seen += [row["Id"] for row in body["value"]]
        sizes.append(len(body["value"]))
        url = body.get("@odata.nextLink")
    return seen, sizes


def test_pages_of_500_and_every_row_once(service):
    first = get(service, f"{BASE}/Orders?$select=Id")
    assert len(first["value"]) == 500
    assert first["@odata.nextLink"] == f"{BASE}/Orders?$select=Id&$skip=500"
    seen, sizes = follow(service, f"{BASE}/Orders?$select=Id")
    assert sizes == [500, 500, 203]
    assert seen == [10_000 + i for i in range(1, N + 1)]


def test_the_link_keeps_filter_order_and_expand(service):
    url = f"{BASE}/Orders?$filter=StatusId%20ne%201&$orderby=FreightCost%20desc&$select=Id,FreightCost&$expand=Items($select=PartNo)"
    first = get(service, url)
    link = first["@odata.nextLink"]
    assert "$filter=StatusId%20ne%201" in link and "$orderby=FreightCost%20desc" in link and "$skip=500" in link
    seen, sizes = follow(service, url)
    expected = sorted((i for i in range(1, N + 1) if i % 3 != 1), key=lambda i: (-(i % 7), i))
    assert seen == [10_000 + i for i in expected] and len(seen) == len(set(seen))
    assert all(row["Items"] == [{"PartNo": f"P-{(row['Id'] - 10_000) % 5}"}] for row in first["value"])


def test_a_client_top_is_honoured_and_reduced_in_the_link(service):
    first = get(service, f"{BASE}/Orders?$top=700&$skip=10&$select=Id")
    assert len(first["value"]) == 500 and first["value"][0]["Id"] == 10_011
    assert first["@odata.nextLink"] == f"{BASE}/Orders?$select=Id&$top=200&$skip=510"
    seen, sizes = follow(service, f"{BASE}/Orders?$top=700&$skip=10&$select=Id")
    assert sizes == [500, 200] and seen == [10_000 + i for i in range(11, 711)]
    small = get(service, f"{BASE}/Orders?$top=20&$select=Id")
    assert len(small["value"]) == 20 and "@odata.nextLink" not in small


def test_count_is_the_total_on_every_page(service):
    body = get(service, f"{BASE}/Orders?$count=true&$select=Id&$filter=StatusId%20eq%200")
    assert body["@odata.count"] == N // 3 and len(body["value"]) == 401 and "@odata.nextLink" not in body
    body = get(service, f"{BASE}/Orders?$count=true&$select=Id")
    assert body["@odata.count"] == N and "@odata.nextLink" in body
    assert get(service, body["@odata.nextLink"])["@odata.count"] == N


def test_the_page_size_is_the_service_s(model, service):
    small = QueryService(model, service.reader, page_size=2)
    body = small.handle("2.0", "Orders", "Orders", {"$select": "Id", "$filter": "Id le 10005"}, BASE)
    assert [r["Id"] for r in body["value"]] == [10_001, 10_002]
    assert body["@odata.nextLink"] == f"{BASE}/Orders?$select=Id&$filter=Id%20le%2010005&$skip=2"
