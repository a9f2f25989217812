"""Norce's policy versions (current and legacy), chosen globally and per subscription, kept by
each delivery; the migration that stores it. Real local subscribers, a fake clock."""

from __future__ import annotations

import json
import sqlite3

import pytest

from mock_norce import settings as settings_module
from mock_norce.app import build_outbox
from mock_norce.delivery import policy
from mock_norce.errors import SettingsError, SubscriptionError
from mock_norce.settings import Settings
from mock_norce.storage.database import Database
from mock_norce.storage.deliveries import DeliveryLog
from mock_norce.storage.schema import SCHEMA_VERSION

from .. import servers
from ..servers import answer
from .clocked import NORCE_OFFSETS, FakeClock, run_out

def offsets(d: dict) -> list[float]:
    first = d["attempt_log"][0]["started"]
    return [round(a["started"] - first, 6) for a in d["attempt_log"]]


def test_the_policies_as_data():
    assert tuple(policy.POLICIES) == settings_module.POLICIES  # the settings' names are the policies'
    assert policy.CURRENT.max_attempts == 17 and policy.CURRENT.offsets() == NORCE_OFFSETS
    assert policy.LEGACY.max_attempts == 10 and policy.LEGACY.offsets() == [0] * 10
    assert policy.named(None) is policy.CURRENT and policy.named("legacy") is policy.LEGACY
    assert policy.CURRENT.retried(404, "http_status") and policy.CURRENT.retried(None, "timeout")
    assert policy.LEGACY.retried(500, "http_status") and policy.LEGACY.retried(None, "connection_refused")
    assert not policy.LEGACY.retried(404, "http_status") and not policy.LEGACY.retried(503, "http_status")
    assert not policy.LEGACY.retried(None, "too_many_redirects")  # answers came (redirects): not a 500
    for p in policy.POLICIES.values():
        assert "Norce's guide" in p.source


def test_current_always_500_gets_17_attempts_at_norces_offsets(outbox, serve):
    server = serve(answer(500, b"down"))
    ob = outbox(subscriber_url=server.url)  # the default policy
    _, did = ob.fire("OrderConfirmedEvent", seed=1)
    assert run_out(ob) == 17
    d = ob.delivery(did)
    assert (d["status"], d["attempts"], d["policy"]) == ("dead", 17, "current")
    assert offsets(d) == NORCE_OFFSETS and len(server.requests) == 17


def test_legacy_always_500_gets_10_attempts_without_delay(outbox, serve):
    server = serve(answer(500, b"down"))
    ob = outbox(subscriber_url=server.url, policy="legacy")
    _, did = ob.fire("OrderConfirmedEvent", seed=1)
    start = ob.clock.t
    assert run_out(ob) == 10
    d = ob.delivery(did)
    assert (d["status"], d["attempts"], d["policy"]) == ("dead", 10, "legacy")
    assert offsets(d) == [0] * 10 and ob.clock.t == start  # no delay: the clock never had to move
    assert [a["number"] for a in d["attempt_log"]] == list(range(1, 11)) and len(server.requests) == 10
    assert d["attempt_log"][-1]["error"] == "HTTP 500"  # dead because the tries ran out, not refused


@pytest.mark.parametrize("status", [404, 409, 503])
def test_legacy_anything_but_500_is_dead_after_one_attempt(outbox, serve, status):
    server = serve(answer(status))
    ob = outbox(subscriber_url=server.url, policy="legacy")
    _, did = ob.fire("OrderConfirmedEvent", seed=1)
    assert run_out(ob) == 1
    d = ob.delivery(did)
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("dead", 1, status)
    assert "legacy policy retries only HTTP 500" in d["last_error"]
    assert "legacy policy retries only HTTP 500" in d["attempt_log"][0]["error"]
    # The current policy retries the same answer.
    ob2 = outbox(subscriber_url=server.url)
    _, did2 = ob2.fire("OrderConfirmedEvent", seed=1)
    ob2.dispatcher.run_due()
    assert ob2.delivery(did2)["status"] == "retrying"


def test_legacy_no_answer_is_retried_like_a_500(outbox):
    ob = outbox(subscriber_url=f"http://127.0.0.1:{servers.unused_port()}/", policy="legacy")
    _, did = ob.fire("OrderConfirmedEvent", seed=1)
    assert run_out(ob) == 10
    d = ob.delivery(did)
    assert d["status"] == "dead" and {a["error_class"] for a in d["attempt_log"]} == {"connection_refused"}


def test_legacy_recovers_when_the_subscriber_does(outbox, serve):
    calls = []

    def flaky(req, conn):
        calls.append(1)
        return servers.response(200 if len(calls) >= 3 else 500)
    ob = outbox(subscriber_url=serve(flaky).url, policy="legacy")
    _, did = ob.fire("SkuChangedNotification", seed=2)
    run_out(ob)
    d = ob.delivery(did)
    assert (d["status"], d["attempts"]) == ("delivered", 3)


def test_a_subscriptions_policy_overrides_the_global_one(outbox, serve):
    server = serve(answer(500))
    ob = outbox(subscriber_url=server.url, policy="legacy")
    ob.subscriptions.update("OrderConfirmedEvent", policy="current")
    _, own = ob.fire("OrderConfirmedEvent", seed=1)
    _, other = ob.fire("OrderDeliveredEvent", seed=1)
    run_out(ob)
    assert (ob.delivery(own)["policy"], ob.delivery(own)["attempts"]) == ("current", 17)
    assert (ob.delivery(other)["policy"], ob.delivery(other)["attempts"]) == ("legacy", 10)
    # null: back to the global one
    ob.subscriptions.update("OrderConfirmedEvent", policy=None)
    assert ob.subscriptions.sending("OrderConfirmedEvent").policy == "legacy"

    ob2 = outbox(subscriber_url=server.url)  # and the other way round
    ob2.subscriptions.update("OrderConfirmedEvent", policy="legacy")
    _, did = ob2.fire("OrderConfirmedEvent", seed=1)
    run_out(ob2)
    assert ob2.delivery(did)["attempts"] == 10


def test_a_delivery_keeps_its_policy_when_the_subscription_changes(outbox, serve):
    def change_then_fail(req, conn):
        # The subscription changes while its delivery is in flight (during the first attempt).
        ob.subscriptions.update("OrderConfirmedEvent", policy="current")
        return servers.response(500)
    ob = outbox(subscriber_url=serve(change_then_fail).url)
    ob.subscriptions.update("OrderConfirmedEvent", policy="legacy")
    _, did = ob.fire("OrderConfirmedEvent", seed=1)
    run_out(ob)
    d = ob.delivery(did)
    assert (d["policy"], d["attempts"], offsets(d)) == ("legacy", 10, [0] * 10)
    # A redelivery repeats the same request, policy included; a new event takes the new policy.
    again = ob.redeliver(did)
    _, new = ob.fire("OrderConfirmedEvent", seed=2)
    assert ob.delivery(again)["policy"] == "legacy" and ob.delivery(new)["policy"] == "current"


def test_a_policy_survives_a_restart(settings, factory, serve, tmp_path):
    server = serve(answer(500))
    path = str(tmp_path / "log.db")
    ob = build_outbox(settings.with_(subscriber_url=server.url, policy="legacy"), database=path,
                      clock=FakeClock(), factory=factory)
    _, did = ob.fire("OrderConfirmedEvent", seed=1)
    ob.store.close()
    ob = build_outbox(settings.with_(subscriber_url=server.url), database=path, clock=FakeClock(),
                      factory=factory)
    try:
        assert ob.store.job(did).policy == "legacy"  # read back from the file: the new global is current
    finally:
        ob.store.close()


@pytest.mark.parametrize("bad", [{"policy": "middle"}, {"policy": "Current"}, {"policy": 1}])
def test_a_bad_policy_is_refused_naming_the_field(outbox, bad):
    ob = outbox()
    with pytest.raises(SubscriptionError, match="policy must be one of current, legacy") as caught:
        ob.subscriptions.update("OrderConfirmedEvent", **bad)
    assert caught.value.field == "policy"
    assert ob.subscriptions.get("OrderConfirmedEvent").policy is None  # nothing changed


def test_the_global_policy_setting():
    assert Settings.from_env({"MOCK_NORCE_POLICY": "legacy"}).policy == "legacy"
    assert Settings().policy == "current"
    with pytest.raises(SettingsError, match="MOCK_NORCE_POLICY must be current or legacy"):
        Settings.from_env({"MOCK_NORCE_POLICY": "middle"})


def test_a_config_file_sets_a_policy(settings, factory, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("subscriptions:\n  OrderConfirmedEvent: {policy: legacy}\n")
    ob = build_outbox(settings.with_(config_file=config), database=":memory:", factory=factory)
    try:
        assert ob.subscriptions.sending("OrderConfirmedEvent").policy == "legacy"
        assert ob.subscriptions.sending("OrderDeliveredEvent").policy == "current"
    finally:
        ob.store.close()
    config.write_text("subscriptions:\n  OrderConfirmedEvent: {policy: newest}\n")
    with pytest.raises(SubscriptionError, match="policy must be"):
        build_outbox(settings.with_(config_file=config), database=":memory:", factory=factory)


def test_a_version_3_file_is_migrated_its_deliveries_current(tmp_path):
    path = tmp_path / "v3.sqlite"
    log = DeliveryLog(Database(path))
    body = json.dumps({"OrderNo": "SO-3"}).encode()
    log.add_events([("OrderConfirmedEvent", body, True, None, "http://x/", {}, 1.0, 1.0)], 1.0)
    log.close()
    old = sqlite3.connect(path, isolation_level=None)  # back to version 3: without the columns
    for column in ("policy", "content_type", "redirect_headers"):
        old.execute(f"ALTER TABLE deliveries DROP COLUMN {column}")
    old.execute("PRAGMA user_version=3")
    old.close()
    log = DeliveryLog(Database(path))
    try:
        assert log._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        d = log.delivery(1)
        assert (d["policy"], d["content_type"], d["redirect_headers"]) == ("current", "application/json", "origin")
        job = log.job(1)
        assert (job.policy, job.content_type, job.redirect_headers) == ("current", "application/json", "origin")
    finally:
        log.close()


def test_cli_fire_under_the_legacy_policy(serve):
    from ..cli.test_cli import run

    down, missing = serve(answer(500)), serve(answer(404))
    out = run("fire", "JobCompletedEvent", "--url", down.url, env={"MOCK_NORCE_POLICY": "legacy"})
    assert out.returncode == 1, out.stderr
    assert out.stdout.count("HTTP 500") == 10 and len(down.requests) == 10
    assert out.stdout.splitlines()[-1] == "dead after 10 attempt(s) of 10 (Norce's legacy policy)"
    out = run("fire", "JobCompletedEvent", "--url", missing.url, env={"MOCK_NORCE_POLICY": "legacy"})
    assert out.returncode == 1 and len(missing.requests) == 1
    assert "(HTTP 404 (not retried: the legacy policy retries only HTTP 500))  -> dead" in out.stdout
    out = run("fire", "JobCompletedEvent", "--url", missing.url, env={"MOCK_NORCE_POLICY": "newest"})
    assert out.returncode == 2 and "MOCK_NORCE_POLICY must be current or legacy" in out.stderr


def test_legacy_on_the_real_timer_makes_its_10_tries_at_once(settings, factory, serve):
    # The dispatcher's own threads and clock: retries due "now" go without a wait.
    server = serve(answer(500))
    ob = build_outbox(settings.with_(subscriber_url=server.url, policy="legacy"), database=":memory:",
                      factory=factory)
    ob.start()
    try:
        _, did = ob.fire("OrderConfirmedEvent", seed=1)
        d = ob.wait(did, timeout=20)
        assert (d["status"], d["attempts"]) == ("dead", 10) and len(server.requests) == 10
    finally:
        ob.stop(grace=0.3)
