"""Delivery: getting each event to its subscriber the way Norce does.

Owns Norce's policy (success, the 16 retry delays, redirects), subscriber URLs (IRI to URI)
and subscriptions, the HTTP client with its one 5 s deadline (framing, pooled connections:
the only ``socket``/``ssl`` users), the dispatcher (the due window, per-origin lanes), the
recorder (group commit, waiters) and the outbox, the Python API of delivery. May import the
foundation modules, ``catalogue`` and ``storage``.
"""
