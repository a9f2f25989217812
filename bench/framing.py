"""Benchmark: our HTTP/1.1 framing (delivery/framing.py behind delivery/http_client.py) against h11.

Issue 11 asked whether h11 should frame the sender's requests and responses. Both run the
same exchange here, one after another in the same run, against the fast local subscriber of
bench/sink_server.py, on one keep-alive connection: POST an OrderConfirmedEvent body, read a
204. Printed: exchanges per second and CPU microseconds per exchange of

  ours    Sender.post: request head cached per URL, response read with a deadline on every read
          (what mock-norce runs), redirects, hop log and all;
  h11     h11.Connection over a socket with the same per-read deadline, framing only (no hop log,
          no redirects: less work than ours does);
  plain   http.client, for scale.

and the ratio h11/ours of CPU per exchange (above 1: h11 costs more). h11 is not a dependency
of mock-norce: `pip install h11` to run this.

    python bench/framing.py [--count 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from deliver import start_sink  # noqa: E402
from mock_norce.app import build_factory  # noqa: E402
from mock_norce.delivery.http_client import Sender  # noqa: E402
from mock_norce.settings import Settings  # noqa: E402


def run_ours(port: int, bodies: list[bytes]) -> tuple[float, float]:
    sender = Sender("mock-norce/bench")
    url = f"http://127.0.0.1:{port}/hook"
    cpu, wall = time.process_time(), time.perf_counter()
    for body in bodies:
        if not sender.post(url, body, {}).ok:
            raise RuntimeError("ours: not delivered")
    out = (time.process_time() - cpu, time.perf_counter() - wall)
    sender.close()
    return out


def run_h11(port: int, bodies: list[bytes]) -> tuple[float, float]:
    import h11

    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = h11.Connection(h11.CLIENT)
    cpu, wall = time.process_time(), time.perf_counter()
    for body in bodies:
        deadline = time.monotonic() + 5.0
        headers = [("Host", f"127.0.0.1:{port}"), ("User-Agent", "mock-norce/bench"),
                   ("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        data = conn.send(h11.Request(method="POST", target="/hook", headers=headers))
        data += conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage())
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        sock.sendall(data)
        status, kept = None, bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                conn.receive_data(sock.recv(65536))
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                kept += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
        if status != 204:
            raise RuntimeError(f"h11: {status}")
        conn.start_next_cycle()
    out = (time.process_time() - cpu, time.perf_counter() - wall)
    sock.close()
    return out


def run_plain(port: int, bodies: list[bytes]) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/json", "User-Agent": "plain"}
    cpu, wall = time.process_time(), time.perf_counter()
    for body in bodies:
        conn.request("POST", "/hook", body, headers)
        conn.getresponse().read()
    out = (time.process_time() - cpu, time.perf_counter() - wall)
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="exchanges per client per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (medians are printed)")
    args = parser.parse_args()
    factory = build_factory(Settings.from_env())
    bodies = [factory.generate("OrderConfirmedEvent", seed=i).to_bytes() for i in range(args.count)]
    clients = {"ours": run_ours, "h11": run_h11, "plain": run_plain}
    cpu: dict[str, list[float]] = {k: [] for k in clients}
    rate: dict[str, list[float]] = {k: [] for k in clients}
    with tempfile.TemporaryDirectory() as d:
        sink, port = start_sink(Path(d))
        try:
            for _ in range(args.rounds):
                for name, run in clients.items():  # interleaved: load on the machine hits all alike
                    c, w = run(port, bodies)
                    cpu[name].append(c / len(bodies) * 1e6)
                    rate[name].append(len(bodies) / w)
        finally:
            sink.terminate()
            sink.wait()
    print(f"{'client':<8} {'exchanges/s':>12} {'CPU us/exchange':>16}   (median of {args.rounds} rounds of {args.count:,})")
    for name in clients:
        print(f"{name:<8} {statistics.median(rate[name]):>12,.0f} {statistics.median(cpu[name]):>16.1f}")
    ratio = statistics.median(cpu["h11"]) / statistics.median(cpu["ours"])
    print(f"h11 / ours, CPU per exchange: {ratio:.2f} ({'h11 costs more' if ratio > 1 else 'h11 costs less'})")


if __name__ == "__main__":
    main()
