"""The default subscriber URL through the API (issue 14): read it, change it (checked like
every subscriber URL, secrets masked and kept when sent back masked), and reset brings back
the configured one."""

from __future__ import annotations

from ..servers import answer


def test_the_default_url_is_read_changed_and_reset(client, subscriber, serve):
    configured = client.get("/api/subscriptions/default").get_json()["url"]
    assert configured == subscriber.url
    other = serve(answer(200, b"ok"))
    resp = client.put("/api/subscriptions/default", json={"url": other.url + "/hook"})
    assert resp.status_code == 200 and resp.get_json() == {"url": other.url + "/hook"}
    assert client.get("/api/subscriptions").get_json()["default_url"] == other.url + "/hook"
    fired = client.post("/api/events/OrderConfirmedEvent?wait=5", json={}).get_json()
    assert fired["delivery"]["url"] == other.url + "/hook" and len(other.requests) == 1
    client.post("/api/reset", json={})
    assert client.get("/api/subscriptions/default").get_json()["url"] == configured


def test_a_bad_default_url_is_a_422_that_changes_nothing(client, subscriber):
    for bad in ("ftp://x.example/", "not a url", "http://169.254.169.254/latest"):
        resp = client.put("/api/subscriptions/default", json={"url": bad})
        assert resp.status_code == 422, bad
        assert resp.get_json()["error"] == "bad_subscription" and "default subscriber URL" in resp.get_json()["message"]
    for body in ({}, {"url": ""}, {"url": None}, {"url": "http://x.example", "extra": 1}):
        assert client.put("/api/subscriptions/default", json=body).status_code in (400, 422), body
    assert client.get("/api/subscriptions/default").get_json()["url"] == subscriber.url


def test_a_secret_in_the_default_url_is_masked_and_kept(client, subscriber):
    secret = subscriber.url + "/hook?token=s3cret"
    shown = client.put("/api/subscriptions/default", json={"url": secret}).get_json()["url"]
    assert "s3cret" not in shown and shown.endswith("token=********")
    client.put("/api/subscriptions/default", json={"url": shown})  # sent back masked: kept
    client.post("/api/events/OrderConfirmedEvent?wait=5", json={})
    assert subscriber.requests[-1].path.endswith("token=s3cret")
