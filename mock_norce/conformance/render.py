"""A report as a terminal table, JSON or JUnit XML (one testsuite, one testcase per case).

The JUnit form follows the common schema (Windy Road's JUnit.xsd, which Jenkins, GitLab and
GitHub's test reporters read): a fail is a ``<failure>``, a skip a ``<skipped>``, and a warn a
passing testcase whose warning is a ``warn:<case>`` property and a line of the suite's
``<system-out>`` (that schema gives a testcase no output of its own).
"""

from __future__ import annotations

import json
import time
from html import escape as html_escape
from xml.sax.saxutils import escape, quoteattr

from mock_norce.conformance.report import Report

FORMATS = ("table", "json", "junit", "html")


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "junit":
        return junit(report)
    if fmt == "html":
        return page(report)
    return table(report)


def table(report: Report) -> str:
    """Aligned columns: case, verdict, time, reason; then the overall verdict."""
    rows = [(c.name, c.verdict.upper() if c.verdict in ("fail", "warn") else c.verdict,
             f"{c.duration_ms:.0f} ms" if c.exchanges else "", c.reason) for c in report.cases]
    width = max(len(r[0]) for r in rows + [("CASE",)])
    lines = [f"mock-norce conform {report.url}  (seed {report.seed}, {report.duration_ms / 1000:.1f} s)", "",
             f"{'CASE':<{width}}  VERDICT  {'TIME':>8}  REASON"]
    lines += [f"{name:<{width}}  {verdict:<7}  {took:>8}  {reason}" for name, verdict, took, reason in rows]
    counts = report.counts()
    lines += ["", f"verdict: {report.verdict.upper()} ({counts['fail']} fail, {counts['warn']} warn, "
                  f"{counts['pass']} pass, {counts['skip']} skip)"]
    return "\n".join(lines) + "\n"


def _clean(text: str) -> str:
    """Text XML 1.0 can carry: control characters (but tab, LF, CR) become U+FFFD."""
    return "".join(c if c in "\t\n\r" or ord(c) >= 32 and c not in "\ufffe\uffff" else "\ufffd" for c in text)


def _attr(text: str) -> str:
    return quoteattr(_clean(text))


def junit(report: Report) -> str:
    """JUnit XML of the report, valid against Windy Road's JUnit.xsd."""
    counts = report.counts()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(report.started))
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuite name="mock-norce conform" timestamp="{stamp}" hostname="localhost" '
           f'tests="{len(report.cases)}" failures="{counts["fail"]}" errors="0" skipped="{counts["skip"]}" '
           f'time="{report.duration_ms / 1000:.3f}">',
           "  <properties>",
           f'    <property name="url" value={_attr(report.url)}/>',
           f'    <property name="seed" value="{report.seed}"/>',
           f'    <property name="verdict" value="{report.verdict}"/>',
           f'    <property name="report" value="{report.id}"/>']
    out += [f'    <property name={_attr("warn:" + c.name)} value={_attr(c.reason)}/>'
            for c in report.cases if c.verdict == "warn"]
    out.append("  </properties>")
    for c in report.cases:
        head = (f'  <testcase name={_attr(c.name)} classname="mock-norce.conform" '
                f'time="{c.duration_ms / 1000:.3f}"')
        if c.verdict == "fail":
            out += [head + ">", f'    <failure message={_attr(c.reason)} type="fail">'
                    f"{escape(_clean(_evidence(c)))}</failure>", "  </testcase>"]
        elif c.verdict == "skip":
            out += [head + ">", "    <skipped/>", "  </testcase>"]
        else:
            out.append(head + "/>")
    lines = [f"{c.verdict.upper()} {c.name}: {c.reason}" for c in report.cases]
    out += [f"  <system-out>{escape(_clean(chr(10).join(lines)))}</system-out>", "  <system-err></system-err>",
            "</testsuite>"]
    return "\n".join(out) + "\n"


def _evidence(case) -> str:
    """The expectation, the reason and each request with its answer, as plain text."""
    lines = [f"expected: {case.expectation}", f"got: {case.reason}"]
    for ex in case.exchanges[:5]:
        lines.append(f"{ex.method} {ex.url} -> {ex.answer()} in {ex.latency_ms:.0f} ms")
        lines.append(f"  body: {ex.request_body[:500]}")
        if ex.response_body:
            lines.append(f"  answer: {ex.response_body[:500]}")
    return "\n".join(lines)


_STYLE = ("body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}"
          "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;"
          "text-align:left;vertical-align:top}.pass{color:#116329}.warn{color:#7d4e00}.fail{color:#b42318}"
          ".skip{color:#57606a}pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5rem}")


def page(report: Report) -> str:
    """A standalone HTML page of the report (the CLI's --format html; the UI has its own)."""
    e = html_escape
    counts = report.counts()
    rows = []
    for c in report.cases:
        evidence = "".join(
            f"<details><summary>{e(ex.method)} {e(ex.url)} &rarr; {e(ex.answer())} in {ex.latency_ms:.0f} ms"
            f"</summary><pre>{e(ex.request_body)}</pre><pre>{e(ex.response_body)}</pre></details>"
            for ex in c.exchanges)
        rows.append(f"<tr><td>{e(c.name)}</td><td class=\"{c.verdict}\">{c.verdict}</td>"
                    f"<td>{e(c.expectation)}</td><td>{e(c.reason)}{evidence}</td></tr>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>mock-norce conform: {report.verdict}</title><style>{_STYLE}</style></head><body><main>"
            f"<h1>Would Norce be happy with {e(report.url)}? <span class=\"{report.verdict}\">"
            f"{report.verdict}</span></h1><p>{counts['fail']} fail, {counts['warn']} warn, {counts['pass']} pass, "
            f"{counts['skip']} skip; seed {report.seed}; {report.duration_ms / 1000:.1f} s.</p>"
            "<table><thead><tr><th>Case</th><th>Verdict</th><th>Expectation</th><th>Result and evidence</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table></main></body></html>\n")
