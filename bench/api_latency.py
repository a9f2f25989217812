"""Benchmark: from `POST /api/events/{type}?wait=5` to the subscriber having the event.

Starts `mock-norce serve` (its own process) and a subscriber (a thread here, so both clocks
are the same), then for N calls measures the time from sending the API request to the
subscriber receiving the event, next to a plain POST of a same-sized body straight to the
subscriber in the same run. Prints p50/p99 of both and the difference. Target (issue 5):
p99 under 20 ms on loopback.

    python bench/api_latency.py [--calls 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from serving import start_serve  # noqa: E402

received: dict[str, float] = {}
arrived = threading.Condition()


class Subscriber(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        now = time.perf_counter()
        key = json.loads(body).get("OrderNo")
        with arrived:
            received[key] = now
            arrived.notify_all()
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def wait_for(key: str) -> float:
    with arrived:
        arrived.wait_for(lambda: key in received, timeout=10)
        return received[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    sub = ThreadingHTTPServer(("127.0.0.1", 0), Subscriber)
    threading.Thread(target=sub.serve_forever, daemon=True).start()
    sub_port = sub.server_address[1]
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_serve(f"http://127.0.0.1:{sub_port}/hook", Path(tmp))
        port = int(base.rsplit(":", 1)[1])
        try:
            api = http.client.HTTPConnection("127.0.0.1", port)
            plain = http.client.HTTPConnection("127.0.0.1", sub_port)
            headers = {"Content-Type": "application/json"}
            via_api, direct = [], []
            for i in range(args.calls + 50):  # the first 50 warm up both paths
                key = f"API-{i}"
                t0 = time.perf_counter()
                api.request("POST", "/api/events/OrderConfirmedEvent?wait=5",
                            json.dumps({"overrides": {"OrderNo": key}}), headers)
                resp = api.getresponse()
                resp.read()
                assert resp.status == 200, resp.status
                t_api = wait_for(key) - t0
                key = f"PLAIN-{i}"
                body = json.dumps({"ClientId": 1042, "OrderNo": key, "Pad": "x" * 150})
                t0 = time.perf_counter()
                plain.request("POST", "/hook", body, headers)
                plain.getresponse().read()
                t_plain = wait_for(key) - t0
                if i >= 50:
                    via_api.append(t_api * 1000)
                    direct.append(t_plain * 1000)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
    sub.shutdown()
    print(f"{args.calls} calls, ms until the subscriber had the event:")
    print(f"  via POST /api/events/OrderConfirmedEvent?wait=5: p50 {statistics.median(via_api):.2f}  "
          f"p99 {pct(via_api, 99):.2f}  max {max(via_api):.2f}")
    print(f"  plain POST to the subscriber:                    p50 {statistics.median(direct):.2f}  "
          f"p99 {pct(direct, 99):.2f}  max {max(direct):.2f}")
    p99 = pct(via_api, 99)
    print(f"p99 via the API {p99:.2f} ms ({'meets' if p99 < 20 else 'MISSES'} the 20 ms target); "
          f"p50 ratio api/plain {statistics.median(via_api) / statistics.median(direct):.1f}")


if __name__ == "__main__":
    main()
