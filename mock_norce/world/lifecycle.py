"""An order's lifecycle: its statuses, and the events that move it from one to the next.

``POST /api/orders/{id}/advance`` walks this graph: from the order's status to the one asked
for, by the shortest legal path, emitting one event per step. Norce's order statuses are
documented (query.md §2.1.1); which moves are legal is mock-norce's reading of the events
(an order is delivered after it is confirmed, invoiced after it is delivered, cancelled only
before anything was delivered).
"""

from __future__ import annotations

from collections import deque

from mock_norce.errors import BadOrderStatus, IllegalTransition
from mock_norce.world.builder import CANCELLED, CONFIRMED, DELIVERED, INVOICED, ORDER_CREATED, PARTLY_DELIVERED

STATUS_NAMES = {ORDER_CREATED: "Created", CONFIRMED: "Confirmed", PARTLY_DELIVERED: "PartlyDelivered",
                DELIVERED: "Delivered", INVOICED: "Invoiced", CANCELLED: "Cancelled"}

# status -> [(event type, status after it)]
MOVES = {
    ORDER_CREATED: [("OrderConfirmedEvent", CONFIRMED), ("OrderCancelledEvent", CANCELLED)],
    CONFIRMED: [("OrderPartlyDeliveredEvent", PARTLY_DELIVERED), ("OrderDeliveredEvent", DELIVERED),
                ("OrderCancelledEvent", CANCELLED)],
    PARTLY_DELIVERED: [("OrderDeliveredEvent", DELIVERED)],
    DELIVERED: [("InvoiceCaptureCompletedEvent", INVOICED)],
    INVOICED: [],
    CANCELLED: [],
}


def status_named(name) -> int:
    """A status by name ("Delivered", "partly delivered", "PARTLY_DELIVERED") or number."""
    if isinstance(name, int) and not isinstance(name, bool) and name in STATUS_NAMES:
        return name
    if isinstance(name, str):
        wanted = name.replace(" ", "").replace("_", "").replace("-", "").lower()
        for status, label in STATUS_NAMES.items():
            if label.lower() == wanted:
                return status
    raise BadOrderStatus(f"unknown order status {name!r}; one of {', '.join(STATUS_NAMES.values())}")


def path(current: int, target: int) -> list[tuple[str, int]]:
    """The events, in order, that take an order from `current` to `target` (shortest path)."""
    if current == target:
        return []
    seen, queue = {current: []}, deque([current])
    while queue:
        status = queue.popleft()
        for event_type, after in MOVES.get(status, ()):
            if after in seen:
                continue
            seen[after] = seen[status] + [(event_type, after)]
            if after == target:
                return seen[after]
            queue.append(after)
    raise IllegalTransition(f"the order is {STATUS_NAMES.get(current, current)}; it cannot become "
                      f"{STATUS_NAMES[target]} (from {STATUS_NAMES.get(current, current)} an order can become: "
                      f"{', '.join(STATUS_NAMES[s] for s in _reachable(current)) or 'nothing'})")


def _reachable(current: int) -> list[int]:
    out, queue = [], deque([current])
    while queue:
        for _, after in MOVES.get(queue.popleft(), ()):
            if after not in out and after != current:
                out.append(after)
                queue.append(after)
    return out
