"""The report's outputs: JUnit XML valid against the common schema, JSON, the table, the
standalone HTML page, and `mock-norce conform`'s exit codes and files."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from mock_norce.app import build_battery
from mock_norce.conformance.render import junit, render
from mock_norce.conformance.report import Case, Report

from . import endpoints as ep

DATA = Path(__file__).resolve().parent.parent / "data"
# Windy Road's own file when someone has saved it there; else our restatement of its rules.
XSD = DATA / "JUnit.xsd" if (DATA / "JUnit.xsd").exists() else DATA / "junit.xsd"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(XSD))


def sample_report() -> Report:
    r = Report(id="abc", url="http://127.0.0.1:1/hook", types=["JobCompletedEvent"], seed=1, started=1767225600.5,
               budget_ms=5000)
    r.cases = [Case("accepts/JobCompletedEvent", "2xx", "pass", "1 answered HTTP 200", duration_ms=2),
               Case("duplicate", "2xx twice", "fail", "got 409 Conflict <&> \x01 \"quoted\"", duration_ms=3),
               Case("redirects", "no 301", "warn", "the URL answers 301: Norce follows it with a GET"),
               Case("int64-ids", "ids", "skip", "no chosen type has an OrderId")]
    return r


def test_junit_validates_and_says_each_verdict(schema):
    text = junit(sample_report())
    schema.validate(text)
    suite = ET.fromstring(text)
    assert suite.tag == "testsuite" and suite.get("tests") == "4" and suite.get("failures") == "1"
    assert suite.get("skipped") == "1" and suite.get("timestamp") == "2026-01-01T00:00:00"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["duplicate"].find("failure").get("message").startswith("got 409 Conflict <&>")
    assert cases["int64-ids"].find("skipped") is not None
    assert list(cases["redirects"]) == [] and list(cases["accepts/JobCompletedEvent"]) == []
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["warn:redirects"].startswith("the URL answers 301") and props["verdict"] == "fail"
    assert "WARN redirects" in suite.find("system-out").text


def test_junit_of_a_real_battery_validates(schema, settings, factory, serve):
    battery = build_battery(settings, factory)
    report = battery.run(battery.plan(serve(ep.conflict_on_duplicates()).url + "/norce/{type}", seed=3))
    text = junit(report)
    schema.validate(text)
    assert ET.fromstring(text).get("failures") == "1"


def test_the_schema_refuses_what_the_common_readers_refuse(schema):
    good = junit(sample_report())
    for bad in (good.replace(' hostname="localhost"', ""), good.replace("<system-err></system-err>", ""),
                good.replace('timestamp="2026-01-01T00:00:00"', 'timestamp="2026-01-01T00:00:00Z"'),
                good.replace('type="fail"', "")):
        assert not schema.is_valid(bad)


def test_table_json_and_html():
    r = sample_report()
    table = render(r, "table")
    assert "duplicate" in table and "FAIL" in table and "verdict: FAIL (1 fail, 1 warn, 1 pass, 1 skip)" in table
    data = json.loads(render(r, "json"))
    assert data["verdict"] == "fail" and data["counts"] == {"pass": 1, "warn": 1, "fail": 1, "skip": 1}
    html = render(r, "html")
    assert "<script" not in html and "got 409 Conflict &lt;&amp;&gt;" in html


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "mock_norce", "conform", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_cli_exit_codes_and_outputs(serve, tmp_path, schema):
    good = serve(ep.ok)
    out = cli("--url", good.url + "/hook", "--types", "OrderConfirmedEvent", "JobCompletedEvent")
    assert out.returncode == 0, out.stderr
    assert "accepts/OrderConfirmedEvent" in out.stdout and "verdict: PASS" in out.stdout

    report = tmp_path / "conform.xml"
    out = cli("--url", serve(ep.conflict_on_duplicates()).url + "/norce/{type}", "--format", "junit", "--out", str(report),
              "--header", "Authorization=Bearer s3cret", "--header", "X-Shop: nordic")
    assert out.returncode == 3, out.stderr
    assert "fail" in out.stderr and out.stdout == ""
    schema.validate(str(report))
    assert "s3cret" not in report.read_text()

    warned = cli("--url", serve(ep.redirect(301)).url + "/hook", "--types", "JobCompletedEvent", "--format", "json")
    assert warned.returncode == 0 and json.loads(warned.stdout)["verdict"] == "warn"


@pytest.mark.parametrize("args, words", [
    (["--url", "ftp://x/"], "url: "),
    (["--url", "http://127.0.0.1:9/", "--types", "Nope"], "types: unknown event type(s): Nope"),
    (["--url", "http://127.0.0.1:9/", "--header", "no separator"], "headers: --header 'no separator'"),
    (["--url", "http://127.0.0.1:9/", "--verify", "nope"], "verify: "),
    (["--url", "http://127.0.0.1:9/", "--out", "/no/such/dir/r.xml"], "--out /no/such/dir/r.xml: No such file"),
])
def test_cli_bad_input_exits_2_naming_the_field(args, words):
    out = cli(*args)
    assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr, out.stderr
