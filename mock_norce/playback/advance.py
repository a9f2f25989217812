"""Advance an order to a status: the legal events in between, emitted in order.

``POST /api/orders/{id}/advance {"to": "Delivered"}``. The events carry the order's own
facts (id, number, reference, buyer, source, market), so a subscriber sees one order move,
and they are recorded in one transaction, so the world follows them before the first is sent.
"""

from __future__ import annotations

import random

from mock_norce.catalogue.fields import ABSENT
from mock_norce.catalogue.payloads import EventFactory
from mock_norce.delivery.outbox import Outbox
from mock_norce.errors import OrderNotFound
from mock_norce.world import lifecycle
from mock_norce.world.world import World

_FIXED = ("OrderNo", "ClientOrderRef", "Source", "FirstName", "LastName", "CellPhone")
_BUYER = ("FirstName", "LastName", "CellPhone")


class Advancer:
    def __init__(self, world: World, factory: EventFactory, outbox: Outbox):
        self.world = world
        self.factory = factory
        self.outbox = outbox

    def advance(self, order_id: int, to, *, seed: int | None = None, url: str | None = None) -> dict:
        """Emit the events from the order's status to `to`; what was emitted, in order."""
        target = lifecycle.status_named(to)
        order = self.world.order(order_id)
        if order is None:
            raise OrderNotFound(f"no order {order_id} in the world (an order appears with its first event)")
        steps = lifecycle.path(order["StatusId"], target)
        rng = random.Random(seed)
        # What the first events carried, again; a buyer who gave no name or phone gives none now.
        fixed = {"OrderId": order_id, **{k: order.get(k, ABSENT) for k in _FIXED}}
        if "OrderNo" not in order or "ClientOrderRef" not in order or "Source" not in order:
            fixed = {k: v for k, v in fixed.items() if v is not ABSENT or k in _BUYER}
        if order.get("ApplicationId") is not None:
            fixed["ApplicationId"] = order["ApplicationId"]
        draw = self.factory.draw(rng, order["market"], fixed)
        payloads = []
        for event_type, _ in steps:
            payload = self.factory.generate(event_type, draw=draw)
            payload.facts["order_id"] = order_id  # an invoice capture carries no OrderId: say whose it is
            payloads.append(payload)
        ids = self.outbox.emit_many(payloads, url=url) if payloads else []
        return {
            "order_id": order_id,
            "from": lifecycle.STATUS_NAMES[order["StatusId"]],
            "to": lifecycle.STATUS_NAMES[target],
            "events": [{"type": p.event_type, "delivery_id": did, "payload": p.body} for p, did in zip(payloads, ids)],
        }
