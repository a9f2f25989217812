"""How a delivery is sent, beyond the policy: the Content-Type, the static headers on a redirect
(today's origin rule and .NET's), and the optional fields a subscription never posts. Real
local servers; the settings globally and per subscription."""

from __future__ import annotations

import json
import textwrap

import pytest

from mock_norce.app import build_outbox
from mock_norce.delivery.http_client import Sender
from mock_norce.errors import SettingsError, SubscriptionError
from mock_norce.settings import Settings

from ..servers import answer

BODY = b'{"ClientId":1042,"OrderId":1}'
STATIC = {"Authorization": "Bearer s3cret", "X-Api-Key": "k3y", "x-norce-event-type": "T"}


@pytest.fixture
def sender():
    s = Sender("mock-norce/test", timeout=5.0)
    yield s
    s.close()


# --- Content-Type ------------------------------------------------------------------------------

def test_the_content_type_is_application_json_by_default_or_dotnets(sender, serve):
    server = serve(answer(200))
    assert sender.post(server.url, BODY, {}).ok
    assert sender.post(server.url, BODY, {}, content_type="application/json; charset=utf-8").ok
    assert [r.headers["content-type"] for r in server.requests] == ["application/json",
                                                                    "application/json; charset=utf-8"]


def test_content_type_globally_and_per_subscription(outbox, serve):
    server = serve(answer(200))
    ob = outbox(subscriber_url=server.url, content_type="application/json; charset=utf-8")
    ob.subscriptions.update("OrderDeliveredEvent", content_type="application/json")
    _, a = ob.fire("OrderConfirmedEvent", seed=1)
    _, b = ob.fire("OrderDeliveredEvent", seed=1)
    ob.dispatcher.run_due()
    assert sorted(r.headers["content-type"] for r in server.requests) == ["application/json",
                                                                          "application/json; charset=utf-8"]
    assert ob.delivery(a)["content_type"] == "application/json; charset=utf-8"
    assert ob.delivery(b)["content_type"] == "application/json"


@pytest.mark.parametrize("bad", ["text/plain", "application/json;charset=utf-8", "APPLICATION/JSON", ""])
def test_only_the_two_content_types_are_allowed(outbox, bad):
    with pytest.raises(SubscriptionError, match="content_type must be one of") as caught:
        outbox().subscriptions.update("OrderConfirmedEvent", content_type=bad)
    assert caught.value.field == "content_type"
    with pytest.raises(SettingsError, match="MOCK_NORCE_CONTENT_TYPE must be"):
        Settings(content_type=bad)


# --- redirect header rules ---------------------------------------------------------------------

def redirect_pair(serve, status=307):
    """(first, other): first answers with a redirect to other, another origin; other accepts."""
    other = serve(answer(200))
    first = serve(lambda req, conn: answer(status, headers={"Location": other.url + "/landing"})(req, conn)
                  if req.path == "/start" else answer(200)(req, conn))
    return first, other


def test_origin_rule_drops_every_static_header_off_origin(sender, serve):
    first, other = redirect_pair(serve)
    assert sender.post(first.url + "/start", BODY, STATIC, redirect_headers="origin").ok
    assert first.requests[0].headers["authorization"] == "Bearer s3cret"
    seen = other.requests[0].headers
    assert not {"authorization", "x-api-key", "x-norce-event-type"} & seen.keys()
    assert other.requests[0].body == BODY


def test_dotnet_rule_drops_authorization_and_keeps_the_rest_off_origin(sender, serve):
    first, other = redirect_pair(serve)
    out = sender.post(first.url + "/start", BODY, STATIC, redirect_headers="dotnet",
                      content_type="application/json; charset=utf-8")
    assert out.ok
    seen = other.requests[0].headers
    assert "authorization" not in seen
    assert (seen["x-api-key"], seen["x-norce-event-type"]) == ("k3y", "T")
    assert seen["content-type"] == "application/json; charset=utf-8"  # a 307 keeps the body and its type


def test_dotnet_rule_drops_authorization_on_a_same_origin_redirect_too(sender, serve):
    def same(req, conn):
        if req.path == "/start":
            return answer(308, headers={"Location": "/landing"})(req, conn)
        return answer(200)(req, conn)
    server = serve(same)
    assert sender.post(server.url + "/start", BODY, STATIC, redirect_headers="dotnet").ok
    first, landing = server.requests
    assert first.headers["authorization"] == "Bearer s3cret" and "authorization" not in landing.headers
    assert landing.headers["x-api-key"] == "k3y"
    # The origin rule keeps them all on the same origin.
    server.requests.clear()
    assert sender.post(server.url + "/start", BODY, STATIC, redirect_headers="origin").ok
    assert server.requests[1].headers["authorization"] == "Bearer s3cret"


def test_dotnet_rule_on_a_302_the_get_keeps_the_other_headers(sender, serve):
    first, other = redirect_pair(serve, status=302)
    out = sender.post(first.url + "/start", BODY, STATIC, redirect_headers="dotnet")
    assert out.ok and out.method == "GET"
    seen = other.requests[0]
    assert seen.method == "GET" and seen.body == b"" and "content-type" not in seen.headers
    assert "authorization" not in seen.headers and seen.headers["x-api-key"] == "k3y"


def test_redirect_rule_globally_and_per_subscription_through_the_outbox(outbox, serve):
    first, other = redirect_pair(serve)
    ob = outbox(redirect_headers="dotnet")
    for t in ("OrderConfirmedEvent", "OrderDeliveredEvent"):
        ob.subscriptions.update(t, url=first.url + "/start", headers=STATIC)
    ob.subscriptions.update("OrderDeliveredEvent", redirect_headers="origin")
    _, a = ob.fire("OrderConfirmedEvent", seed=1)
    _, b = ob.fire("OrderDeliveredEvent", seed=1)
    ob.dispatcher.run_due()
    assert ob.delivery(a)["status"] == ob.delivery(b)["status"] == "delivered"
    kept = sorted("x-api-key" in r.headers for r in other.requests)
    assert kept == [False, True]  # dotnet kept the key, origin dropped it
    assert not any("authorization" in r.headers for r in other.requests)
    assert (ob.delivery(a)["redirect_headers"], ob.delivery(b)["redirect_headers"]) == ("dotnet", "origin")


def test_a_bad_redirect_rule_is_refused(outbox):
    with pytest.raises(SubscriptionError, match="redirect_headers must be one of origin, dotnet"):
        outbox().subscriptions.update("OrderConfirmedEvent", redirect_headers="curl")
    with pytest.raises(SettingsError, match="MOCK_NORCE_REDIRECT_HEADERS must be origin or dotnet"):
        Settings.from_env({"MOCK_NORCE_REDIRECT_HEADERS": "keep"})


# --- the optional fields a subscription never posts (Norce's "metadata selection") --------------

def test_omitted_optional_fields_are_never_posted_and_the_body_stays_valid(outbox, serve, factory):
    server = serve(answer(200))
    ob = outbox(subscriber_url=server.url)
    sub = ob.subscriptions.update("OrderConfirmedEvent", omit=["CellPhone", "LastName"])
    assert sub.omit == ("CellPhone", "LastName")
    payload, did = ob.fire("OrderConfirmedEvent", seed=7, overrides={"CellPhone": "+46701234567"})
    _, other = ob.fire("OrderDeliveredEvent", seed=7)
    ob.dispatcher.run_due()
    assert "CellPhone" not in payload.body  # overridden, but the answer shows the payload as posted ...
    sent = json.loads(ob.delivery(did)["body"])
    assert not {"CellPhone", "LastName"} & sent.keys()  # ... and it was not posted
    assert sent == {k: v for k, v in payload.body.items() if k not in ("CellPhone", "LastName")}
    assert factory.validate("OrderConfirmedEvent", sent) == []
    assert "LastName" in json.loads(ob.delivery(other)["body"])  # another type: untouched
    assert {json.loads(r.body).get("LastName") is None for r in server.requests} == {True, False}
    # omit [] (or null) posts everything again
    ob.subscriptions.update("OrderConfirmedEvent", omit=None)
    _, again = ob.fire("OrderConfirmedEvent", seed=7)
    assert "LastName" in json.loads(ob.delivery(again)["body"])


def test_omit_applies_to_scenario_runs_too(settings, factory, serve):
    from mock_norce.app import build_library, build_runs

    server = serve(answer(200))
    ob = build_outbox(settings.with_(subscriber_url=server.url), database=":memory:", factory=factory)
    ob.start()
    runs = build_runs(ob, build_library(settings, factory.catalog))
    runs.start()
    try:
        for t in ob.subscriptions.all():
            optional = ob.subscriptions.optional_fields(t.event_type)
            if optional:
                ob.subscriptions.update(t.event_type, omit=optional)
        run = runs.start_run("web-order", seed=3, time_scale=0)
        done = runs.wait(run["id"], 30)
        assert done["status"] == "completed", done
        items, _ = ob.store.deliveries(run_id=run["id"], limit=100)
        assert items
        for d in items:
            sent = json.loads(d["body"])
            assert not set(ob.subscriptions.optional_fields(d["event_type"])) & sent.keys(), d["event_type"]
            assert factory.validate(d["event_type"], sent) == []
    finally:
        runs.stop()
        ob.stop(grace=0.3)


@pytest.mark.parametrize("omit, words", [
    (["OrderId"], "OrderId is required in OrderConfirmedEvent"),
    (["Nickname"], "OrderConfirmedEvent has no field 'Nickname'; its optional fields are CellPhone, FirstName, LastName"),
    ("CellPhone", "omit must be a list of field names"),
    ([1], "omit must be a list of field names"),
])
def test_omit_refuses_a_required_or_unknown_field_naming_it(outbox, omit, words):
    ob = outbox()
    with pytest.raises(SubscriptionError, match=words) as caught:
        ob.subscriptions.update("OrderConfirmedEvent", omit=omit)
    assert caught.value.field == "omit"
    assert ob.subscriptions.get("OrderConfirmedEvent").omit == ()


def test_the_readmes_subscription_config_loads_as_it_says(settings, factory, tmp_path):
    from ..conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [block] = [b.split("```", 1)[0] for b in readme.split("```yaml\n")[1:] if "policy: legacy" in b.split("```", 1)[0]]
    config = tmp_path / "c.yaml"
    config.write_text(textwrap.dedent(block))  # the block is indented in a list item
    ob = build_outbox(settings.with_(config_file=config), database=":memory:", factory=factory)
    try:
        sub = ob.subscriptions.get("OrderConfirmedEvent")
        assert (sub.policy, sub.content_type, sub.redirect_headers, sub.omit) == (
            "legacy", "application/json; charset=utf-8", "dotnet", ("CellPhone", "LastName"))
        assert not ob.subscriptions.get("SkuChangedNotification").enabled
    finally:
        ob.store.close()


def test_dotnet_rule_does_not_follow_a_redirect_from_https_to_http():
    """.NET's handler returns an https->http redirect as the answer: no static header in clear."""
    from mock_norce.delivery.policy import follow

    assert follow("https://shop.example/hook", "POST", 302, "http://shop.example/hook", header_rule="dotnet") is None
    kept = follow("https://shop.example/hook", "POST", 308, "https://other.example/hook", header_rule="dotnet")
    assert kept.keep_headers and kept.drop_authorization and kept.method == "POST"
    dropped = follow("https://shop.example/hook", "POST", 302, "http://shop.example/hook")  # the origin rule
    assert dropped.method == "GET" and not dropped.keep_headers


def test_the_fire_answer_shows_the_payload_as_posted_without_the_omitted_fields(outbox, serve):
    server = serve(answer(200))
    ob = outbox(subscriber_url=server.url)
    ob.subscriptions.update("OrderConfirmedEvent", omit=["CellPhone", "LastName"])
    payload, did = ob.fire("OrderConfirmedEvent", seed=3)
    assert "CellPhone" not in payload.body and "LastName" not in payload.body
    assert payload.to_bytes() == ob.store.delivery(did)["body"].encode()
