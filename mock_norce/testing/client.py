"""A typed client of mock-norce's control API, for test suites.

Standard library only (urllib), so it works beside any test stack and imports nothing of the
server. Each method is one or two HTTP calls; waits block on the server (``?wait=``), not in
sleep loops here, except ``wait_delivered`` by type, which polls the log at 50 ms. Errors are
``MockNorceClientError`` with the server's code and message; a server that cannot be reached
is a ``MockNorceUnreachable`` that names the URL.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterable

from mock_norce.limits import WAIT_MAX  # the server's bound on ?wait=; longer waits loop
from mock_norce.testing.models import Delivery, Run, SinkRequest, Subscription


class MockNorceClientError(Exception):
    """The control API answered with an error: ``status``, ``code`` and the server's message."""

    def __init__(self, status: int, code: str, message: str, method: str = "", path: str = ""):
        super().__init__(f"{method} {path}: {status} {code}: {message}".strip())
        self.status, self.code, self.message = status, code, message


class MockNorceUnreachable(MockNorceClientError):
    """No answer at all: the server is not running at that URL, or not yet."""


class DeliveryFailed(AssertionError):
    """A delivery ended dead (every attempt failed): the test's subscriber did not accept it."""

    def __init__(self, delivery: Delivery):
        super().__init__(f"delivery {delivery.id} ({delivery.event_type}) to {delivery.url} is dead after "
                         f"{delivery.attempts} attempt(s): last answer {delivery.last_status_code}, "
                         f"{delivery.last_error or 'no error text'}")
        self.delivery = delivery


class NotRecorded(MockNorceClientError):
    """The event type is OFF in the subscriptions: Norce would neither record nor send it."""


class Client:
    """``Client("http://127.0.0.1:8080")``; ``token`` when the server has MOCK_NORCE_API_TOKEN."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.sink = Sink(self)
        self.world = World(self)

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    # --- events ----------------------------------------------------------------------------

    def fire(self, event_type: str, overrides: dict[str, Any] | None = None, *, seed: int | None = None,
             market: str | None = None, url: str | None = None, omit: Iterable[str] = (),
             invalid: bool = False, wait: float | None = None, **fields: Any) -> Delivery:
        """Generate, validate and deliver one event; field values as keywords (``OrderId=42``).

        Returns the delivery as recorded (``wait`` seconds: as finished, delivered or dead).
        Raises NotRecorded when the type is OFF, MockNorceClientError (422) when an override
        breaks the schema and ``invalid`` is not set.
        """
        body: dict[str, Any] = {"overrides": {**(overrides or {}), **fields}}
        for key, value in (("seed", seed), ("market", market), ("url", url)):
            if value is not None:
                body[key] = value
        if omit:
            body["omit"] = list(omit)
        if invalid:
            body["invalid"] = True
        path = f"/api/events/{_segment(event_type)}" + (f"?wait={_wait(wait)}" if wait else "")
        answer = self.call("POST", path, body)
        if not answer.get("recorded"):
            raise NotRecorded(200, "not_recorded", answer.get("message", f"{event_type} was not recorded"),
                              "POST", path)
        return Delivery.from_json(answer["delivery"])

    def delivery(self, delivery_id: int) -> Delivery:
        return Delivery.from_json(self.call("GET", f"/api/deliveries/{int(delivery_id)}"))

    def deliveries(self, event_type: str | None = None, status: str | None = None, run: str | None = None,
                   limit: int = 500) -> list[Delivery]:
        """The log, newest first (at most ``limit``, up to 500)."""
        query = _query(type=event_type, status=status, run=run, limit=limit)
        return [Delivery.from_json(d) for d in self.call("GET", "/api/deliveries" + query)["items"]]

    def wait_delivered(self, delivery: Delivery | int | None = None, *, event_type: str | None = None,
                       count: int = 1, timeout: float = 10.0) -> Delivery | list[Delivery]:
        """Wait until a delivery has been delivered (returns it), or ``count`` of a type have (a list).

        A dead delivery raises DeliveryFailed; still pending after ``timeout`` seconds raises
        TimeoutError saying what state it is in.
        """
        if delivery is not None:
            did = delivery.id if isinstance(delivery, Delivery) else int(delivery)
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                found = Delivery.from_json(self.call("GET", f"/api/deliveries/{did}?wait={_wait(max(left, 0.001))}"))
                if found.status == "dead":
                    raise DeliveryFailed(found)
                if found.status == "delivered":
                    return found
                if left <= 0:
                    raise TimeoutError(f"delivery {did} ({found.event_type}) is still {found.status} after "
                                       f"{timeout:g} s ({found.attempts} attempt(s), last answer "
                                       f"{found.last_status_code}, {found.last_error or 'no error'})")
        deadline = time.monotonic() + timeout
        while True:
            done = self.deliveries(event_type=event_type, status="delivered")
            if len(done) >= count:
                return sorted(done, key=lambda d: d.id)[:count]
            dead = self.deliveries(event_type=event_type, status="dead", limit=1)
            if dead:
                raise DeliveryFailed(dead[0])
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(done)} of {count} {event_type or 'deliveries'} delivered after {timeout:g} s")
            time.sleep(0.05)

    def redeliver(self, delivery: Delivery | int, *, url: str | None = None) -> Delivery:
        """A new series of attempts with the same body and headers; ``url``: to another URL."""
        did = delivery.id if isinstance(delivery, Delivery) else int(delivery)
        return Delivery.from_json(self.call("POST", f"/api/deliveries/{did}/redeliver", {"url": url} if url else {}))

    # --- scenarios -------------------------------------------------------------------------

    def run(self, scenario: str, seed: int | None = None, *, url: str | None = None,
            time_scale: float | None = None, wait: float | None = None, chaos: dict | None = None) -> Run:
        """Start a scenario run; with ``wait``, block until it has finished (or the wait is over).
        ``chaos``: seeded sender-side chaos of its events, e.g. ``{"duplicate": 0.5}`` (README, Chaos)."""
        body = {k: v for k, v in (("seed", seed), ("url", url), ("time_scale", time_scale), ("chaos", chaos))
                if v is not None}
        run = Run.from_json(self.call("POST", f"/api/scenarios/{_segment(scenario)}/runs", body))
        return self.wait_run(run, wait) if wait else run

    def wait_run(self, run: Run | str, timeout: float = 10.0) -> Run:
        """Block until the run has finished; TimeoutError if it is still running after ``timeout``."""
        rid = run.id if isinstance(run, Run) else run
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            found = Run.from_json(self.call("GET", f"/api/runs/{_segment(rid)}?wait={_wait(max(left, 0.001))}"))
            if found.status != "running":
                return found
            if left <= 0:
                raise TimeoutError(f"run {rid} ({found.scenario}) is still running after {timeout:g} s, "
                                   f"{found.events} event(s) so far")

    # --- subscriptions and reset -----------------------------------------------------------

    def subscribe(self, event_type: str, url: str | None, headers: dict[str, str] | None = None,
                  enabled: bool = True, chaos: dict | None = None, **sending: Any) -> Subscription:
        """Send a type's events to ``url`` (None: the default URL) with these static headers
        (and ``chaos``, seeded sender-side chaos of its events: None leaves it as it is, ``{}``
        removes it); ``sending`` sets policy, content_type, redirect_headers or omit too (each
        left as it is when not given; None: the global one)."""
        body: dict[str, Any] = {"url": url, "enabled": enabled, **sending}
        if chaos is not None:
            body["chaos"] = chaos
        if headers is not None:
            body["headers"] = headers
        return Subscription.from_json(self.call("PUT", f"/api/subscriptions/{_segment(event_type)}", body))

    def default_url(self) -> str | None:
        """Where the types without their own URL go (secrets masked)."""
        return self.call("GET", "/api/subscriptions/default")["url"]

    def set_default_url(self, url: str) -> str | None:
        """Send the types without their own URL to ``url`` (until a reset); the URL as stored, masked."""
        return self.call("PUT", "/api/subscriptions/default", {"url": url})["url"]

    def conform(self, url: str, types: Iterable[str] | None = None, *, headers: dict[str, str] | None = None,
                verify: Any = None, seed: int | None = None, content_type: str | None = None,
                redirect_headers: str | None = None, policy: str | None = None, timeout: float = 600.0) -> dict:
        """Run the conformance battery against ``url`` (``POST /api/conformance``); the report as a dict.

        ``verify`` is a URL the server POSTs the report to, or a Python callable given the report
        here, after the battery: it asserts side effects (one e-mail per order even after the
        duplicate, say); if it raises, a failed ``verify`` case is added and the verdict is fail.
        ``assert report["verdict"] != "fail"`` is then the test's one line.
        """
        body: dict[str, Any] = {"url": url}
        for key, value in (("types", list(types) if types is not None else None), ("headers", headers),
                           ("seed", seed), ("verify", verify if isinstance(verify, str) else None),
                           ("content_type", content_type), ("redirect_headers", redirect_headers),
                           ("policy", policy)):
            if value is not None:
                body[key] = value
        report = self.call("POST", "/api/conformance", body, timeout=timeout)
        if callable(verify):
            case = {"name": "verify", "expectation": "the user's verification of side effects passes (the "
                    "callable returns)", "verdict": "pass", "reason": "the verification returned",
                    "exchanges": [], "figures": {}, "duration_ms": 0.0}
            began = time.monotonic()
            try:
                verify(report)
            except Exception as exc:  # noqa: BLE001 - the user's assertion, whatever it raised
                case.update(verdict="fail", reason=f"{type(exc).__name__}: {exc}")
            case["duration_ms"] = round((time.monotonic() - began) * 1000, 1)
            report["cases"].append(case)
            report["counts"][case["verdict"]] += 1
            if case["verdict"] == "fail":
                report["verdict"] = "fail"
        return report

    def reset(self) -> dict:
        """Everything back to the boot state: log, queue, sink, runs, schedules, subscriptions, world."""
        return self.call("POST", "/api/reset", {})

    def healthy(self) -> bool:
        try:
            return self.call("GET", "/healthz").get("status") == "ok"
        except MockNorceClientError:
            return False

    # --- HTTP ------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             form: dict[str, str] | None = None, timeout: float | None = None) -> Any:
        """One request; the JSON answer, or MockNorceClientError with the server's words."""
        data = None
        all_headers = {"Accept": "application/json", **(headers or {})}
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None or method in ("POST", "PUT", "DELETE"):
            data = json.dumps(body if body is not None else {}).encode()
            all_headers["Content-Type"] = "application/json"
        if self.token and "Authorization" not in all_headers:
            all_headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base_url + path, data, all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                err = json.loads(raw)
            except ValueError:
                err = {}
            if not isinstance(err, dict):
                err = {}
            raise MockNorceClientError(exc.code, err.get("error", "http_error"),
                                       err.get("message") or err.get("error_description")
                                       or raw[:200].decode("utf-8", "replace"), method, path) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise MockNorceUnreachable(0, "unreachable", f"no answer from mock-norce at {self.base_url}: {reason}",
                                       method, path) from None
        return json.loads(raw) if raw else None


class Sink:
    """The built-in sink: ``client.sink.url("orders")`` as a subscriber URL, then ``wait``."""

    def __init__(self, client: Client):
        self._client = client

    def url(self, path: str = "default", **behaviour: Any) -> str:
        """The sink's URL for ``path``; ``status=503``, ``delay=2``, ``fail_rate=0.5`` shape its answer."""
        query = urllib.parse.urlencode(behaviour)
        return f"{self._client.base_url}/sink/{path.lstrip('/')}" + (f"?{query}" if query else "")

    def requests(self, path: str | None = None, limit: int = 1000) -> list[SinkRequest]:
        """What the sink has kept, oldest first (``path``: only those to /sink/<path>)."""
        answer = self._client.call("GET", "/api/sink" + _query(path=path, limit=limit))
        return sorted((SinkRequest.from_json(r) for r in answer["items"]), key=lambda r: r.id)

    def wait(self, count: int = 1, path: str | None = None, timeout: float = 10.0) -> list[SinkRequest]:
        """Block until the sink has ``count`` requests (to /sink/<path>); they, oldest first.

        TimeoutError after ``timeout`` seconds, saying how many did arrive.
        """
        deadline = time.monotonic() + timeout
        while True:
            left = max(deadline - time.monotonic(), 0.001)
            # limit: the server cuts the items at 100 unless told (at most 1000, the sink's default keep).
            answer = self._client.call("GET", "/api/sink" + _query(wait=_wait(left), count=count, path=path,
                                                                   limit=min(max(count, 1), 1000)))
            if answer.get("complete"):
                return sorted((SinkRequest.from_json(r) for r in answer["items"]), key=lambda r: r.id)[:count]
            if time.monotonic() >= deadline:
                where = f" at /sink/{path}" if path else ""
                raise TimeoutError(f"the sink received {answer.get('matched', 0)} of {count} request(s){where} "
                                   f"in {timeout:g} s")

    def clear(self) -> int:
        return self._client.call("DELETE", "/api/sink")["deleted"]


class World:
    """The entities behind the ids, through Norce's own Query API (with a token, as Norce wants)."""

    def __init__(self, client: Client, client_id: str = "mock-norce-testing", secret: str = "secret",
                 application_id: int = 1101):
        self._client = client
        self._credentials = {"grant_type": "client_credentials", "client_id": client_id,
                             "client_secret": secret, "scope": "playground"}
        self._application_id = application_id
        self._token: tuple[str, float] | None = None

    def order(self, order_id: int, expand: str = "Items") -> dict:
        """The order as Norce's Query API 2.0 serves it (``$expand=Items`` by default)."""
        return self.get(f"/Orders/Orders({int(order_id)})" + (f"?$expand={expand}" if expand else ""))

    def get(self, path: str, version: str = "2.0") -> dict:
        """Any Query API path below ``/commerce/query/<version>``, e.g. ``/Products/Skus('1001-M')``."""
        headers = {"Authorization": f"Bearer {self._bearer()}", "ApplicationId": str(self._application_id)}
        return self._client.call("GET", f"/commerce/query/{version}{path}", headers=headers)

    def _bearer(self) -> str:
        if self._token is None or self._token[1] <= time.monotonic():
            answer = self._client.call("POST", "/identity/1.0/connect/token", form=self._credentials)
            # Renewed a minute early, so a long test never sends one that just ran out.
            self._token = (answer["access_token"], time.monotonic() + max(answer.get("expires_in", 3600) - 60, 1))
        return self._token[0]


def _segment(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")


def _wait(seconds: float) -> str:
    return f"{min(max(seconds, 0.001), WAIT_MAX):.3f}"


def _query(**params: Any) -> str:
    kept = {k: v for k, v in params.items() if v is not None}
    return ("?" + urllib.parse.urlencode(kept)) if kept else ""
