"""The status words of a delivery, shared by storage, delivery, the API and the UI.

A delivery is ``pending`` until its first attempt, ``retrying`` between a failed attempt and
the next, and ends ``delivered`` (a 2xx) or ``dead`` (Norce's 17 attempts all failed).
"""

PENDING, RETRYING, DELIVERED, DEAD = "pending", "retrying", "delivered", "dead"
STATUSES = (PENDING, RETRYING, DELIVERED, DEAD)
UNFINISHED = (PENDING, RETRYING)
FINISHED = (DELIVERED, DEAD)
