"""The ``mock-norce`` command.

Each subcommand is a small function of parsed arguments. Errors a user can cause are
MockNorceErrors: they end as one line on stderr and exit status 2 (1 where a command reports
a negative answer, such as an invalid payload), never as a traceback.

A little over 300 lines: the whole command line (build_parser, every subcommand's options)
is kept in one place with the functions it calls, so the CLI reads in one file; the engine
commands (fire, run, serve) live in cli/engine.py.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Sequence

from mock_norce import __version__
from mock_norce.errors import MockNorceError
from mock_norce.cli.common import EXIT_NEGATIVE, EXIT_OK, EXIT_PIPE, EXIT_USAGE, UsageError, factory as _factory, library as _library, parse_sets
from mock_norce.cli.output import STDOUT_GONE, stdout_gone
from mock_norce.settings import Settings, documented_variables

def cmd_events(args, settings: Settings) -> int:
    factory = _factory(settings)
    types = list(factory.catalog)
    if args.json:
        print(json.dumps([et.summary() | {"unconfirmed": list(et.unconfirmed)} for et in types], indent=2))
        return EXIT_OK
    width = max(len(et.name) for et in types)
    print(f"{'TYPE':<{width}}  {'CATEGORY':<9}  {'KIND':<12}  NOTE")
    for et in types:
        note = "custom" if not et.builtin else ""
        if et.unconfirmed:
            note = (note + " " if note else "") + "some facts unconfirmed by Norce's docs"
        print(f"{et.name:<{width}}  {et.category:<9}  {et.kind:<12}  {note}".rstrip())
    return EXIT_OK


def cmd_generate(args, settings: Settings) -> int:
    import random

    from mock_norce.catalogue.payloads import new_seed

    factory = _factory(settings)
    et = factory.catalog.get(args.type)
    if args.count < 1:
        raise UsageError("--count must be at least 1")
    if args.market:
        factory.tenant.market(args.market)  # fail before printing anything
    overrides = parse_sets(et, args.set)
    seed = args.seed if args.seed is not None else settings.seed
    rng = random.Random(seed if seed is not None else new_seed())
    out = sys.stdout
    for _ in range(args.count):
        payload = factory.generate(et.name, rng=rng, market=args.market, overrides=overrides,
                                   omit=args.omit, allow_invalid=args.invalid)
        if args.pretty:
            out.write(json.dumps(payload.body, ensure_ascii=False, indent=2) + "\n")
        else:
            out.write(payload.to_json() + "\n")
        if not payload.valid:
            problems = "; ".join(f"{p}: {r}" for p, r in payload.errors)
            print(f"mock-norce: note: deliberately invalid payload ({problems})", file=sys.stderr)
    return EXIT_OK


def _read_payloads(source: str) -> list[tuple[str, object]]:
    if source == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        try:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise UsageError(f"cannot read {source}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"cannot read {source}: not UTF-8 text") from None
        name = source
    stripped = text.strip()
    if not stripped:
        raise UsageError(f"{name} is empty: expected a JSON object (or one per line)")
    try:
        return [(name, json.loads(stripped))]
    except json.JSONDecodeError as whole_error:
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append((f"{name}:{number}", json.loads(line)))
            except json.JSONDecodeError:
                if number == 1 or len(items) == 0:
                    raise UsageError(f"{name} is not valid JSON: {whole_error}") from None
                raise UsageError(f"{name}:{number} is not valid JSON") from None
        return items


def cmd_validate(args, settings: Settings) -> int:
    factory = _factory(settings)
    et = factory.catalog.get(args.type)
    status = EXIT_OK
    for where, payload in _read_payloads(args.file):
        errors = et.errors(payload)
        if not errors:
            print(f"{where}: valid {et.name}")
            continue
        status = EXIT_NEGATIVE
        print(f"{where}: invalid {et.name} ({len(errors)} error{'s' if len(errors) > 1 else ''})")
        for path, reason in errors:
            print(f"  {path}: {reason}")
    return status


def cmd_scenarios(args, settings: Settings) -> int:
    library = _library(settings, _factory(settings))
    items = [s.summary() for s in library]
    if args.json:
        print(json.dumps(items, indent=2))
        return EXIT_OK
    import textwrap

    width = max([len(s["name"]) for s in items] + [8])
    print(f"{'SCENARIO':<{width}}  DESCRIPTION / EVENTS")
    for s in items:
        lines = textwrap.wrap(s["description"], 96 - width) or [""]
        print(f"{s['name']:<{width}}  {lines[0]}")
        for line in lines[1:]:
            print(f"{'':<{width}}  {line}")
        print(f"{'':<{width}}  events: {', '.join(s['events'])}")
    return EXIT_OK


def cmd_check(args, settings: Settings) -> int:
    from pathlib import Path

    from mock_norce.scenarios.library import load_scenario
    from mock_norce.errors import ScenarioErrors

    factory = _factory(settings)
    if args.files:
        paths = [Path(f) for f in args.files]
    else:
        dirs = [settings.builtin_scenarios_dir] + ([settings.scenarios_dir] if settings.scenarios_dir else [])
        paths = sorted(p for d in dirs for p in list(Path(d).glob("*.yaml")) + list(Path(d).glob("*.yml")))
    bad = 0
    for path in paths:
        try:
            scenario = load_scenario(path, factory.catalog, settings.fixtures_dir)
        except ScenarioErrors as exc:
            bad += 1
            for problem in exc.problems:
                print(problem)
            continue
        print(f"{path}: ok ({scenario.name}: {len(scenario.events)} event types)")
    if bad:
        print(f"{bad} of {len(paths)} file(s) have errors", file=sys.stderr)
    return EXIT_NEGATIVE if bad else EXIT_OK


def cmd_fire(args, settings: Settings) -> int:
    from mock_norce.cli.engine import fire

    return fire(args, settings)


def cmd_run(args, settings: Settings) -> int:
    from mock_norce.cli.engine import run

    return run(args, settings)


def cmd_serve(args, settings: Settings) -> int:
    from mock_norce.cli.engine import serve

    return serve(args, settings)


def _env_help() -> str:
    rows = documented_variables()
    width = max(len(r[0]) for r in rows)
    lines = ["environment variables:"]
    lines += [f"  {name:<{width}}  {help_} (default: {default or 'unset'})" for name, default, help_ in rows]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mock-norce",
        description="A test double for Norce Commerce Event: realistic Norce webhook payloads.",
        epilog=_env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mock-norce {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("serve", help="run the web UI, the control API and the delivery engine",
                       description="Serve the UI and the JSON control API with a production server (waitress, "
                                   "one process). Without MOCK_NORCE_SUBSCRIBER_URL, events go to the built-in "
                                   "sink at /sink/default. Stops cleanly on SIGTERM or Ctrl-C.")
    p.add_argument("--host", help="address to listen on (default MOCK_NORCE_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default MOCK_NORCE_PORT, 8080; 0: any free port)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("events", help="list the event types with category and kind")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=cmd_events)

    p = sub.add_parser("generate", help="print realistic payloads of an event type as JSON",
                       description="Print payloads of TYPE, one compact JSON object per line. "
                                   "The same --seed gives byte-identical output.")
    p.add_argument("type", metavar="TYPE", help="event type, e.g. OrderConfirmedEvent")
    p.add_argument("--seed", type=int, help="seed for reproducible output (default: MOCK_NORCE_SEED or random)")
    p.add_argument("--count", type=int, default=1, help="how many payloads (default 1)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="set a field (repeatable); the value is typed by the schema")
    p.add_argument("--omit", action="append", default=[], metavar="FIELD",
                   help="leave an optional field out (repeatable)")
    p.add_argument("--market", metavar="CODE", help="market of the tenant: SE, NO, FI or DK (default: weighted mix)")
    p.add_argument("--invalid", action="store_true",
                   help="allow overrides that break the schema (negative testing); a note on stderr lists the errors")
    p.add_argument("--pretty", action="store_true", help="indent the JSON")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("fire", help="generate an event and deliver it with Norce's full retry policy",
                       description="Generate TYPE, validate it, POST it as Norce would (5 s deadline, redirects, "
                                   "retries after 5s, 10s, 15s ... 6h, dead after 17 attempts) and print each "
                                   "attempt. Delays follow MOCK_NORCE_TIME_SCALE. Exit 0 when delivered, 1 when "
                                   "dead. The log is kept in memory only.")
    p.add_argument("type", metavar="TYPE")
    p.add_argument("--url", help="subscriber URL (default: the type's subscription or MOCK_NORCE_SUBSCRIBER_URL)")
    p.add_argument("--seed", type=int)
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    p.add_argument("--omit", action="append", default=[], metavar="FIELD")
    p.add_argument("--market", metavar="CODE")
    p.set_defaults(func=cmd_fire)

    p = sub.add_parser("scenarios", help="list the scenarios with the event types each emits")
    p.add_argument("--json", action="store_true", help="print a JSON list of {name, description, events}")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser("run", help="play a scenario against a subscriber, printing steps and deliveries",
                       description="Play scenario NAME: print each step as it emits and each delivery attempt. "
                                   "Ends when every delivery is delivered or dead: exit 0 when all were "
                                   "delivered, 1 otherwise. Waits and retry delays follow --time-scale.")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--url", help="subscriber URL (default: subscriptions / MOCK_NORCE_SUBSCRIBER_URL)")
    p.add_argument("--seed", type=int, help="seed: the same seed plays the same payloads")
    p.add_argument("--time-scale", type=float, metavar="X",
                   help="multiply waits and retry delays (default MOCK_NORCE_TIME_SCALE; 0 = no waiting)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="validate scenario files; exit 1 on errors",
                       description="Check scenario files (default: the built-in and MOCK_NORCE_SCENARIOS_DIR "
                                   "ones) and print every problem as FILE:LINE: reason.")
    p.add_argument("files", metavar="FILE", nargs="*")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("validate", help="check a payload against its event type's schema",
                       description="Validate a JSON object (or one per line) against TYPE and print every "
                                   "error with its JSON path. Exit 1 when any payload is invalid.")
    p.add_argument("type", metavar="TYPE")
    p.add_argument("file", metavar="FILE", nargs="?", default="-", help="file to read, or - for stdin (default)")
    p.set_defaults(func=cmd_validate)
    return parser



def _sigterm_as_exit(signum, frame):
    # SIGTERM (docker stop, kill) unwinds like Ctrl-C, so `finally` blocks stop cleanly.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    if threading_is_main():
        signal.signal(signal.SIGTERM, _sigterm_as_exit)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        status = args.func(args, settings)
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is handled below
        return status
    except MockNorceError as exc:
        print(f"mock-norce: error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # before OSError, of which it is one
        stdout_gone()
        return EXIT_PIPE
    except KeyboardInterrupt:
        if STDOUT_GONE.is_set():
            return EXIT_PIPE  # a delivery thread found stdout closed and stopped the command
        print("mock-norce: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        # e.g. the database directory is not writable
        print(f"mock-norce: error: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_USAGE


def threading_is_main() -> bool:
    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
