"""Fixtures of the delivery tests."""

from __future__ import annotations

import pytest

from mock_norce.app import build_outbox

from .clocked import FakeClock


@pytest.fixture
def outbox(settings, factory):
    """Outboxes (settings changed by keyword) on a fake clock of their own (``ob.clock``), in
    memory, not started: attempts are made by run_due, in the test's thread."""
    made = []

    def make(**changes):
        ob = build_outbox(settings.with_(**changes), database=":memory:", clock=FakeClock(), factory=factory)
        made.append(ob)
        return ob
    yield make
    for ob in made:
        ob.store.close()
