"""Commands that drive a running mock-norce over its control API (``--server URL``).

What the UI's "Do this from code" blocks show as the command-line way: fire, run, redeliver,
subscribe, set the default URL, create a schedule, on that server (recorded in its log, sent
by its engine). Standard library HTTP: the CLI sits below the testing package (the layering
test), so it does not borrow its client. The server's answer is printed as JSON; an error
answer is a MockNorceError (one line on stderr, exit 2).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from urllib.parse import quote

from mock_norce.delivery import chaos
from mock_norce.delivery.chaos import parse_pairs
from mock_norce.errors import MockNorceError
from mock_norce.settings import Settings

TOKEN_VARIABLE = "MOCK_NORCE_API_TOKEN"


def call(server: str, method: str, path: str, body=None):
    """One JSON request to the server; its parsed answer, or MockNorceError with its words."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if os.environ.get(TOKEN_VARIABLE):
        headers["Authorization"] = f"Bearer {os.environ[TOKEN_VARIABLE]}"
    data = json.dumps(body if body is not None else {}).encode()
    req = urllib.request.Request(server.rstrip("/") + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=70) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            err = json.loads(exc.read())
        except ValueError:
            err = {}
        message = err.get("message") if isinstance(err, dict) else None
        raise MockNorceError(f"{method} {path}: {exc.code} {message or exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise MockNorceError(f"no answer from mock-norce at {server}: {getattr(exc, 'reason', exc)}") from None


def _print(answer) -> int:
    print(json.dumps(answer, ensure_ascii=False))
    return 0


def fire(args, settings: Settings) -> int:
    from mock_norce.cli.loading import load_factory, parse_sets

    et = load_factory(settings).catalog.get(args.type)  # types --set values as the server's schema does
    body: dict = {"overrides": parse_sets(et, args.set)}
    for key in ("seed", "market", "url"):
        if getattr(args, key, None) is not None:
            body[key] = getattr(args, key)
    if args.omit:
        body["omit"] = list(args.omit)
    if getattr(args, "invalid", False):
        body["invalid"] = True
    return _print(call(args.server, "POST", f"/api/events/{quote(args.type, safe='')}?wait=10", body))


def run(args, settings: Settings) -> int:
    body = {k: v for k, v in (("seed", args.seed), ("url", args.url), ("time_scale", args.time_scale),
                              ("chaos", chaos_arg(args))) if v is not None}
    return _print(call(args.server, "POST", f"/api/scenarios/{quote(args.name, safe='')}/runs", body))


def redeliver(args, settings: Settings) -> int:
    body = {"url": args.url} if args.url else {}
    return _print(call(args.server, "POST", f"/api/deliveries/{int(args.id)}/redeliver", body))


def subscribe(args, settings: Settings) -> int:
    headers = {}
    for line in args.header:
        name, sep, value = line.partition(":")
        if not sep:
            raise MockNorceError(f"--header {line!r} needs the form 'Name: value'")
        headers[name.strip()] = value.strip()
    body = {"url": args.url, "headers": headers, "enabled": not args.off, "chaos": chaos_arg(args),
            "policy": args.policy, "content_type": args.content_type, "redirect_headers": args.redirect_headers,
            "omit": args.omit}
    return _print(call(args.server, "PUT", f"/api/subscriptions/{quote(args.type, safe='')}", body))


def default_url(args, settings: Settings) -> int:
    return _print(call(args.server, "PUT", "/api/subscriptions/default", {"url": args.url}))


def schedule(args, settings: Settings) -> int:
    try:
        body = json.loads(args.request)
    except ValueError as exc:
        raise MockNorceError(f"the schedule must be a JSON object: {exc}") from None
    return _print(call(args.server, "POST", "/api/schedules", body))


def chaos_arg(args) -> dict | None:
    """--chaos K=V,... (repeatable) as the API's chaos object, checked here first; None without it."""
    if not getattr(args, "chaos", None):
        return None
    data = parse_pairs(",".join(args.chaos))
    chaos.parse(data, "--chaos")  # a mistake said here, in the option's name
    return data
