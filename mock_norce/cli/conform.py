"""``mock-norce conform``: the conformance battery against the user's endpoint, in this process.

The same battery as ``POST /api/conformance``; the report goes to stdout or ``--out`` as a
table, JSON, JUnit XML (for CI) or a standalone HTML page. Exit 0 when no case failed
(warnings included), EXIT_NONCONFORMANT (3) when one did, 2 for bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mock_norce.app import build_battery, build_factory, build_subscriptions
from mock_norce.cli.exits import EXIT_NONCONFORMANT, EXIT_OK
from mock_norce.conformance.render import render
from mock_norce.errors import ConformanceError
from mock_norce.settings import Settings


def parse_headers(lines: list[str]) -> dict[str, str]:
    """--header K=V (or 'K: V'), repeatable; a line of neither form is refused by name."""
    out: dict[str, str] = {}
    for line in lines:
        eq, colon = line.find("="), line.find(":")
        cut = eq if eq >= 0 and (colon < 0 or eq < colon) else colon
        name, value = (line[:cut], line[cut + 1:]) if cut >= 0 else (line, "")
        if cut < 0 or not name.strip():
            raise ConformanceError(f"--header {line!r}: write NAME=VALUE", "headers")
        out[name.strip()] = value.strip()
    return out


def conform(args, settings: Settings) -> int:
    factory = build_factory(settings)
    battery = build_battery(settings, factory)
    enabled = [s.event_type for s in build_subscriptions(settings, factory).all() if s.enabled]
    try:
        plan = battery.plan(args.url, args.types or None, parse_headers(args.header), args.verify, args.seed,
                            default_types=enabled, content_type=args.content_type,
                            redirect_headers=args.redirect_headers, policy=args.policy)
    except ConformanceError as exc:
        raise ConformanceError(f"{exc.field}: {exc.message}", exc.field) from None
    if args.out:  # a path that cannot be written is said before the battery runs, not after
        try:
            with open(args.out, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise ConformanceError(f"--out {args.out}: {exc.strerror}", "out") from None
    report = battery.run(plan)
    text = render(report, args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"mock-norce conform: {report.verdict} ({args.format} report in {args.out})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_NONCONFORMANT if report.verdict == "fail" else EXIT_OK
