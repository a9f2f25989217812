"""POST /api/conformance and GET /api/conformance/{id}: the battery over the API, its report
in the exact schema of the OpenAPI document, and bad input as a 422 naming the field."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from jsonschema import Draft202012Validator

from mock_norce.web.openapi import document

from ..conformance import endpoints as ep
from .test_api import assert_error


def report_errors(data) -> list[str]:
    schemas = json.loads(json.dumps(document()["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/"))
    validator = Draft202012Validator({**schemas["ConformanceReport"], "$defs": schemas})
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(data)]


def test_run_then_read_the_report_as_json_and_junit(client, serve):
    target = serve(ep.conflict_on_duplicates())
    resp = client.post("/api/conformance", json={"url": target.url + "/norce/{type}", "types": ["OrderConfirmedEvent"],
                                                 "headers": {"X-Api-Key": "k3y"}, "seed": 11})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    report = resp.get_json()
    assert report_errors(report) == []
    assert report["verdict"] == "fail" and report["seed"] == 11 and report["types"] == ["OrderConfirmedEvent"]
    assert {c["name"]: c["verdict"] for c in report["cases"]}["duplicate"] == "fail"
    assert "k3y" not in resp.get_data(as_text=True) and target.requests[0].headers["x-api-key"] == "k3y"

    again = client.get(f"/api/conformance/{report['id']}")
    assert again.status_code == 200 and again.get_json() == report
    xml = client.get(f"/api/conformance/{report['id']}?format=junit")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert ET.fromstring(xml.data).get("failures") == "1"
    assert_error(client.get("/api/conformance/nope"), 404, "not_found", "last 20")
    assert_error(client.get(f"/api/conformance/{report['id']}?format=xml"), 422, "bad_parameter", "format")


def test_the_default_types_are_the_enabled_subscriptions(client, serve):
    target = serve(ep.ok)
    assert client.put("/api/subscriptions/JobCompletedEvent", json={"enabled": False}).status_code == 200
    report = client.post("/api/conformance", json={"url": target.url + "/hook"}).get_json()
    assert len(report["types"]) == 18 and "JobCompletedEvent" not in report["types"]
    assert report["verdict"] == "pass"


def test_bad_input_is_a_422_naming_the_field(client):
    for body, path in [({"url": "ftp://x/"}, "$.url"), ({"url": "http://127.0.0.1:9/", "types": ["Nope"]}, "$.types"),
                       ({"url": "http://127.0.0.1:9/", "headers": {"Bad Name": "x"}}, "$.headers"),
                       ({"url": "http://127.0.0.1:9/", "verify": "mailto:x"}, "$.verify"),
                       ({"url": "http://127.0.0.1:9/", "content_type": "text/plain"}, "$.content_type"),
                       ({"url": "http://127.0.0.1:9/", "redirect_headers": "all"}, "$.redirect_headers")]:
        data = assert_error(client.post("/api/conformance", json=body), 422, "bad_conformance_request")
        assert data["errors"][0]["path"] == path and data["message"].startswith(path[2:] + ": ")
    data = assert_error(client.post("/api/conformance", json={"types": ["OrderConfirmedEvent"]}), 400, "bad_request")
    assert "url" in data["message"]
    assert_error(client.post("/api/conformance", json={"url": "http://x/", "extra": 1}), 400, "bad_request")
    assert_error(client.post("/api/conformance", json={"url": "http://x/", "seed": 2**64}), 422, "out_of_range")


def test_ui_form_runs_the_battery_and_shows_the_report(client, serve):
    target = serve(ep.redirect(301))
    page = client.get("/conformance")
    assert page.status_code == 200 and b"Would Norce be happy" in page.data
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    form = {"url": target.url + "/hook", "types": ["JobCompletedEvent"], "headers": "X-Shop: nordic",
            "csrf_token": token}
    refused = client.post("/conformance", data=form | {"url": "ftp://x/"})
    assert refused.status_code == 422 and b'aria-invalid="true" aria-describedby="error-url"' in refused.data
    assert b"ftp://x/" in refused.data  # what was typed is kept
    resp = client.post("/conformance", data=form)
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:500]
    shown = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "warn" in shown and "Norce follows it with a GET" in shown and "X-Shop: nordic" in shown
    assert "sent as <code>application/json</code>" in shown and "<code>current</code> retry policy" in shown


def test_a_reset_forgets_the_reports_and_the_form_masks_the_default_urls_secrets(client, serve):
    target = serve(ep.ok)
    report = client.post("/api/conformance", json={"url": target.url + "/hook", "types": ["JobCompletedEvent"]}).get_json()
    reset = client.post("/api/reset", content_type="application/json").get_json()
    assert reset["deleted"]["conformance"] == 1
    assert_error(client.get(f"/api/conformance/{report['id']}"), 404, "not_found")

    secret = target.url.replace("http://", "http://alice:s3cret@") + "/hook?token=t0psecret"
    assert client.put("/api/subscriptions/default", json={"url": secret}).status_code == 200
    page = client.get("/conformance").get_data(as_text=True)
    assert "s3cret" not in page and "t0psecret" not in page and "alice:********@" in page
    # The masked URL sent back as shown is the real one: the endpoint gets the real token.
    masked = re.search(r'name="url"[^>]*value="([^"]*)"', page).group(1).replace("&amp;", "&")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    sent = client.post("/conformance", data={"url": masked, "types": ["JobCompletedEvent"], "csrf_token": token})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:300]
    assert any("token=t0psecret" in r.path for r in target.requests)
