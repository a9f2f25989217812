"""The lanes' thread pool keeps its promises around a clear (DELETE /api/deliveries)."""

from __future__ import annotations

import threading

from mock_norce.delivery.lanes import LanePool


def test_a_clear_while_a_lane_waits_for_a_thread_kills_no_thread():
    # One thread, busy in lane a; lane b waits in the queue for it; the log is cleared. The
    # thread must come back for work, not die on b's emptied queue.
    started, release, done, errors = threading.Event(), threading.Event(), [], []

    def work(entry):
        if entry[0] == "first":
            started.set()
            release.wait(5)
        done.append(entry[0])

    pool = LanePool(work, lambda entry, exc: errors.append(exc), max_workers=1, origin_of=lambda e: e[1])
    died = []
    hook, threading.excepthook = threading.excepthook, died.append
    try:
        pool.submit(("first", "a"))
        assert started.wait(5)  # in flight: a clear does not take it back
        pool.submit(("dropped", "b"))
        pool.clear()
        release.set()
        for _ in range(100):  # the thread finishes its work and looks for more
            if "first" in done:
                break
            threading.Event().wait(0.02)
        threading.Event().wait(0.2)
        pool.submit(("after", "b"))
        for _ in range(100):
            if "after" in done:
                break
            threading.Event().wait(0.02)
    finally:
        threading.excepthook = hook
        pool.stop(1.0, lambda: None)
    assert died == [] and errors == []
    assert done == ["first", "after"]
