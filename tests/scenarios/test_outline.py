"""A scenario's outline (its steps to show) and where a run is in it: pure, with a fake clock."""

from __future__ import annotations

import pytest

from mock_norce.scenarios.library import Library
from mock_norce.scenarios.outline import outline, progress
from mock_norce.scenarios.player import Run


@pytest.fixture
def library(settings, factory):
    return Library(factory.catalog, settings.fixtures_dir, [settings.builtin_scenarios_dir])


def test_every_shipped_scenario_has_an_outline(library):
    for scenario in library:
        steps = outline(scenario)
        assert steps and [s["index"] for s in steps] == list(range(len(steps)))
        assert {s["event_type"] for s in steps if s["kind"] == "emit"} == set(scenario.events)


def test_the_outline_of_web_order(library):
    steps = outline(library.get("web-order"))
    assert [s["text"] for s in steps[:3]] == ["emit OrderReceivedEvent as received for order", "wait 2 s",
                                              "emit OrderConfirmedEvent as confirmed for order"]
    assert steps[5]["text"] == "wait 1 min" and steps[5]["seconds"] == 60
    assert steps[-1]["text"] == "emit InvoiceCaptureCompletedEvent as invoice for order setting State"


def test_branches_are_indented_under_their_choose(library):
    steps = outline(library.get("realistic-day"))
    assert steps[0]["kind"] == "repeat" and steps[0]["depth"] == 0
    assert steps[1]["kind"] == "choose" and steps[1]["depth"] == 1
    assert steps[2] == steps[2] | {"kind": "branch", "depth": 2}
    assert steps[2]["text"].startswith("branch 1: weight 40 (")
    assert steps[3]["depth"] == 3 and steps[3]["kind"] == "emit"


def test_a_run_is_at_its_wait_with_the_time_left(library, factory):
    run = Run(library.get("web-order"), factory, seed=1, time_scale=2.0, start=100.0)
    assert progress(run, 100.0)["state"] == "due"
    assert [e.step for e in run.tick(100.0)] == ["received"]
    at = progress(run, 101.0)
    assert at == {"state": "waiting", "current": 1, "played": [0, 1], "next_at": 104.0, "wait_remaining_s": 3.0}
    run.tick(104.0)  # confirmed, then the 5 s wait (10 s at scale 2)
    at = progress(run, 104.5)
    assert at["current"] == 3 and at["played"] == [0, 1, 2, 3] and at["wait_remaining_s"] == 9.5
    run.tick(10_000.0)
    assert progress(run, 10_000.0) | {"played": None} == {"state": "done", "current": None, "played": None,
                                                          "next_at": None, "wait_remaining_s": None}


def test_only_the_branch_taken_is_played(library, factory):
    run = Run(library.get("realistic-day"), factory, seed=5, time_scale=1.0, start=0.0)
    run.tick(0.0)
    steps = outline(run.scenario)
    played = progress(run, 0.0)["played"]
    taken = [i for i in played if steps[i]["kind"] == "branch"]
    assert len(taken) == 1
