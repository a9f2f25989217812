"""What the control API answers, as typed, frozen objects for test code.

``from_json`` takes the API's JSON and keeps what it does not know in ``raw``, so a newer
server never breaks an older client; every field the API documents has a typed attribute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Self


class _FromJson:
    """``from_json``: the documented fields by name, everything else kept in ``raw``."""

    @classmethod
    def from_json(cls, data: dict, **converted) -> Self:
        known = {f.name for f in fields(cls)} - {"raw"}
        values = {k: data.get(k) for k in known if k in data}
        return cls(**values | converted, raw=data)


@dataclass(frozen=True)
class Attempt(_FromJson):
    """One HTTP attempt of a delivery, as Norce's sender made it."""
    number: int
    url: str
    started: float
    method: str = "POST"
    status_code: int | None = None
    latency_ms: float | None = None
    error_class: str | None = None
    error: str | None = None
    response_headers: list = field(default_factory=list)
    response_body: str = ""
    hops: list = field(default_factory=list)
    raw: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Delivery(_FromJson):
    """An event in the delivery log: the exact body sent, where, and how every attempt went."""
    id: int
    event_type: str
    status: str  # pending, retrying, delivered or dead
    url: str
    body: str
    attempts: int = 0
    payload: Any = None
    headers: dict = field(default_factory=dict)
    valid: bool = True
    created: float | None = None
    finished: float | None = None
    next_attempt_at: float | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    redelivery_of: int | None = None
    run_id: str | None = None
    entities: list = field(default_factory=list)
    chaos: dict | None = None  # what seeded chaos did to it (duplicate_of, delayed, fail_first, ...)
    policy: str = "current"  # the retry policy it was created under: current or legacy
    content_type: str = "application/json"
    redirect_headers: str = "origin"
    attempt_log: tuple[Attempt, ...] = ()
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict) -> "Delivery":
        return super().from_json(data, attempt_log=tuple(Attempt.from_json(a) for a in data.get("attempt_log") or ()))

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"


@dataclass(frozen=True)
class Run(_FromJson):
    """A scenario run: its seed (replay it with the same one) and how its deliveries stand."""
    id: str
    scenario: str
    status: str  # running, completed, failed or cancelled
    seed: int | None = None
    time_scale: float | None = None
    url: str | None = None
    started: float | None = None
    finished: float | None = None
    events: int = 0
    error: str | None = None
    deliveries: dict = field(default_factory=dict)
    chaos: dict | None = None  # its seeded chaos
    raw: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class SinkRequest(_FromJson):
    """A request the built-in sink received; ``json()`` parses its body."""
    id: int
    path: str
    method: str
    body: str
    received: float | None = None
    query: str = ""
    headers: list = field(default_factory=list)
    status: int = 200
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        """A received header's value (case-insensitive; secret-looking values come masked)."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class Subscription(_FromJson):
    """Where an event type goes: its own URL or the default, static headers, ON/OFF."""
    event_type: str
    url: str | None = None
    effective_url: str | None = None
    headers: dict = field(default_factory=dict)
    enabled: bool = True
    chaos: dict | None = None  # its seeded chaos
    policy: str | None = None  # None: the global MOCK_NORCE_POLICY (likewise the next two)
    content_type: str | None = None
    redirect_headers: str | None = None
    omit: list = field(default_factory=list)  # optional fields never posted
    raw: dict = field(default_factory=dict, repr=False, compare=False)
