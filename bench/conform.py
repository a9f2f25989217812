"""Benchmark: how long the conformance battery takes against a fast endpoint.

Starts a fast local endpoint (a keep-alive HTTP/1.1 server in a thread, answering 204), then
runs `mock-norce conform` as a user would (its own process, every event type, table output)
and, in process, the battery alone. As the baseline from the same run: one plain POST round
trip to the same endpoint (http.client, a kept-alive connection), and the battery's request
count times that. Prints the run times and their ratios. Target (issue 15): under 10 s.

    python bench/conform.py [--runs 5]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_norce.app import build_battery, build_factory  # noqa: E402
from mock_norce.settings import Settings  # noqa: E402


class Endpoint(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        Endpoint.count += 1
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def plain_round_trip(port: int, body: bytes, n: int = 200) -> float:
    """Median seconds of one POST and its answer on a kept-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        conn.request("POST", "/norce/OrderConfirmedEvent", body, {"Content-Type": "application/json"})
        conn.getresponse().read()
        times.append(time.perf_counter() - started)
    conn.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    url = f"http://127.0.0.1:{port}/norce/{{type}}"

    settings = Settings()
    battery = build_battery(settings, build_factory(settings))
    battery.run(battery.plan(url, seed=1))  # warm: name tables, the sender's connections
    in_process, requests = [], 0
    for n in range(args.runs):
        before = Endpoint.count
        started = time.perf_counter()
        report = battery.run(battery.plan(url, seed=n))
        in_process.append(time.perf_counter() - started)
        requests = Endpoint.count - before
        assert report.verdict == "pass", report.counts()

    command = []
    for n in range(args.runs):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "mock_norce", "conform", "--url", url, "--seed", str(n)],
                             capture_output=True, text=True, cwd=ROOT)
        command.append(time.perf_counter() - started)
        assert out.returncode == 0, out.stderr

    body = b'{"ClientId":1042,"ApplicationId":1101,"OrderId":2191990271,"OrderNo":"SO-1724467",' \
           b'"ClientOrderRef":"6113389","FirstName":"Elsa","LastName":"Olsson","Source":"WEB"}'
    plain = plain_round_trip(port, body)
    battery_s, command_s = statistics.median(in_process), statistics.median(command)
    print(f"endpoint: 204 at once; {requests} requests per battery; median of {args.runs} runs")
    print(f"baseline: one plain POST round trip {plain * 1000:.3f} ms; x{requests} = {plain * requests * 1000:.1f} ms")
    print(f"battery in process:       {battery_s * 1000:8.1f} ms  ({battery_s / (plain * requests):.1f}x the "
          f"{requests} plain round trips)")
    print(f"`mock-norce conform` run: {command_s * 1000:8.1f} ms  ({command_s / battery_s:.1f}x the battery: "
          f"Python start-up and imports; target under 10 s)")
    server.shutdown()


if __name__ == "__main__":
    main()
