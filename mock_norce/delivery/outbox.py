"""The Python API of delivery: fire an event, emit a payload, redeliver, wait, read the log.

This is what the CLI, the scenario runner and the web layer call. It ties the event factory,
the subscriptions, the store and the dispatcher together; it knows no HTTP framework.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Callable, Iterable, Mapping

from mock_norce import __version__
from mock_norce.delivery import chaos as chaos_spec, policy
from mock_norce.delivery.chaos import Chaos
from mock_norce.delivery.dispatcher import Dispatcher
from mock_norce.errors import DeliveryFinished, DeliveryNotFound, StorageUnavailable
from mock_norce.catalogue.payloads import EventFactory, Payload, dumps
from mock_norce.storage.deliveries import Job, DeliveryLog
from mock_norce.storage.log_query import LogFilter
from mock_norce.delivery.subscriptions import Subscriptions, check_url


USER_AGENT = f"mock-norce/{__version__}"


def _without(payload: Payload, omit: tuple[str, ...]) -> bytes:
    """The wire bytes of a payload without the fields its subscription leaves out."""
    return dumps({k: v for k, v in payload.body.items() if k not in omit}).encode("utf-8")


class Outbox:
    """Events in, deliveries out, following Norce's policy."""

    def __init__(self, factory: EventFactory, subscriptions: Subscriptions, store: DeliveryLog,
                 dispatcher: Dispatcher, *, time_scale: float = 1.0, clock: Callable[[], float] = time.time):
        self.factory = factory
        self.subscriptions = subscriptions
        self.store = store
        self.dispatcher = dispatcher
        self.time_scale = time_scale
        self.clock = clock
        self.emit_listeners: list[Callable[[list, str | None], None]] = []  # (rows written, run id)
        # Writers that follow the events, called just before they are recorded: (payloads, now).
        # The world's state changes here, before any first attempt, as Norce's does; in its
        # own file, so the delivery writer's lock is not held meanwhile. (A failure there
        # refuses the events: nothing is recorded that the world did not follow.)
        self.recorders: list[Callable] = []
        self.clear_listeners: list[Callable[[], None]] = []  # after a clear (the world empties too)

    # --- sending -------------------------------------------------------------------------

    def emit(self, payload: Payload, *, url: str | None = None, run_id: str | None = None,
             scale: float | None = None) -> int | None:
        """Record a payload and schedule its first attempt now; None when its type is OFF."""
        ids = self.emit_many([payload], url=url, run_id=run_id, scale=scale)
        return ids[0]

    def emit_many(self, payloads: Iterable[Payload], *, url: str | None = None, run_id: str | None = None,
                  scale: float | None = None, dues: Iterable[float] | None = None,
                  also: Callable | None = None, chaos: Chaos | None = None, chaos_stream: str = "run",
                  chaos_from: int = 0) -> list[int | None]:
        """Like emit for several payloads, committed together (one transaction).

        ``dues`` (one per payload) makes first attempts due later than now: a rate schedule
        writes a second's events at once and spreads their sending over that second.
        ``also(db)`` writes more in the same transaction (the firing schedule's new state), so
        a firing's counts always equal its events in the log.
        ``chaos`` (a run's or schedule's, seeded) wins over each type's subscription chaos; the
        payloads are the events from ``chaos_from`` on of that stream (chaos.py).
        """
        self._writable()
        scale = self.time_scale if scale is None else scale
        now = self.clock()
        dues = iter(dues) if dues is not None else None
        rows, slots = [], []
        payloads = list(payloads)
        targets = [self.subscriptions.target(p.event_type, url) for p in payloads]  # a refused URL: nothing done
        streams = self._chaos_streams(payloads, targets, chaos, chaos_stream, chaos_from)
        for payload, target, (spec, stream, position) in zip(payloads, targets, streams):
            due = next(dues) if dues is not None else now
            if target is None:
                slots.append(None)  # OFF: Norce does not record it at all
                continue
            sub = self.subscriptions.get(payload.event_type)
            # The subscription's metadata selection: its omitted optional fields are not posted
            # (the world below still sees the whole event: Norce's state does not depend on it).
            body = payload.to_bytes() if not sub.omit else _without(payload, sub.omit)
            sending = self.subscriptions.sending(payload.event_type)
            sent_as = (sending.policy, sending.content_type, sending.redirect_headers)
            slots.append(len(rows))
            # One row, or two when chaos duplicates it; each with what chaos did to it (or None),
            # then how it is sent.
            rows.extend(row + (sent_as,) for row in chaos_spec.rows(
                (payload.event_type, body, payload.valid, run_id, target[0], target[1], scale),
                due, spec, stream, position, scale, len(rows)))
        # Once every target is known good (a refused URL changes nothing): every payload, also
        # those of a type switched OFF, as Norce's state changes whether or not anyone subscribes.
        for recorder in self.recorders:
            recorder(payloads, now)
        with self.dispatcher.gate:  # no clear between the commit and the scheduling
            ids = self.store.add_events(rows, now, also)
            self.dispatcher.schedule_many([Job(did, target_url, headers, body, 0, scale, due, run_id,
                                               chaos_spec.fails_first(note), *sent_as)
                                           for (_, body, _, _, target_url, headers, _, due, note, sent_as), did
                                           in zip(rows, ids)])
        for listener in self.emit_listeners:
            listener(rows, run_id)
        return [None if slot is None else ids[slot] for slot in slots]

    def _chaos_streams(self, payloads: list[Payload], targets: list, chaos: Chaos | None, stream: str,
                       start: int) -> list[tuple[Chaos | None, str, int]]:
        """(spec, stream, position) of each payload: the run's or schedule's chaos, else its
        type's subscription chaos at its place in that type's stream (events recorded only)."""
        if chaos is not None:
            # Positions count the events recorded (a type OFF records none), as a schedule's
            # ``emitted`` does, so the next firing's first position follows on without repeats.
            out, position = [], start
            for target in targets:
                out.append((chaos, stream, position))
                position += target is not None
            return out
        own = iter(self.subscriptions.chaos_positions([p.event_type for p, t in zip(payloads, targets) if t]))
        out = []
        for payload, target in zip(payloads, targets):
            spec, position = next(own) if target is not None else (None, 0)
            out.append((spec, payload.event_type, position))
        return out

    def fire(self, event_type: str, *, overrides: Mapping[str, Any] | None = None, omit: Iterable[str] = (),
             seed: int | None = None, market: str | None = None, url: str | None = None,
             allow_invalid: bool = False) -> tuple[Payload, int | None]:
        """Generate a payload (validated) and emit it: (payload, delivery id or None if OFF)."""
        self.subscriptions.target(event_type, url)  # fail on a missing URL before generating
        payload = self.factory.generate(event_type, seed=seed, market=market, overrides=overrides,
                                        omit=omit, allow_invalid=allow_invalid)
        delivery_id = self.emit(payload, url=url)
        left_out = self.subscriptions.get(event_type).omit
        if left_out:  # the payload as posted: without the fields its subscription leaves out
            payload = replace(payload, body={k: v for k, v in payload.body.items() if k not in left_out})
        return payload, delivery_id

    def redeliver(self, delivery_id: int, url: str | None = None) -> int:
        """A new series of attempts of a delivery's event, same body and headers, to the same
        URL or to `url` (checked as a subscription's URL is)."""
        if url is not None:
            url = check_url(url, self.subscriptions.allow_link_local)
        new_ids = self._redeliver([delivery_id], url)
        if delivery_id not in new_ids:
            raise DeliveryNotFound(f"no delivery {delivery_id}")
        return new_ids[delivery_id]

    def redeliver_matching(self, f: LogFilter, limit: int) -> tuple[list[int], int, bool]:
        """Redeliver the newest `limit` deliveries that match a filter of the log (all dead
        ones, say): (new ids, how many matched, whether that count is exact)."""
        self._writable()
        ids, matched, exact = self.store.find_ids(f, limit)
        made = self._redeliver(ids)
        return [made[i] for i in ids if i in made], matched, exact

    def _redeliver(self, delivery_ids: list[int], url: str | None = None) -> dict[int, int]:
        self._writable()
        out: dict[int, int] = {}
        for start in range(0, len(delivery_ids), 500):
            now = self.clock()
            with self.dispatcher.gate:
                made = self.store.add_redeliveries(delivery_ids[start:start + 500], now, url)
                jobs = self.store.jobs(list(made.values()))
                self.dispatcher.schedule_many([jobs[i] for i in made.values() if i in jobs])
            out.update(made)
        return out

    def retry_now(self, delivery_id: int) -> None:
        """Make a delivery waiting for its next retry attempt now (not at its backoff time)."""
        self._writable()
        status = self.dispatcher.retry_now(delivery_id)
        if status is None:
            raise DeliveryNotFound(f"no delivery {delivery_id}")
        if status not in ("pending", "retrying"):
            raise DeliveryFinished(f"delivery {delivery_id} is {status}: it has no next attempt to make now "
                                   "(redeliver it instead)")

    def _writable(self) -> None:
        """Refuse at once while the writer cannot record (rather than wait for the database)."""
        problem = self.dispatcher.storage_problem
        if problem is not None:
            raise StorageUnavailable(problem)

    # --- reading -------------------------------------------------------------------------

    def delivery(self, delivery_id: int) -> dict:
        found = self.store.delivery(delivery_id)
        if found is None:
            raise DeliveryNotFound(f"no delivery {delivery_id}")
        return found

    def wait(self, delivery_id: int, timeout: float) -> dict:
        """The delivery once it is delivered or dead, or as it is when the timeout passes."""
        self.dispatcher.wait(delivery_id, timeout)
        return self.delivery(delivery_id)

    def subscriber_health(self, last: int = 500) -> list[dict]:
        """Per subscriber origin, over the last attempts: how many, how many 2xx, the latest outcome."""
        out: dict[str, dict] = {}
        for url, code, error_class, latency, started in self.store.recent_attempts(last):
            scheme, host, port = policy.origin(url)
            key = f"{scheme}://{host}:{port}"
            entry = out.setdefault(key, {"origin": key, "attempts": 0, "ok": 0, "latency_total": 0.0,
                                         "last_status": code, "last_error": error_class, "last_at": started})
            entry["attempts"] += 1
            # A first attempt failed by chaos was answered well: the subscriber is not to blame.
            entry["ok"] += int(policy.is_success(code) and error_class in (None, chaos_spec.ERROR_CLASS))
            entry["latency_total"] += latency or 0.0
        for entry in out.values():
            entry["success_rate"] = entry["ok"] / entry["attempts"]
            entry["avg_latency_ms"] = entry.pop("latency_total") / entry["attempts"]
        return sorted(out.values(), key=lambda e: -e["last_at"])

    def unfinished(self) -> int:
        """Deliveries not yet delivered or dead (pending or retrying): the backlog on disk."""
        counts = self.store.counts()
        return counts["pending"] + counts["retrying"]

    def clear(self) -> int:
        """Forget every event and delivery (between tests): no retry of them is made after this,
        and the result of an attempt already on the wire is discarded."""
        deleted = self.dispatcher.forget_all()
        for listener in self.clear_listeners:
            listener()
        return deleted

    # --- life ----------------------------------------------------------------------------

    def start(self) -> int:
        return self.dispatcher.start()

    def stop(self, grace: float = 3.0) -> None:
        self.dispatcher.stop(grace)
        self.store.close()
