"""The delivery log's dashboard features, in the core and through the API: retry now, redeliver
to another URL, links to redeliveries, bulk redeliver, search over payload values, filters by
status code, error class and time range, newest/oldest paging, and the migration of an older
database file."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from mock_norce.app import build_outbox
from mock_norce.storage.database import Database
from mock_norce.storage.deliveries import DeliveryLog
from mock_norce.storage.log_query import LogFilter
from mock_norce.storage.schema import SCHEMA_VERSION, TABLES, VERSION_2

from ..delivery.test_delivery import FakeClock
from ..servers import answer
from .browser import wait_until


@pytest.fixture
def failing(serve):
    return serve(answer(503, b"busy"))


@pytest.fixture
def slow_client(make_app, failing):
    """An app whose subscriber answers 503 and whose retries wait minutes (time scale 100)."""
    return make_app(failing.url, time_scale=100).test_client()


# --- retry now ---------------------------------------------------------------------------

def test_retry_now_in_the_core_makes_the_next_attempt_at_once_fake_clock(settings, factory, serve):
    server = serve(answer(500))
    clock = FakeClock()
    ob = build_outbox(settings.with_(subscriber_url=server.url), database=":memory:", clock=clock, factory=factory)
    _, did = ob.fire("OrderConfirmedEvent", seed=1)
    assert ob.dispatcher.run_due() == 1
    d = ob.delivery(did)
    assert d["status"] == "retrying" and d["next_attempt_at"] == clock.t + 5
    clock.t += 1  # 4 s before its backoff time
    assert ob.dispatcher.run_due() == 0
    ob.retry_now(did)
    assert ob.dispatcher.run_due() == 1
    d = ob.delivery(did)
    assert d["attempts"] == 2 and [a["number"] for a in d["attempt_log"]] == [1, 2]
    assert d["attempt_log"][1]["started"] == clock.t
    assert d["next_attempt_at"] == clock.t + 10  # the backoff goes on from the attempt made now
    # Made again while it is already loaded in the window: still one attempt, now.
    clock.t += 9
    ob.dispatcher.run_due()
    ob.retry_now(did)
    assert ob.dispatcher.run_due() == 1 and ob.delivery(did)["attempts"] == 3
    assert len(server.requests) == 3


def test_retry_now_through_the_api_and_409_when_finished(slow_client, failing):
    fired = slow_client.post("/api/events/OrderConfirmedEvent", json={"seed": 4}).get_json()
    did = fired["delivery"]["id"]
    wait_until(lambda: slow_client.get(f"/api/deliveries/{did}").get_json()["attempts"] == 1)
    d = slow_client.get(f"/api/deliveries/{did}").get_json()
    assert d["status"] == "retrying" and d["next_attempt_at"] - time.time() > 300  # 5 s x 100
    resp = slow_client.post(f"/api/deliveries/{did}/retry", headers={"Content-Type": "application/json"})
    assert resp.status_code == 202 and resp.get_json()["id"] == did
    wait_until(lambda: slow_client.get(f"/api/deliveries/{did}").get_json()["attempts"] == 2)
    assert len(failing.requests) == 2
    assert slow_client.post("/api/deliveries/999999/retry", headers={"Content-Type": "application/json"}
                            ).status_code == 404


def test_retry_of_a_delivered_delivery_is_409(client):
    did = client.post("/api/events/OrderConfirmedEvent?wait=5", json={"seed": 5}).get_json()["delivery"]["id"]
    resp = client.post(f"/api/deliveries/{did}/retry", headers={"Content-Type": "application/json"})
    assert resp.status_code == 409 and resp.get_json()["error"] == "delivery_finished"
    assert "delivered" in resp.get_json()["message"]


# --- redeliver elsewhere, and the links between a delivery and its redeliveries --------------

def test_redeliver_to_another_url_records_it_and_links_both_ways(client, serve):
    other = serve(answer(200, b"other"))
    did = client.post("/api/events/OrderConfirmedEvent?wait=5", json={"seed": 6}).get_json()["delivery"]["id"]
    resp = client.post(f"/api/deliveries/{did}/redeliver", json={"url": other.url + "/elsewhere"})
    assert resp.status_code == 202
    new = resp.get_json()
    assert new["url"] == other.url + "/elsewhere" and new["redelivery_of"] == did
    wait_until(lambda: len(other.requests) == 1)
    original = client.get(f"/api/deliveries/{did}").get_json()
    assert original["redeliveries"] == [new["id"]]
    assert other.requests[0].body == original["body"].encode()
    # Same URL without a body, as before.
    again = client.post(f"/api/deliveries/{did}/redeliver", headers={"Content-Type": "application/json"}).get_json()
    assert again["url"] == original["url"]
    assert client.get(f"/api/deliveries/{did}").get_json()["redeliveries"] == [new["id"], again["id"]]
    listed = client.get(f"/api/deliveries?redelivery_of={did}").get_json()
    assert [d["id"] for d in listed["items"]] == [again["id"], new["id"]]


@pytest.mark.parametrize("url, fragment", [("ftp://example.com/x", "URL"), ("not a url", "URL"),
                                           ("http://169.254.169.254/latest", "link-local")])
def test_redeliver_to_a_bad_url_is_422_naming_it(client, url, fragment):
    did = client.post("/api/events/OrderConfirmedEvent?wait=5", json={"seed": 7}).get_json()["delivery"]["id"]
    resp = client.post(f"/api/deliveries/{did}/redeliver", json={"url": url})
    assert resp.status_code == 422, resp.get_json()
    assert fragment in resp.get_json()["message"]
    assert client.get(f"/api/deliveries/{did}").get_json()["redeliveries"] == []
    assert client.post(f"/api/deliveries/{did}/redeliver", json={"url": 5}).status_code == 400


# --- search and filters ------------------------------------------------------------------

def test_search_over_payload_values_and_filters(client, serve):
    made = {}
    for seed in (11, 12, 13):
        body = client.post("/api/events/OrderConfirmedEvent?wait=5", json={"seed": seed}).get_json()
        made[seed] = (body["delivery"]["id"], body["payload"])
    sku = client.post("/api/events/SkuChangedNotification?wait=5", json={"seed": 3}).get_json()
    dead_end = serve(answer(500, b"no"))
    failed = client.post("/api/events/OrderConfirmedEvent?wait=0.5",
                         json={"seed": 14, "url": dead_end.url}).get_json()["delivery"]["id"]
    wait_until(lambda: client.get(f"/api/deliveries/{failed}").get_json()["attempts"] >= 1)

    def ids(query):
        resp = client.get("/api/deliveries?" + query)
        assert resp.status_code == 200, resp.get_json()
        return [d["id"] for d in resp.get_json()["items"]]

    did, payload = made[12]
    assert ids(f"q={payload['OrderNo']}") == [did]
    assert ids(f"q={payload['OrderNo'].lower()}") == [did]  # case does not matter
    assert ids(f"q={payload['OrderId']}") == [did]
    assert ids(f"q={payload['FirstName']}+{payload['LastName']}") == \
        [i for i, p in reversed(made.values()) if p["FirstName"] == payload["FirstName"]
         and p["LastName"] == payload["LastName"]]
    assert ids("q=so-*&type=OrderConfirmedEvent") == [failed, made[13][0], made[12][0], made[11][0]]  # a prefix
    assert ids(f"q={sku['payload']['PartNo']}") == [sku["delivery"]["id"]]
    assert ids("q=no-such-value-anywhere") == []
    assert ids('q="%3B DROP TABLE deliveries') == []  # a user's text is never FTS5 or SQL syntax
    assert ids("code=500") == [failed] and ids("code=5xx") == [failed]
    assert failed not in ids("code=2xx") and made[11][0] in ids("code=200")
    first = client.get(f"/api/deliveries/{made[11][0]}").get_json()["created"]
    last = client.get(f"/api/deliveries/{made[13][0]}").get_json()["created"]
    assert ids(f"since={first}&until={last}&type=OrderConfirmedEvent") == [made[13][0], made[12][0], made[11][0]]
    later = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(last + 3600))
    assert ids(f"since={later}") == [] and failed in ids(f"until={later}Z")
    # An offset is honoured: 02:00 at +02:00 is midnight UTC.
    hour_before = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(first - 3600 + 7200))
    assert made[11][0] in ids(f"since={hour_before}%2B02:00") and ids(f"until={hour_before}%2B02:00") == []
    page = client.get("/api/deliveries?order=asc&limit=2").get_json()
    assert [d["id"] for d in page["items"]] == [made[11][0], made[12][0]] and page["total_exact"] is True
    searched = client.get(f"/api/deliveries?q={payload['OrderNo']}").get_json()
    assert searched["total"] == 1 and searched["total_exact"] is True


@pytest.mark.parametrize("query, name", [("code=abc", "code"), ("code=700", "code"), ("since=yesterday", "since"),
                                         ("until=2026-13-01", "until"), ("order=sideways", "order"),
                                         ("since=2026-01-02&until=2026-01-01", "until"),
                                         ("redelivery_of=x", "redelivery_of"), ("q=" + "x" * 201, "q"),
                                         # past the years a datetime holds: was a 500 (OverflowError)
                                         ("since=99999999999999", "since"), ("until=" + "1" * 400, "until"),
                                         # no token: it would have matched the whole log
                                         ("q=*", "q"), ("q=!!!", "q"),
                                         # what the published schema refuses, the server refuses too
                                         ("code=%20500", "code"), ("status=%20dead", "status"),
                                         ("redelivery_of=", "redelivery_of")])
def test_bad_filters_are_422_naming_the_parameter(client, query, name):
    resp = client.get("/api/deliveries?" + query)
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["message"].startswith(name) and resp.get_json()["errors"][0]["path"] == name


def test_error_class_filter(client, serve):
    from ..servers import unused_port

    closed = f"http://127.0.0.1:{unused_port()}/gone"
    did = client.post("/api/events/OrderConfirmedEvent?wait=0.5", json={"seed": 15, "url": closed}).get_json()
    did = did["delivery"]["id"]
    wait_until(lambda: client.get(f"/api/deliveries/{did}").get_json()["attempts"] >= 1)
    got = client.get("/api/deliveries?error=connection_refused").get_json()
    assert [d["id"] for d in got["items"]] == [did] and got["items"][0]["last_error_class"] == "connection_refused"
    assert client.get("/api/deliveries?error=timeout").get_json()["items"] == []


# --- bulk redeliver ----------------------------------------------------------------------

def test_bulk_redeliver_of_the_dead(settings, factory, serve):
    server = serve(answer(500))
    clock = FakeClock()
    ob = build_outbox(settings.with_(subscriber_url=server.url), database=":memory:", clock=clock, factory=factory)
    dead = [ob.fire("OrderConfirmedEvent", seed=s)[1] for s in range(3)]
    while (due := ob.dispatcher.next_due()) is not None:
        clock.t = due
        ob.dispatcher.run_due()
    assert all(ob.delivery(d)["status"] == "dead" for d in dead)
    new, matched, exact = ob.redeliver_matching(LogFilter(status="dead"), limit=2)
    assert (matched, exact) == (3, True) and len(new) == 2
    assert [ob.delivery(n)["redelivery_of"] for n in new] == [dead[2], dead[1]]  # the newest first
    assert all(ob.delivery(n)["status"] == "pending" for n in new)
    assert ob.dispatcher.run_due() == 2  # queued: due now


def test_bulk_redeliver_api(client, serve):
    dead_end = serve(answer(500))
    for seed in (21, 22):
        client.post("/api/events/SkuChangedNotification", json={"seed": seed, "url": dead_end.url})
    wait_until(lambda: client.get("/api/deliveries?code=500").get_json()["total"] == 2)
    resp = client.post("/api/deliveries/redeliver?code=5xx&type=SkuChangedNotification",
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 202, resp.get_json()
    got = resp.get_json()
    assert got["queued"] == 2 and got["matched"] == 2 and got["matched_exact"] is True and got["limit"] == 1000
    assert all(client.get(f"/api/deliveries/{i}").get_json()["redelivery_of"] for i in got["ids"])
    refused = client.post("/api/deliveries/redeliver", headers={"Content-Type": "application/json"})
    assert refused.status_code == 422 and refused.get_json()["error"] == "no_filter"
    assert client.post("/api/deliveries/redeliver?code=x", headers={"Content-Type": "application/json"}
                       ).status_code == 422
    # A search with nothing to search for is no filter: never the newest 1,000 of the whole log.
    assert client.post("/api/deliveries/redeliver?q=*", headers={"Content-Type": "application/json"}
                       ).status_code == 422


def test_a_filter_kept_in_links_reads_back_the_same(client):
    from mock_norce.web.log_filters import as_args, log_filter

    for args in ({"since": "0001-01-01"}, {"since": "2026-11-25T10:00:00.250Z", "until": "9999-12-31"},
                 {"q": "SO-13*", "code": "5xx", "status": "dead"}):
        f = log_filter(args)
        assert log_filter(as_args(f)) == f  # year 1 was written back as "1-01-01", then refused
    got = client.get("/deliveries?since=0001-01-01")
    assert got.status_code == 200


# --- storage: the migration of a version 2 file, and clear ---------------------------------

def test_a_version_2_file_is_migrated_with_its_search_index_backfilled(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path, isolation_level=None)
    old.executescript(TABLES)
    old.executescript("BEGIN;" + VERSION_2 + "PRAGMA user_version=2;COMMIT;")
    body = json.dumps({"OrderNo": "SO-777", "FirstName": "Greta", "OrderId": 9007199254740993}).encode()
    old.execute("INSERT INTO deliveries(type, body, url, status, created, last_error) VALUES"
                " ('OrderConfirmedEvent', ?, 'http://x/', 'dead', 1, 'timed out')", (body,))
    old.execute("INSERT INTO attempts(delivery_id, number, started, url, method, error_class) VALUES"
                " (1, 1, 1, 'http://x/', 'POST', 'timeout')")
    old.close()
    log = DeliveryLog(Database(path))
    try:
        assert log._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [d["id"] for d in log.find(LogFilter(q="so-777"))[0]] == [1]
        assert [d["id"] for d in log.find(LogFilter(q="9007199254740993 greta"))[0]] == [1]
        assert [d["id"] for d in log.find(LogFilter(error_class="timeout"))[0]] == [1]
        new = log.add_redelivery(1, 2.0)
        assert [r["id"] for r in log.redeliveries(1)] == [new]
        assert [d["id"] for d in log.find(LogFilter(q="SO-777"))[0]] == [new, 1]
        log.clear()
        assert log.find(LogFilter(q="SO-777"))[0] == []
        log.add_redelivery(1, 3.0)  # nothing to redeliver after a clear
        ids = log.add_events([("OrderConfirmedEvent", body, True, None, "http://x/", {}, 1.0, 4.0)], 4.0)
        assert [d["id"] for d in log.find(LogFilter(q="SO-777"))[0]] == ids  # the index works after a clear
    finally:
        log.close()


# --- the entity behind each id -------------------------------------------------------------

@pytest.mark.parametrize("event, kinds", [
    ("SkuOnHandBreakPointNotification", {"sku", "warehouse", "warehouse_location"}),
    ("SkuPriceChangedNotification", {"sku", "price_list"}),
    ("SupplierSkuChangedNotification", {"supplier_sku", "supplier"}),
    ("OrderConfirmedEvent", {"order", "application"}),
])
def test_each_id_the_query_api_serves_is_linked_and_found(client, event, kinds):
    d = client.post(f"/api/events/{event}?wait=5", json={"seed": 2}).get_json()["delivery"]
    assert kinds <= {e["kind"] for e in d["entities"]}, d["entities"]
    page = client.get(f"/deliveries/{d['id']}").get_data(as_text=True)
    for kind in kinds:
        assert f'data-kind="{kind}"' in page
    assert "(not there now)" not in page  # every one of them is served by the world


def test_a_file_an_older_version_reopened_is_migrated_again_without_harm(tmp_path):
    """An older mock-norce writes its own version (2) at start: the columns of 3 are there."""
    path = tmp_path / "both.sqlite"
    log = DeliveryLog(Database(path))
    body = json.dumps({"OrderNo": "SO-1"}).encode()
    log.add_events([("OrderConfirmedEvent", body, True, None, "http://x/", {}, 1.0, 1.0)], 1.0)
    log.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=2")
    conn.close()
    log = DeliveryLog(Database(path))
    try:
        assert [d["id"] for d in log.find(LogFilter(q="so-1"))[0]] == [1]  # once, not twice
    finally:
        log.close()


@pytest.mark.parametrize("q", ["âo*\U000f8a00", "x\u0301y", "a-b*c", '"', "*", "NEAR(a b)", "a OR b"])
def test_any_search_text_is_an_answer_never_a_server_error(client, q):
    resp = client.get("/api/deliveries", query_string={"q": q})
    assert resp.status_code in (200, 422), resp.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # and the storage is not taken for down
