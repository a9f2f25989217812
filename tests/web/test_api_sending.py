"""The API and UI of how events are sent: a subscription's policy, Content-Type, redirect header
rule and omitted fields (PUT /api/subscriptions/{type}, the Subscriptions form), and the
delivery's view of the policy it keeps."""

from __future__ import annotations

import json

import pytest


def confirmed(client) -> dict:
    """The OrderConfirmedEvent subscription as GET /api/subscriptions lists it."""
    listed = client.get("/api/subscriptions").get_json()["subscriptions"]
    return next(s for s in listed if s["event_type"] == "OrderConfirmedEvent")


def test_put_a_subscriptions_sending_settings_and_read_them_back(client):
    resp = client.put("/api/subscriptions/OrderConfirmedEvent", json={
        "policy": "legacy", "content_type": "application/json; charset=utf-8", "redirect_headers": "dotnet",
        "omit": ["CellPhone"]})
    assert resp.status_code == 200, resp.get_json()
    sub = resp.get_json()
    assert (sub["policy"], sub["content_type"], sub["redirect_headers"], sub["omit"]) == (
        "legacy", "application/json; charset=utf-8", "dotnet", ["CellPhone"])
    assert sub["effective"] == {"policy": "legacy", "content_type": "application/json; charset=utf-8",
                                "redirect_headers": "dotnet"}
    assert sub["optional_fields"] == ["CellPhone", "FirstName", "LastName"]
    listed = {s["event_type"]: s for s in client.get("/api/subscriptions").get_json()["subscriptions"]}
    assert listed["OrderConfirmedEvent"]["policy"] == "legacy"
    assert listed["OrderDeliveredEvent"]["policy"] is None
    assert listed["OrderDeliveredEvent"]["effective"]["policy"] == "current"  # the global one
    # The delivery keeps and shows what it was created under.
    fired = client.post("/api/events/OrderConfirmedEvent?wait=5", json={"seed": 4}).get_json()
    d = fired["delivery"]
    assert (d["policy"], d["content_type"], d["redirect_headers"]) == (
        "legacy", "application/json; charset=utf-8", "dotnet")
    assert "CellPhone" not in json.loads(d["body"])
    page = client.get(f"/deliveries/{d['id']}").get_data(as_text=True)
    assert "1 of 10 attempts made" in page and "<strong>legacy</strong> policy" in page
    assert "Content-Type: application/json; charset=utf-8" in page
    # null: back to the global settings
    sub = client.put("/api/subscriptions/OrderConfirmedEvent", json={"policy": None, "omit": None}).get_json()
    assert sub["policy"] is None and sub["omit"] == [] and sub["effective"]["policy"] == "current"
    d = client.post("/api/events/OrderConfirmedEvent?wait=5", json={"seed": 4}).get_json()["delivery"]
    page = client.get(f"/deliveries/{d['id']}").get_data(as_text=True)
    assert "1 of 17 attempts made" in page and "<strong>current</strong> policy" in page


@pytest.mark.parametrize("body, words", [
    ({"policy": "middle"}, "policy must be one of current, legacy"),
    ({"content_type": "text/plain"}, "content_type must be one of application/json, application/json; charset=utf-8"),
    ({"redirect_headers": "keep"}, "redirect_headers must be one of origin, dotnet"),
])
def test_bad_values_are_422_naming_the_field(client, body, words):
    resp = client.put("/api/subscriptions/OrderConfirmedEvent", json=body)
    assert resp.status_code == 422 and words in resp.get_json()["message"]
    assert confirmed(client)["policy"] is None


@pytest.mark.parametrize("body, where", [({"omit": "CellPhone"}, "$.omit"), ({"policy": 1}, "$.policy")])
def test_wrong_json_types_are_400_naming_the_field(client, body, where):
    resp = client.put("/api/subscriptions/OrderConfirmedEvent", json=body)
    assert resp.status_code == 400 and where in resp.get_json()["message"]


@pytest.mark.parametrize("omit, words", [(["OrderId"], "omit: OrderId is required"),
                                         (["Nickname"], "has no field 'Nickname'")])
def test_omit_of_a_required_or_unknown_field_is_422_naming_it(client, omit, words):
    resp = client.put("/api/subscriptions/OrderConfirmedEvent", json={"omit": omit})
    assert resp.status_code == 422 and words in resp.get_json()["message"]
    assert confirmed(client)["omit"] == []


def test_the_ui_form_sets_and_shows_the_sending_settings(client):
    page = client.get("/subscriptions").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    resp = client.post("/subscriptions/OrderConfirmedEvent", data={
        "csrf_token": token, "enabled": "on", "url": "", "headers": "", "policy": "legacy",
        "content_type": "application/json; charset=utf-8", "redirect_headers": "dotnet",
        "posted": ["FirstName", "LastName"]})  # CellPhone unticked: omitted
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    sub = confirmed(client)
    assert (sub["policy"], sub["content_type"], sub["redirect_headers"], sub["omit"]) == (
        "legacy", "application/json; charset=utf-8", "dotnet", ["CellPhone"])
    page = client.get("/subscriptions").get_data(as_text=True)
    form = page.split('id="sub-OrderConfirmedEvent"')[1].split("</form>")[0]
    assert '<option value="legacy" selected>' in form and '<option value="dotnet" selected>' in form
    assert 'value="CellPhone" checked' not in form and 'value="FirstName" checked' in form
    # The global choice again: the empty option.
    client.post("/subscriptions/OrderConfirmedEvent", data={
        "csrf_token": token, "enabled": "on", "policy": "", "content_type": "", "redirect_headers": "",
        "posted": ["CellPhone", "FirstName", "LastName"]})
    sub = confirmed(client)
    assert (sub["policy"], sub["content_type"], sub["redirect_headers"], sub["omit"]) == (None, None, None, [])


def test_the_ui_form_refuses_a_bad_policy_at_its_field(client):
    page = client.get("/subscriptions").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    resp = client.post("/subscriptions/OrderConfirmedEvent", data={
        "csrf_token": token, "enabled": "on", "policy": "middle"})
    assert resp.status_code == 422
    assert "policy must be one of current, legacy" in resp.get_data(as_text=True)


def test_the_subscription_snippet_carries_the_sending_settings_that_are_set():
    from mock_norce.web import snippets

    s = snippets.subscription("http://127.0.0.1:8080", "OrderConfirmedEvent", None, {}, True, False,
                              {"policy": "legacy", "content_type": None, "redirect_headers": "dotnet",
                               "omit": ["CellPhone", "LastName"]})
    body = json.loads(s.curl.rsplit("-d ", 1)[1].strip("'"))
    assert body == {"url": None, "headers": {}, "enabled": True, "policy": "legacy", "redirect_headers": "dotnet",
                    "omit": ["CellPhone", "LastName"]}
    assert "--policy legacy --redirect-headers dotnet --omit CellPhone --omit LastName" in s.cli
    assert "policy='legacy', redirect_headers='dotnet', omit=['CellPhone', 'LastName'])" in s.pytest
    compile(s.pytest, "snippet", "exec")
    plain = snippets.subscription("http://127.0.0.1:8080", "OrderConfirmedEvent", None, {}, True)
    assert "policy" not in plain.curl and "--policy" not in plain.cli
