"""Black box: a subscriber of a running `mock-norce serve` that fetches on receipt sees the new state.

The subscriber is a real local HTTP server; on each notification it takes a token from the
identity endpoint and reads the order through the Query API, as a real Norce integration
does, before it answers. The state must already be the one the event reports.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request

import pytest

from ..servers import http, response


def token(base: str) -> str:
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "erp", "client_secret": "s",
                                   "scope": "playground"}).encode()
    with urllib.request.urlopen(urllib.request.Request(base + "/identity/1.0/connect/token", data=form),
                                timeout=10) as resp:
        return json.loads(resp.read())["access_token"]


def query(base: str, path: str, bearer: str, application_id: int) -> dict:
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {bearer}",
                                                        "ApplicationId": str(application_id)})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_a_subscriber_that_fetches_on_receipt_sees_the_state_the_event_reports(serve, served):
    seen: list[tuple[str, int, int, int]] = []  # (event type, status, delivery notes, rows)
    problems: list[str] = []
    done = threading.Event()
    where = {}

    def subscriber(req, conn):
        try:
            event = json.loads(req.body)
            bearer = token(where["base"])
            order_id = event.get("OrderId")
            if order_id is None:  # an invoice capture names the invoice; the invoice names the order
                invoice = query(where["base"], f"/commerce/query/2.0/Orders/Invoices({event['CapturedInvoiceId']})",
                                bearer, event["ApplicationId"])
                order_id = invoice["ReferenceOrderId"]
            order = query(where["base"], f"/commerce/query/2.0/Orders/Orders({order_id})"
                                         "?$expand=Items,DeliveryNotes", bearer, event["ApplicationId"])
            seen.append((req.path.rsplit("/", 1)[-1], order["StatusId"], len(order["DeliveryNotes"]),
                         len(order["Items"])))
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            problems.append(repr(exc))
        if len(seen) + len(problems) >= 3:
            done.set()
        return response(200, b"ok")

    hook = serve(subscriber)
    mock = served(MOCK_NORCE_SUBSCRIBER_URL=hook.url + "/hook")
    where["base"] = mock.url
    for name in ("OrderConfirmedEvent", "OrderDeliveredEvent"):
        http("PUT", f"{mock.url}/api/subscriptions/{name}", {"url": f"{hook.url}/{name}"})
    status, fired = http("POST", f"{mock.url}/api/events/OrderConfirmedEvent?wait=20", {"seed": 21})
    assert status == 200, fired
    order_id = fired["payload"]["OrderId"]
    # One step at a time: each notification is answered before the next change is made.
    for n, to in ((2, "Delivered"), (3, "Invoiced")):  # the invoice capture goes to the default URL (/hook)
        status, advanced = http("POST", f"{mock.url}/api/orders/{order_id}/advance", {"to": to})
        assert status == 202, advanced
        deadline = time.time() + 20
        while len(seen) + len(problems) < n and time.time() < deadline:
            time.sleep(0.02)
    assert done.wait(5), (seen, problems)
    assert not problems, problems
    rows = seen[0][3]
    assert seen[0][:3] == ("OrderConfirmedEvent", 2, 0)
    assert seen[1][:3] == ("OrderDeliveredEvent", 4, 1) and seen[1][3] == rows
    assert seen[2][0] == "hook" and seen[2][1] == 5  # the invoice capture: Invoiced


def test_the_readme_subscriber_fetches_the_order_and_its_rows(served, tmp_path):
    """docs/examples/query_subscriber.py, as the README shows it, against a real serve."""
    import socket
    import subprocess
    import sys

    from ..conftest import ROOT

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mock = served(MOCK_NORCE_SUBSCRIBER_URL=f"http://127.0.0.1:{port}/norce")
    log = open(tmp_path / "subscriber.log", "w+")
    proc = subprocess.Popen([sys.executable, str(ROOT / "docs/examples/query_subscriber.py")], stdout=log,
                            stderr=subprocess.STDOUT, env={"NORCE_URL": mock.url, "PORT": str(port), "PATH": ""})
    try:
        deadline = time.time() + 10
        while time.time() < deadline:  # the subscriber is listening
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        status, fired = http("POST", f"{mock.url}/api/events/OrderConfirmedEvent?wait=20", {"seed": 4})
        assert status == 200 and fired["delivery"]["status"] == "delivered", fired
        assert fired["delivery"]["last_status_code"] == 200  # its asserts held (a failure closes the connection unanswered)
        log.seek(0)
        assert f"order {fired['payload']['OrderNo']}:" in log.read()
    finally:
        proc.kill()
        proc.wait(5)


def test_a_real_odata_client_reads_the_order_behind_an_event(served, serve):
    """python-odata (nobody here wrote it) through Norce's door: $metadata, the order, its rows."""
    import requests
    from odata import ODataService

    hook = serve(lambda req, conn: response(200, b"ok"))
    mock = served(MOCK_NORCE_SUBSCRIBER_URL=hook.url + "/hook")
    status, fired = http("POST", f"{mock.url}/api/events/OrderConfirmedEvent?wait=20", {"seed": 12})
    assert status == 200, fired
    event = fired["payload"]
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token(mock.url)}", "ApplicationId": str(event["ApplicationId"])})
    svc = ODataService(f"{mock.url}/commerce/query/2.0/Orders/", session=session, reflect_entities=True,
                       quiet_progress=True)
    Order = svc.entities["Orders"]
    order = svc.query(Order).get(event["OrderId"])
    assert (order.OrderNo, order.StatusId, order.Source) == (event["OrderNo"], 2, event["Source"])
    rows = list(order.Items)  # GET Orders({id})/Items
    assert rows and all(r.OrderId == event["OrderId"] and r.PartNo for r in rows)
    assert svc.query(Order).filter(Order.OrderNo == event["OrderNo"]).first().Id == event["OrderId"]
    session.headers["Authorization"] = "Bearer forged"
    with pytest.raises(Exception):
        svc.query(Order).get(event["OrderId"])  # the door holds for a real client too
