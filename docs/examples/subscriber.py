"""A tiny sample subscriber for mock-norce: prints every event it receives and answers 200.

Standard library only, so it runs in the mock-norce image itself (see compose.yaml) or
anywhere with Python 3:

    python3 docs/examples/subscriber.py            # listens on 0.0.0.0:9000
    SUBSCRIBER_PORT=9100 python3 docs/examples/subscriber.py

Norce sends the bare event object with no type header, so the event type is not known
here unless the subscription adds one (e.g. `x-norce-event-type`, as Norce's compatibility
kit suggests); it is printed when present. `GET /` answers 200 for health checks.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Subscriber(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as mock-norce's sender expects

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            event = json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            event = body.decode("utf-8", "replace")
        kind = self.headers.get("x-norce-event-type") or "event"
        print(f"{time.strftime('%H:%M:%S')} {self.path} {kind}: {event}", flush=True)
        self._answer(200, b"")

    def do_GET(self):
        self._answer(200, b"ok\n")

    def _answer(self, status: int, body: bytes):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # the events are the log
        pass


def main() -> None:
    port = int(os.environ.get("SUBSCRIBER_PORT", "9000"))
    server = ThreadingHTTPServer((os.environ.get("SUBSCRIBER_HOST", "0.0.0.0"), port), Subscriber)
    # As a container's PID 1 Python would ignore SIGTERM: stop at once on `docker stop`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"subscriber listening on port {port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
