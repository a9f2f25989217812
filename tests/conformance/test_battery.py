"""The battery against real local endpoints: one built to pass every case, others built to
fail or warn one case each, every verdict checked (through the real Sender, over TCP)."""

from __future__ import annotations

import json

import pytest

from mock_norce.app import build_battery
from mock_norce.conformance.cases import JS_BEYOND, jobs

from . import endpoints as ep

ORDER = ["OrderReceivedEvent", "OrderConfirmedEvent", "OrderDeliveredEvent"]


@pytest.fixture
def battery(settings, factory):
    return build_battery(settings, factory)


def run(battery, url, types=None, **kw):
    return battery.run(battery.plan(url, types, seed=kw.pop("seed", 7), **kw))


def verdicts(report) -> dict[str, str]:
    return {c.name: c.verdict for c in report.cases}


def case(report, name):
    return next(c for c in report.cases if c.name == name)


def test_an_endpoint_built_to_pass_passes_every_case(battery, serve):
    server = serve(ep.ok)
    report = run(battery, server.url + "/hook")
    assert set(verdicts(report).values()) == {"pass"}, {n: (c.verdict, c.reason) for n, c in
                                                          ((c.name, c) for c in report.cases) if c.verdict != "pass"}
    assert report.verdict == "pass"
    names = [c.name for c in report.cases]
    assert len([n for n in names if n.startswith("accepts/")]) == 19
    assert names[19:] == ["content-type", "duplicate", "out-of-order", "int64-ids", "non-ascii", "optional-absent", "burst",
                          "redirects", "latency", "slow-path"]
    # The evidence is what went on the wire: every body the server got is in the report, and back.
    sent = sorted(ex.request_body for c in report.cases if c.name not in ("latency", "slow-path")
                  for ex in c.exchanges)
    assert sorted(r.body.decode() for r in server.requests) == sent
    dup = case(report, "duplicate")
    assert dup.exchanges[0].request_body == dup.exchanges[1].request_body
    assert all(ex.status == 200 and ex.response_body == '{"ok":true}' for ex in dup.exchanges)
    assert any(h == ["Content-Type", "application/json"] for h in dup.exchanges[0].request_headers)
    assert case(report, "latency").figures["attempts"] == len(server.requests)


def test_the_cases_send_what_they_promise(factory):
    by_name = {j.name: j for j in jobs(factory, factory.catalog.names(), seed=3)}
    ooo = by_name["out-of-order"]
    assert [s.event_type for s in ooo.steps][0] == "OrderDeliveredEvent"
    assert [s.event_type for s in ooo.steps][-1] == "OrderReceivedEvent"
    bodies = [json.loads(s.body) for s in ooo.steps]
    assert len({b["ClientOrderRef"] for b in bodies}) == 1  # one order
    ids = [json.loads(s.body)["OrderId"] for s in by_name["int64-ids"].steps]
    assert ids == [2**31, JS_BEYOND] and str(JS_BEYOND).encode() in by_name["int64-ids"].steps[1].body
    nordic = by_name["non-ascii"].steps[0].body.decode()
    assert all(c in nordic for c in "ØÅÆÄÖ")
    for step in by_name["optional-absent"].steps:
        et = factory.catalog.get(step.event_type)
        assert set(json.loads(step.body)) == set(et.required)


def test_a_409_for_a_duplicate_fails_and_says_why(battery, serve):
    report = run(battery, serve(ep.conflict_on_duplicates()).url + "/hook", ORDER)
    dup = case(report, "duplicate")
    assert dup.verdict == "fail" and "409" in dup.reason and "22 hours" in dup.reason
    assert [ex.status for ex in dup.exchanges] == [200, 409]
    assert report.verdict == "fail"
    assert verdicts(report)["accepts/OrderConfirmedEvent"] == "pass"


def test_a_400_for_an_id_beyond_2_53_fails_int64(battery, serve):
    report = run(battery, serve(ep.rejects_big_ids).url + "/hook", ORDER)
    c = case(report, "int64-ids")
    assert c.verdict == "fail" and str(JS_BEYOND) in c.reason
    assert [ex.status for ex in c.exchanges] == [200, 400]
    assert verdicts(report)["duplicate"] == "pass"


def test_a_500_on_nordic_letters_fails_non_ascii(battery, serve):
    report = run(battery, serve(ep.rejects_non_ascii).url + "/hook", ["JobCompletedEvent", "OrderConfirmedEvent"])
    c = case(report, "non-ascii")
    assert c.verdict == "fail" and c.exchanges[0].status == 500 and "HTTP 500" in c.reason
    assert verdicts(report)["accepts/JobCompletedEvent"] == "pass"


def test_a_422_for_an_absent_optional_field_fails_optional_absent(battery, serve):
    report = run(battery, serve(ep.needs_every_field).url + "/hook", ["OrderConfirmedEvent"])
    c = case(report, "optional-absent")
    assert c.verdict == "fail" and "without CellPhone, FirstName, LastName" in c.reason
    assert verdicts(report)["duplicate"] == "pass" and verdicts(report)["int64-ids"] == "pass"


def test_an_endpoint_that_fails_under_a_burst_fails_burst_only(battery, serve):
    report = run(battery, serve(ep.one_at_a_time()).url + "/hook", ["JobCompletedEvent"])
    v = verdicts(report)
    assert v["burst"] == "fail" and "HTTP 503" in case(report, "burst").reason
    assert len(case(report, "burst").exchanges) == 4
    assert v["accepts/JobCompletedEvent"] == v["duplicate"] == v["optional-absent"] == "pass"


def test_types_without_orders_or_names_skip_those_cases(battery, serve):
    report = run(battery, serve(ep.ok).url + "/hook", ["JobCompletedEvent"])
    v = verdicts(report)
    assert v["out-of-order"] == v["int64-ids"] == v["non-ascii"] == "skip"
    assert report.verdict == "pass"


def test_an_answer_after_5_5_s_fails_latency_and_the_slow_path(battery, serve):
    report = run(battery, serve(ep.first_slow(5.5)).url + "/hook", ["JobCompletedEvent"])
    v = verdicts(report)
    assert v["latency"] == "fail" and "deadline" in case(report, "latency").reason
    assert v["slow-path"] == "fail"
    assert v["accepts/JobCompletedEvent"] == "fail" and case(report, "latency").figures["timeouts"] == 1
    assert report.verdict == "fail"


def test_answers_of_1_5_s_warn_on_latency(battery, serve):
    report = run(battery, serve(ep.first_slow(1.5)).url + "/hook", ["JobCompletedEvent"])
    v = verdicts(report)
    assert v["latency"] == "warn" and case(report, "latency").figures["p99_ms"] >= 1500
    assert v["slow-path"] == "pass" and report.verdict == "warn"


@pytest.mark.slow
def test_an_answer_near_the_deadline_warns_on_the_slow_path(battery, serve):
    report = run(battery, serve(ep.first_slow(4.3)).url + "/hook", ["JobCompletedEvent"])
    c = case(report, "slow-path")
    assert c.verdict == "warn" and c.figures["headroom_ms"] < 1000


def test_a_301_redirect_warns_a_307_passes_a_broken_chain_fails(battery, serve):
    moved = run(battery, serve(ep.redirect(301)).url + "/hook", ["JobCompletedEvent"])
    c = case(moved, "redirects")
    assert c.verdict == "warn" and "301" in c.reason and "GET" in c.reason
    assert [h["method"] for h in c.exchanges[0].hops] == ["POST", "GET"]
    assert moved.verdict == "warn"

    kept = run(battery, serve(ep.redirect(307)).url + "/hook", ["JobCompletedEvent"])
    c = case(kept, "redirects")
    assert c.verdict == "pass" and "307" in c.reason and kept.verdict == "pass"

    broken = run(battery, serve(ep.redirect(308, "/gone")).url + "/hook", ["JobCompletedEvent"])
    c = case(broken, "redirects")
    assert c.verdict == "fail" and "HTTP 404" in c.reason


def test_verify_url_gets_the_report_and_its_answer_is_the_verdict(battery, serve):
    got = []

    def check(req, conn):
        got.append(json.loads(req.body))
        return ep.response(200 if len(got) == 1 else 500, b"two e-mails for one order")
    target = serve(ep.ok)
    verifier = serve(check)
    passed = run(battery, target.url + "/hook", ["OrderConfirmedEvent"], verify=verifier.url + "/verify")
    assert case(passed, "verify").verdict == "pass"
    sent = got[0]
    assert sent["id"] == passed.id and any(c["name"] == "duplicate" for c in sent["cases"])
    assert json.loads(next(c for c in sent["cases"] if c["name"] == "duplicate")["exchanges"][0]["request_body"])
    failed = run(battery, target.url + "/hook", ["OrderConfirmedEvent"], verify=verifier.url + "/verify")
    c = case(failed, "verify")
    assert c.verdict == "fail" and "HTTP 500" in c.reason and "two e-mails" in c.reason
    assert failed.verdict == "fail"


def test_verify_callable(battery, serve):
    def one_mail_per_order(report):
        assert report["counts"]["fail"] == 0, "a case failed"
    ok = run(battery, serve(ep.ok).url + "/hook", ["JobCompletedEvent"], verify=one_mail_per_order)
    assert case(ok, "verify").verdict == "pass"
    bad = run(battery, serve(ep.answer(500)).url + "/hook", ["JobCompletedEvent"], verify=one_mail_per_order)
    assert case(bad, "verify").verdict == "fail" and "a case failed" in case(bad, "verify").reason


@pytest.mark.parametrize("kw, field, words", [
    ({"url": "ftp://example.com/"}, "url", "not http(s)"),
    ({"url": ""}, "url", "non-empty"),
    ({"url": "http://169.254.169.254/"}, "url", "link-local"),
    ({"types": ["Nope"]}, "types", "unknown event type(s): Nope"),
    ({"types": "OrderConfirmedEvent"}, "types", "list"),
    ({"headers": {"Bad Name": "x"}}, "headers", "not a valid HTTP header name"),
    ({"headers": {"X-A": "a\r\nb"}}, "headers", ""),
    ({"verify": "gopher://x/"}, "verify", "not http(s)"),
    ({"seed": "x"}, "seed", "integer"),
])
def test_bad_input_names_the_field(battery, kw, field, words):
    from mock_norce.errors import ConformanceError

    args = {"url": "http://127.0.0.1:9/hook"} | kw
    with pytest.raises(ConformanceError) as caught:
        battery.plan(args.pop("url"), **args)
    assert caught.value.field == field and words in caught.value.message


def test_secrets_in_headers_and_url_are_masked_in_the_evidence(battery, serve):
    server = serve(ep.ok)
    report = run(battery, server.url + "/hook?token=s3cret", ["JobCompletedEvent"],
                 headers={"Authorization": "Bearer s3cret", "X-Shop": "nordic"})
    text = json.dumps(report.to_dict())
    assert "s3cret" not in text and "nordic" in text
    assert server.requests[0].headers["authorization"] == "Bearer s3cret"  # sent as given


def test_type_in_the_url_routes_each_event_to_its_own_path(battery, serve):
    server = serve(ep.conflict_on_duplicates())
    report = run(battery, server.url + "/norce/{type}?kind={type}", seed=3)
    # Confirmed, PartlyDelivered and Delivered of one order have the same body: per path they are no duplicates.
    assert {c.name: c.verdict for c in report.cases if c.verdict != "pass"} == {"duplicate": "fail"}
    assert report.url.endswith("/norce/{type}?kind={type}")
    paths = {r.path for r in server.requests}
    assert "/norce/OrderDeliveredEvent?kind=OrderDeliveredEvent" in paths and len(paths) == 19
    assert case(report, "accepts/JobCompletedEvent").exchanges[0].url.endswith("/norce/JobCompletedEvent?kind=JobCompletedEvent")


def test_one_url_for_every_type_shows_a_receiver_that_dedupes_by_body_alone(battery, serve):
    report = run(battery, serve(ep.conflict_on_duplicates()).url + "/hook", seed=3)
    # Norce's bodies carry no type: one order's Delivered is byte for byte its Confirmed.
    assert case(report, "out-of-order").verdict == "fail"


def test_an_endpoint_that_cannot_be_reached_fails_at_once(battery):
    from ..servers import unused_port

    report = run(battery, f"http://127.0.0.1:{unused_port()}/hook")
    sent = [ex for c in report.cases for ex in c.exchanges]
    assert len(sent) == 1 and sent[0].error_class == "connection_refused"
    assert verdicts(report)["duplicate"] == "fail" and "cannot be reached" in case(report, "burst").reason
    assert report.verdict == "fail"


def only_plain_json(req, conn):
    """415 for anything but exactly application/json (a receiver comparing the header as a string)."""
    ctype = req.headers.get("content-type")
    return ep.response(200) if ctype == "application/json" else ep.response(415, b"want application/json")


def test_a_receiver_that_refuses_the_charset_form_of_the_content_type_gets_a_warning(battery, serve):
    server = serve(only_plain_json)
    report = run(battery, server.url + "/hook", ["OrderConfirmedEvent"])
    found = case(report, "content-type")
    assert found.verdict == "warn" and "HTTP 415" in found.reason, found.reason
    assert ["Content-Type", "application/json; charset=utf-8"] in found.exchanges[0].request_headers
    assert report.verdict == "warn"  # only that case: the rest went as application/json
    assert {c.verdict for c in report.cases if c.name != "content-type"} <= {"pass", "skip"}


def test_the_battery_sends_the_content_type_it_is_given_and_the_content_type_case_the_other(battery, serve):
    server = serve(ep.ok)
    report = run(battery, server.url + "/hook", ["OrderConfirmedEvent"], content_type="application/json; charset=utf-8")
    assert report.content_type == "application/json; charset=utf-8"
    got = [r.headers.get("content-type") for r in server.requests]
    assert got.count("application/json") == 1  # the content-type case alone
    assert set(got) == {"application/json", "application/json; charset=utf-8"}
    with pytest.raises(Exception) as bad:
        battery.plan(server.url, content_type="text/plain")
    assert bad.value.field == "content_type"


def test_the_reasons_speak_of_the_policy_norce_runs(battery, serve):
    """Under the legacy policy a 409 is not retried (the event is dead) and a 500 is retried at once:
    the verdict is the same, the reason says what Norce would do."""
    dup = case(run(battery, serve(ep.conflict_on_duplicates()).url + "/hook", ["OrderConfirmedEvent"],
                   policy="legacy"), "duplicate")
    assert dup.verdict == "fail" and "legacy policy does not retry it: the event is dead" in dup.reason, dup.reason
    report = run(battery, serve(ep.rejects_non_ascii).url + "/hook", ["OrderConfirmedEvent"], policy="legacy")
    assert report.policy == "legacy"
    assert "legacy policy retries it 9 times at once" in case(report, "non-ascii").reason
    current = case(run(battery, serve(ep.conflict_on_duplicates()).url + "/hook", ["OrderConfirmedEvent"]),
                   "duplicate")
    assert "16 times over about 22 hours" in current.reason
    with pytest.raises(Exception) as bad:
        battery.plan(serve(ep.ok).url, policy="middle")
    assert bad.value.field == "policy"
