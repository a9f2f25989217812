"""Scenarios: the shipped library plays end to end, broken files are reported with file and
line, runs are reproducible, several run at once, and a run can be cancelled."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker


from mock_norce.app import build_outbox, build_runs
from mock_norce.errors import RunConflict, RunNotFound, ScenarioErrors, UnknownScenario
from mock_norce.scenarios.library import Library, load_scenario

from ..servers import answer

ORDER_KEYS = ("OrderId", "OrderNo", "ClientOrderRef", "FirstName", "LastName", "CellPhone")


@pytest.fixture
def library(settings, factory):
    return Library(factory.catalog, settings.fixtures_dir, [settings.builtin_scenarios_dir])


@pytest.fixture
def runner(settings, factory, library):
    made = []

    def make(url, lib=None, **changes):
        outbox = build_outbox(settings.with_(subscriber_url=url, **changes), database=":memory:",
                                      factory=factory)
        runs = build_runs(outbox, lib or library)
        outbox.start()
        runs.start()
        made.append((outbox, runs))
        return runs
    yield make
    for outbox, runs in made:
        runs.stop()
        outbox.stop(grace=1)


def test_library_loads_without_problems_and_covers_all_19_types(library, factory):
    assert library.problems == []
    names = {s.name for s in library}
    assert {"web-order", "invoice-capture-error", "order-cancelled", "click-and-collect", "marketplace-order",
            "pos-order", "subscription-renewal-failure", "price-list-update", "stock-breakpoint",
            "product-enrichment", "supplier-feed", "customer-changes", "nightly-jobs", "realistic-day"} <= names
    covered = {t for s in library for t in s.events}
    assert covered == set(factory.catalog.names()) and len(covered) == 19


def test_every_shipped_scenario_plays_to_completion_and_every_payload_validates(runner, serve, library, factory):
    server = serve(answer(204))
    runs = runner(server.url, time_scale=0)
    started = {s.name: runs.start_run(s.name, seed=11)["id"] for s in library}
    seen_types = set()
    for name, run_id in started.items():
        run = runs.wait(run_id, 30)
        assert run["status"] == "completed", (name, run)
        assert run["events"] > 0 and run["deliveries"]["delivered"] == run["events"], run
    validators = {et.name: Draft202012Validator(et.schema, format_checker=FormatChecker()) for et in factory.catalog}
    for req in server.requests:
        body = json.loads(req.body)
        matches = [t for t, v in validators.items() if v.is_valid(body)]
        assert matches, body  # every body is a valid payload of some Norce type
        seen_types.update(matches)
    assert len(server.requests) == sum(runs.get(r)["events"] for r in started.values())


def test_web_order_sends_one_order_in_the_scripted_order(runner, serve):
    server = serve(answer(200))
    runs = runner(server.url, time_scale=0.001)
    run = runs.wait(runs.start_run("web-order", seed=5)["id"], 20)
    assert run["status"] == "completed" and run["events"] == 6
    bodies = [json.loads(r.body) for r in server.requests]
    shapes = [("State" in b, "PaymentCode" in b, "Email" in b or "OrderId" not in b) for b in bodies]
    assert len(bodies) == 6 and shapes[-1][0] and shapes[2][1]  # paid 3rd, invoice last
    orders = [b for b in bodies if "OrderId" in b]
    assert len(orders) == 3  # confirmed, partly delivered, delivered
    for key in ORDER_KEYS:
        assert len({b.get(key) for b in orders}) == 1, key
    received, paid = bodies[0], bodies[2]
    assert received["ClientOrderRef"] == orders[0]["ClientOrderRef"] == paid["ClientOrderRef"]
    assert paid["ErpOrderNo"] == orders[0]["OrderNo"]
    assert received.get("FirstName") == orders[0].get("FirstName")
    assert {b["ApplicationId"] for b in bodies} == {orders[0]["ApplicationId"]}
    assert orders[0]["Source"] == "WEB"


def test_same_seed_same_bytes(runner, serve):
    a, b = serve(answer(200)), serve(answer(200))
    for server in (a, b):
        runs = runner(server.url, time_scale=0)
        for name in ("realistic-day", "order-cancelled", "price-list-update"):
            assert runs.wait(runs.start_run(name, seed=2024)["id"], 30)["status"] == "completed"
    assert [r.body for r in a.requests] == [r.body for r in b.requests]
    assert len(a.requests) > 500
    c = serve(answer(200))
    runs = runner(c.url, time_scale=0)
    runs.wait(runs.start_run("order-cancelled", seed=2025)["id"], 10)
    assert [r.body for r in c.requests] != [r.body for r in a.requests][-len(c.requests):]


def test_runs_in_parallel_and_cancel(runner, serve):
    server = serve(answer(200))
    runs = runner(server.url, time_scale=0.5)
    slow = runs.start_run("web-order", seed=1)  # waits 2 s x 0.5 after its first event
    quick = [runs.start_run("pos-order", seed=i, time_scale=0.01) for i in range(3)]
    for q in quick:
        assert runs.wait(q["id"], 10)["status"] == "completed"
    assert runs.get(slow["id"])["status"] == "running"
    cancelled = runs.cancel(slow["id"])
    assert cancelled["status"] == "cancelled" and cancelled["events"] == 1
    time.sleep(1.2)  # past the moment its second event was due
    assert runs.get(slow["id"])["events"] == 1  # nothing more was played
    with pytest.raises(RunConflict, match="already cancelled"):
        runs.cancel(slow["id"])
    with pytest.raises(RunNotFound):
        runs.get("nope")
    with pytest.raises(UnknownScenario, match="unknown scenario 'no-such'"):
        runs.start_run("no-such")


def test_a_step_the_schema_refuses_fails_the_run(runner, serve, settings, factory, tmp_path):
    (tmp_path / "bad-override.yaml").write_text(
        "format: 1\nname: bad-override\nentities: {order: {kind: order}}\n"
        "steps:\n  - {emit: OrderConfirmedEvent, for: order}\n"
        "  - {emit: OrderConfirmedEvent, for: order, set: {OrderId: not-a-number}}\n")
    runs = runner(serve(answer(200)).url, Library(factory.catalog, settings.fixtures_dir, [tmp_path]))
    run = runs.wait(runs.start_run("bad-override", seed=1)["id"], 10)
    assert run["status"] == "failed" and run["events"] == 1
    assert "line 6" in run["error"] and "$.OrderId" in run["error"]


BROKEN = {
    "syntax": ("format: 1\nname: x\nsteps:\n  - emit: [OrderConfirmedEvent\n", 4, "YAML syntax error"),
    "unknown-type": ("format: 1\nname: x\nsteps:\n  - emit: OrderShippedEvent\n", 4, "unknown event type 'OrderShippedEvent'"),
    "unknown-entity": ("format: 1\nname: x\nsteps:\n  - emit: OrderConfirmedEvent\n    for: basket\n", 5, "unknown entity 'basket'"),
    "bad-reference": ("format: 1\nname: x\nentities: {order: {kind: order}}\nsteps:\n  - emit: OrderConfirmedEvent\n"
                      "    for: order\n    set: {OrderNo: '${nowhere:OrderNo}'}\n", 7, "unresolvable reference ${nowhere:OrderNo}"),
    "later-step": ("format: 1\nname: x\nsteps:\n  - emit: OrderConfirmedEvent\n    set: {OrderNo: '${b:OrderNo}'}\n"
                   "  - {name: b, emit: OrderConfirmedEvent}\n", 5, "has not surely run"),
    "bad-field-reference": ("format: 1\nname: x\nsteps:\n  - {name: a, emit: JobCompletedEvent}\n"
                            "  - emit: OrderConfirmedEvent\n    set: {OrderNo: '${a:OrderNo}'}\n", 6, "has no field 'OrderNo'"),
    "bad-duration": ("format: 1\nname: x\nsteps:\n  - emit: OrderConfirmedEvent\n  - wait: soon\n", 5, "'soon' is not a duration"),
    "weight": ("format: 1\nname: x\nsteps:\n  - choose:\n      - weight: 0\n        steps: [{emit: JobCompletedEvent}]\n", 5, "weight must be positive"),
    "negative-weight": ("format: 1\nname: x\nsteps:\n  - choose:\n      - {weight: -3, steps: [{emit: JobCompletedEvent}]}\n", 5, "weight must be positive"),
    "version": ("format: 2\nname: x\nsteps:\n  - emit: JobCompletedEvent\n", 1, "unsupported format version 2"),
    "kind": ("format: 1\nname: x\nentities: {sku: {kind: sku}}\nsteps:\n  - {emit: OrderConfirmedEvent, for: sku}\n", 5, "is about a order, but 'sku' is a sku"),
    "two-kinds": ("format: 1\nname: x\nsteps:\n  - {emit: JobCompletedEvent, wait: 1s}\n", 4, "exactly one of"),
    "unknown-key": ("format: 1\nname: x\nsteps:\n  - {emit: JobCompletedEvent, colour: red}\n", 4, "unknown key(s) colour"),
    "bad-set-field": ("format: 1\nname: x\nsteps:\n  - emit: JobCompletedEvent\n    set:\n      Colour: red\n", 6, "has no field 'Colour'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_files_are_reported_with_file_and_line(tmp_path, settings, factory, case):
    text, line, fragment = BROKEN[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioErrors) as err:
        load_scenario(path, factory.catalog, settings.fixtures_dir)
    rendered = [str(p) for p in err.value.problems]
    assert any(r.startswith(f"{path}:{line}: ") and fragment in r for r in rendered), rendered



def test_a_file_is_parsed_once_and_safely(tmp_path, settings, factory, monkeypatch):
    import yaml

    parses = []
    original = yaml.SafeLoader.get_single_node
    monkeypatch.setattr(yaml.SafeLoader, "get_single_node", lambda self: parses.append(1) or original(self))
    monkeypatch.setattr(yaml, "compose", None)  # a second reading of the text would fail here
    monkeypatch.setattr(yaml, "safe_load", None)
    path = tmp_path / "once.yaml"
    path.write_text("format: 1\nname: once\nsteps:\n  - emit: JobCompletedEvent\n")
    assert load_scenario(path, factory.catalog, settings.fixtures_dir).name == "once" and parses == [1]
    for text in ("format: 1\nname: !!python/object:os.system x\nsteps: []\n", "format: 1\n---\nname: x\n"):
        path.write_text(text)
        with pytest.raises(ScenarioErrors, match="YAML"):
            load_scenario(path, factory.catalog, settings.fixtures_dir)

def test_all_problems_of_a_file_at_once(tmp_path, settings, factory):
    path = tmp_path / "many.yaml"
    path.write_text("format: 1\nname: many\nsteps:\n  - emit: Nope\n  - wait: never\n  - emit: JobCompletedEvent\n"
                    "    for: ghost\n")
    with pytest.raises(ScenarioErrors) as err:
        load_scenario(path, factory.catalog, settings.fixtures_dir)
    lines = sorted(p.line for p in err.value.problems)
    assert lines == [4, 5, 7]


def test_one_bad_user_file_does_not_stop_the_others(tmp_path, settings, factory):
    (tmp_path / "good.yaml").write_text("format: 1\nname: good\nsteps: [{emit: JobCompletedEvent}]\n")
    (tmp_path / "bad.yaml").write_text("format: 1\nname: bad\nsteps: [{emit: Nope}]\n")
    (tmp_path / "clash.yaml").write_text("format: 1\nname: web-order\nsteps: [{emit: JobCompletedEvent}]\n")
    library = Library(factory.catalog, settings.fixtures_dir, [settings.builtin_scenarios_dir, tmp_path])
    assert "good" in library.scenarios and "bad" not in library.scenarios
    assert library.get("web-order").path.parent == Path(settings.builtin_scenarios_dir)
    problems = "\n".join(map(str, library.problems))
    assert "bad.yaml:3: unknown event type 'Nope'" in problems and "already taken" in problems


def test_the_documented_example_loads_and_plays(tmp_path, settings, factory, serve, runner):
    from ..conftest import ROOT

    text = (ROOT / "docs/scenarios.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.yaml").write_text(example)
    library = Library(factory.catalog, settings.fixtures_dir, [tmp_path])
    assert library.problems == []
    server = serve(answer(200))
    runs = runner(server.url, library, time_scale=0)
    run = runs.wait(runs.start_run("refund-after-partial-delivery", seed=3)["id"], 10)
    assert run["status"] == "completed" and run["events"] == 11
    paid = json.loads(server.requests[2].body)
    confirmed = json.loads(server.requests[1].body)
    assert paid["Amount"] == 1499.0 and paid["PaymentRef"] == f"refund-test-{confirmed['OrderNo']}"
