"""On OrderConfirmedEvent, fetch the order with its rows from the Query API and check them."""
import json, os, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

NORCE = os.environ.get("NORCE_URL", "http://127.0.0.1:8080")

def call(path, data=None, headers={}):
    with urllib.request.urlopen(urllib.request.Request(NORCE + path, data, headers), timeout=5) as r:
        return json.load(r)

class Subscriber(BaseHTTPRequestHandler):
    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        token = call("/identity/1.0/connect/token", urllib.parse.urlencode({"grant_type": "client_credentials",
                     "client_id": "erp", "client_secret": "secret", "scope": "playground"}).encode())["access_token"]
        order = call(f"/commerce/query/2.0/Orders/Orders({event['OrderId']})?$expand=Items",
                     headers={"Authorization": f"Bearer {token}", "ApplicationId": str(event["ApplicationId"])})
        assert order["OrderNo"] == event["OrderNo"] and order["StatusId"] == 2  # Confirmed
        assert order["Items"] and all(i["LineAmount"] == round(i["PriceSale"] * i["QtyOrdered"], 2)
                                      for i in order["Items"])
        print(f"order {order['OrderNo']}: {len(order['Items'])} rows, "
              f"{sum(i['LineAmount'] for i in order['Items']):.2f} excl. VAT", flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "9000"))), Subscriber).serve_forever()
