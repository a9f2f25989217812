"""The ``mock-norce`` command.

Each subcommand is a small function of parsed arguments. Errors a user can cause are
MockNorceErrors: they end as one line on stderr and exit status 2 (1 where a command reports
a negative answer, such as an invalid payload), never as a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Sequence

from mock_norce import __version__
from mock_norce.errors import MockNorceError
from mock_norce.cli.catalogue import cmd_check, cmd_events, cmd_generate, cmd_scenarios, cmd_validate
from mock_norce.cli.exits import EXIT_PIPE, EXIT_USAGE
from mock_norce.cli.output import STDOUT_GONE, stdout_gone
from mock_norce.settings import CONTENT_TYPES, POLICIES, REDIRECT_HEADER_RULES, Settings, documented_variables

def cmd_fire(args, settings: Settings) -> int:
    if args.invalid and not args.server:
        raise MockNorceError("--invalid goes with --server (this process's fire sends only valid payloads; "
                             "generate --invalid prints one)")
    if args.server:
        from mock_norce.cli.remote import fire
    else:
        from mock_norce.cli.engine import fire

    return fire(args, settings)


def cmd_run(args, settings: Settings) -> int:
    if args.server:
        from mock_norce.cli.remote import run
    else:
        from mock_norce.cli.engine import run

    return run(args, settings)


def cmd_remote(args, settings: Settings) -> int:
    from mock_norce.cli import remote

    return getattr(remote, args.remote)(args, settings)


def _server_option(p) -> None:
    """--server for the commands that only drive a running server."""
    p.add_argument("--server", metavar="URL", required=True, help="the mock-norce, e.g. http://127.0.0.1:8080")


def _chaos_option(p, what: str) -> None:
    """--chaos: seeded sender-side chaos in the KEY=VALUE form (delivery/chaos.py reads it)."""
    p.add_argument("--chaos", action="append", default=[], metavar="KEY=VALUE,...",
                   help=f"seeded chaos of {what}: duplicate=P, reorder_window=DURATION, delay=DURATION, "
                        "fail_first=P, seed=N (repeatable; e.g. duplicate=0.1,fail_first=0.2)")


SERVER_HELP = "drive the mock-norce serving at URL (its log, its engine) instead of delivering in this process"


def cmd_conform(args, settings: Settings) -> int:
    from mock_norce.cli.conform import conform

    return conform(args, settings)


def cmd_serve(args, settings: Settings) -> int:
    from mock_norce.cli.engine import serve

    return serve(args, settings)


def _env_help() -> str:
    rows = documented_variables()
    width = max(len(r[0]) for r in rows)
    lines = ["environment variables:"]
    lines += [f"  {name:<{width}}  {help_} (default: {default or 'unset'})" for name, default, help_ in rows]
    return "\n".join(lines)


def _payload_options(p: argparse.ArgumentParser) -> None:
    """The options that shape a generated payload (generate and fire)."""
    p.add_argument("--seed", type=int, help="seed for reproducible output (default: MOCK_NORCE_SEED or random)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="set a field (repeatable); the value is typed by the schema")
    p.add_argument("--omit", action="append", default=[], metavar="FIELD",
                   help="leave an optional field out (repeatable)")
    p.add_argument("--market", metavar="CODE", help="market of the tenant: SE, NO, FI or DK (default: weighted mix)")


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

    p = sub.add_parser("serve", help="run the web UI, the control API, the delivery engine and Norce's Query API",
                       description="Serve the UI and the JSON control API with a production server (waitress, "
                                   "one process). Without MOCK_NORCE_SUBSCRIBER_URL, events go to the built-in "
                                   "sink at /sink/default. Also serves Norce's Query API over the entities the "
                                   "events name (/commerce/query/{2.0|3.0}/...), its token endpoint "
                                   "(/identity/1.0/connect/token) and Connect's job lookup. Stops cleanly on "
                                   "SIGTERM or Ctrl-C.")
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
    _payload_options(p)
    p.add_argument("--count", type=int, default=1, help="how many payloads (default 1)")
    p.add_argument("--invalid", action="store_true",
                   help="allow overrides that break the schema (negative testing); a note on stderr lists the errors")
    p.add_argument("--pretty", action="store_true", help="indent the JSON")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("fire", help="generate an event and deliver it with Norce's full retry policy",
                       description="Generate TYPE, validate it, POST it as Norce would (5 s deadline, redirects, "
                                   "retries after 5s, 10s, 15s ... 6h, dead after 17 attempts; with "
                                   "MOCK_NORCE_POLICY=legacy only an HTTP 500 is retried, 10 tries without delay) "
                                   "and print each attempt. Delays follow MOCK_NORCE_TIME_SCALE. Exit 0 when "
                                   "delivered, 1 when dead. The log is kept in memory only.")
    p.add_argument("type", metavar="TYPE", help="event type, e.g. OrderConfirmedEvent")
    p.add_argument("--url", help="subscriber URL (default: the type's subscription or MOCK_NORCE_SUBSCRIBER_URL)")
    _payload_options(p)
    p.add_argument("--server", metavar="URL", help=SERVER_HELP + "; prints the server's answer as JSON")
    p.add_argument("--invalid", action="store_true",
                   help="with --server: send even if the overrides break the schema (recorded as invalid)")
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
    _chaos_option(p, "the run's events (seed default: the run's)")
    p.add_argument("--server", metavar="URL", help=SERVER_HELP + "; prints the run as JSON at once")
    p.set_defaults(func=cmd_run)

    # Against a running server only (the UI's "Do this from code" shows them); token: MOCK_NORCE_API_TOKEN.
    p = sub.add_parser("redeliver", help="redeliver a delivery of a running server (--server URL)",
                       description="POST /api/deliveries/ID/redeliver on the server: a new series of attempts, "
                                   "same body, URL and headers. Prints the new delivery as JSON.")
    p.add_argument("id", metavar="ID", type=int)
    p.add_argument("--url", help="redeliver to this URL instead of the delivery's own")
    _server_option(p)
    p.set_defaults(func=cmd_remote, remote="redeliver")

    p = sub.add_parser("subscribe", help="set a type's URL, headers and ON/OFF on a running server (--server URL)",
                       description="PUT /api/subscriptions/TYPE on the server: the whole subscription (an option "
                                   "left out is the default). Prints the subscription as JSON.")
    p.add_argument("type", metavar="TYPE")
    p.add_argument("--url", help="the type's own URL (default: none, the default subscriber URL)")
    p.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="a static header (repeatable)")
    p.add_argument("--off", action="store_true", help="switch the type OFF (its events are not recorded)")
    _chaos_option(p, "the type's events (seed default: 0)")
    p.add_argument("--policy", help="current or legacy (default: the server's MOCK_NORCE_POLICY)")
    p.add_argument("--content-type", help="application/json or 'application/json; charset=utf-8' "
                                          "(default: the server's MOCK_NORCE_CONTENT_TYPE)")
    p.add_argument("--redirect-headers", help="origin or dotnet (default: the server's MOCK_NORCE_REDIRECT_HEADERS)")
    p.add_argument("--omit", action="append", default=[], metavar="FIELD",
                   help="an optional field never posted (repeatable; Norce's metadata selection)")
    _server_option(p)
    p.set_defaults(func=cmd_remote, remote="subscribe")

    p = sub.add_parser("default-url", help="set the default subscriber URL of a running server (--server URL)",
                       description="PUT /api/subscriptions/default on the server (until its reset or restart).")
    p.add_argument("url", metavar="URL")
    _server_option(p)
    p.set_defaults(func=cmd_remote, remote="default_url")

    p = sub.add_parser("schedule", help="create a schedule on a running server (--server URL)",
                       description="POST /api/schedules on the server with REQUEST, a JSON object as the API "
                                   "takes it (see the README's Schedules section). Prints the schedule as JSON.")
    p.add_argument("request", metavar="REQUEST", help='e.g. \'{"event": "OrderConfirmedEvent", "interval": "10s"}\'')
    _server_option(p)
    p.set_defaults(func=cmd_remote, remote="schedule")

    p = sub.add_parser("conform", help="run the conformance battery against your endpoint; exit 3 on a fail",
                       description="Would Norce be happy with your endpoint? Real deliveries, each a named case "
                                   "with a verdict (pass, warn, fail, skip) and its evidence: every type accepted, "
                                   "the same event twice, one order's events in reverse, int64 ids, Nordic names, "
                                   "optional fields absent, a burst, redirects, latency against the 5 s budget. "
                                   "Exit 0 without a fail (warnings too), 3 with one, 2 for bad input.")
    p.add_argument("--url", required=True, help="your endpoint, e.g. http://127.0.0.1:8000/norce/webhook")
    p.add_argument("--types", nargs="+", metavar="TYPE",
                   help="event types to test (default: every enabled subscription, i.e. all 19)")
    p.add_argument("--header", action="append", default=[], metavar="NAME=VALUE",
                   help="a static header sent with every request, e.g. an auth token (repeatable)")
    p.add_argument("--format", choices=["table", "json", "junit", "html"], default="table",
                   help="table (default), json, junit (XML for CI) or html (a standalone page)")
    p.add_argument("--out", metavar="FILE", help="write the report there (default: stdout)")
    p.add_argument("--verify", metavar="URL",
                   help="after the battery, POST the report (with the bodies sent) there; 2xx passes the "
                        "verify case, anything else fails it (your test asserts side effects)")
    p.add_argument("--seed", type=int, help="seed of the payloads (default: random; the report says it)")
    p.add_argument("--content-type", choices=CONTENT_TYPES,
                   help="the Content-Type of every case (default: MOCK_NORCE_CONTENT_TYPE); the content-type "
                        "case sends the other one")
    p.add_argument("--redirect-headers", choices=REDIRECT_HEADER_RULES,
                   help="static headers on a redirect (default: MOCK_NORCE_REDIRECT_HEADERS)")
    p.add_argument("--policy", choices=POLICIES,
                   help="whose retries the reasons speak of: current or legacy (default: MOCK_NORCE_POLICY)")
    p.set_defaults(func=cmd_conform)

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
