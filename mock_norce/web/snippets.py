""""Do this from code": what a UI action was, as a curl command, a CLI command and a pytest test.

Pure (no Flask): each function takes the server's base URL and the action's parameters as the
API takes them, and gives a ``Snippet`` whose three texts do exactly that (the same body, the
same URL, the same seed) against the same server, or, for the pytest one, under the plugin's
``mock_norce`` fixture. Shell words are quoted with shlex, Python values written with repr,
so a value with quotes or spaces stays one argument. With an API token the curl and CLI texts
read it from ``$MOCK_NORCE_API_TOKEN`` (the page never shows the token). A value the page shows
masked (``MASK``: a secret header, a URL's password) is masked here too, and the snippet's note
says so.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote

from mock_norce.delivery import chaos as chaos_spec
from mock_norce.delivery.subscriptions import MASK

TOKEN_VARIABLE = "MOCK_NORCE_API_TOKEN"


@dataclass(frozen=True)
class Snippet:
    """One action three ways; ``title`` says which action, ``note`` anything the reader must know."""

    title: str
    curl: str
    cli: str
    pytest: str
    note: str = ""


def _masked_note(*values: Any, kept: bool = False) -> str:
    """The note a snippet needs when it carries a masked value: ``kept``, the server puts its
    real value back when the masked one comes back unchanged (subscriptions, the default URL)."""
    if not any(isinstance(v, str) and MASK in v for v in values):
        return ""
    if kept:
        return f"Secret values are shown as {MASK}: against this server that keeps them; elsewhere put yours in."
    return f"Secret values are shown as {MASK}, as on the page: put the real ones in before you run this."


def _curl(base: str, method: str, path: str, body: Any = None, token: bool = False) -> str:
    words = ["curl", "-sS", "-X", method, shlex.quote(base.rstrip("/") + path)]
    if token:
        words += ["-H", f'"Authorization: Bearer ${TOKEN_VARIABLE}"']
    words += ["-H", shlex.quote("Content-Type: application/json")]
    words += ["-d", shlex.quote(json.dumps(body if body is not None else {}, ensure_ascii=False))]
    return " ".join(words[:5]) + " \\\n  " + " ".join(words[5:])


def _cli(words: list[str], base: str, token: bool) -> str:
    prefix = f"{TOKEN_VARIABLE}=${TOKEN_VARIABLE} " if token else ""
    return prefix + "mock-norce " + " ".join(shlex.quote(str(w)) for w in words) + \
        " --server " + shlex.quote(base.rstrip("/"))


def _py(value: Any) -> str:
    """A Python literal of the value; a long dict one member a line, inside a call's arguments."""
    text = repr(value)
    if len(text) <= 60 or not isinstance(value, dict):
        return text
    return "{\n" + "".join(f"        {k!r}: {v!r},\n" for k, v in value.items()) + "    }"


def _kwargs(pairs: list[tuple[str, Any]]) -> str:
    return "".join(f", {k}={_py(v)}" for k, v in pairs)


def _test_name(*words: str) -> str:
    name = "_".join(re.sub(r"(?<!^)(?=[A-Z])", "_", w).lower() for w in words if w)
    return "test_" + re.sub(r"[^0-9a-z_]+", "_", name).strip("_")


def _cli_value(value: Any) -> str:
    """A field's value as ``--set`` reads it: text as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def fire(base: str, event_type: str, request: Mapping[str, Any], token: bool = False) -> Snippet:
    """``request``: the body of POST /api/events/{type} (overrides, omit, seed, market, url, invalid)."""
    request = {k: v for k, v in request.items() if v not in (None, [], {}, False)}
    words = ["fire", event_type]
    for name, value in request.get("overrides", {}).items():
        words += ["--set", f"{name}={_cli_value(value)}"]
    for name in request.get("omit", []):
        words += ["--omit", name]
    for key in ("seed", "market", "url"):
        if key in request:
            words += [f"--{key}", request[key]]
    if request.get("invalid"):
        words.append("--invalid")
    args = [(k, request[k]) for k in ("seed", "market", "url", "omit", "invalid") if k in request]
    overrides = request.get("overrides")
    call = f"mock_norce.fire({event_type!r}" + (f", {_py(overrides)}" if overrides else "") + _kwargs(args) + \
        ", wait=10)"
    check = "assert not delivery.valid" if request.get("invalid") else 'assert delivery.status == "delivered"'
    test = f"def {_test_name(event_type)}(mock_norce):\n    delivery = {call}\n    {check}\n"
    return Snippet(f"Fire this {event_type}", _curl(base, "POST", f"/api/events/{quote(event_type)}?wait=10",
                                                     request, token), _cli(words, base, token), test,
                   _masked_note(request.get("url")))


def redeliver(base: str, delivery_id: int, token: bool = False, *, url: str | None = None) -> Snippet:
    """Redeliver a delivery; ``url``: to another URL (the body of the POST carries it)."""
    did = int(delivery_id)
    test = (f"from mock_norce.testing import Client\n\n\ndef test_redeliver_{did}():\n"
            f"    client = Client({base.rstrip('/')!r}" + (f", token=os.environ[{TOKEN_VARIABLE!r}]" if token else "")
            + f")\n    again = client.redeliver({did}" + (f", url={url!r}" if url else "") + ")\n"
            f"    assert again.redelivery_of == {did}\n")
    if token:
        test = "import os\n" + test
    note = "The pytest test talks to this server (the delivery is in its log), not to the plugin's own."
    masked = _masked_note(url)
    return Snippet(f"Redeliver delivery {did}" + (" to another URL" if url else ""),
                   _curl(base, "POST", f"/api/deliveries/{did}/redeliver", {"url": url} if url else {}, token),
                   _cli(["redeliver", did] + (["--url", url] if url else []), base, token), test,
                   note + (" " + masked if masked else ""))


def run(base: str, scenario: str, request: Mapping[str, Any], token: bool = False) -> Snippet:
    """``request``: the body of POST /api/scenarios/{name}/runs (seed, url, time_scale, chaos)."""
    request = {k: v for k, v in request.items() if v is not None}
    words = ["run", scenario]
    for key in ("seed", "url", "time_scale"):
        if key in request:
            words += [f"--{key.replace('_', '-')}", request[key]]
    if "chaos" in request:
        words += ["--chaos", chaos_spec.as_pairs(request["chaos"])]
    seed = request.get("seed")
    call = f"mock_norce.run({scenario!r}" + (f", {seed!r}" if seed is not None else "") + \
        _kwargs([(k, request[k]) for k in ("url", "time_scale", "chaos") if k in request]) + ", wait=60)"
    test = f"def {_test_name(scenario, 'run')}(mock_norce):\n    run = {call}\n    assert run.status == \"completed\"\n"
    return Snippet(f"Run {scenario} again (same seed: same payloads)",
                   _curl(base, "POST", f"/api/scenarios/{quote(scenario)}/runs", request, token),
                   _cli(words, base, token), test, _masked_note(request.get("url")))


def schedule(base: str, request: Mapping[str, Any], token: bool = False) -> Snippet:
    """``request``: the body of POST /api/schedules, as the UI's form made it (and its seed)."""
    test = (f"def {_test_name('schedule', str(request.get('name') or ''))}(mock_norce):\n"
            f"    created = mock_norce.call(\"POST\", \"/api/schedules\", {_py(dict(request))})\n"
            "    assert created[\"status\"] == \"active\"\n")
    return Snippet("Create this schedule", _curl(base, "POST", "/api/schedules", dict(request), token),
                   _cli(["schedule", json.dumps(dict(request), ensure_ascii=False)], base, token), test)


def subscription(base: str, event_type: str, url: str | None, headers: Mapping[str, str], enabled: bool,
                 token: bool = False, sending: Mapping[str, Any] | None = None,
                 chaos: Mapping[str, Any] | None = None) -> Snippet:
    """The subscription as saved; secret header values are masked here as on the page.
    ``sending``: its own policy, content_type, redirect_headers and omit, those that are set."""
    sending = {k: v for k, v in (sending or {}).items() if v}
    body: dict[str, Any] = {"url": url, "headers": dict(headers), "enabled": enabled, **sending}
    words = ["subscribe", event_type] + (["--url", url] if url else [])
    for name, value in headers.items():
        words += ["--header", f"{name}: {value}"]
    if not enabled:
        words.append("--off")
    for name, value in sending.items():
        for one in (value if isinstance(value, list) else [value]):
            words += [f"--{name.replace('_', '-')}", one]
    extra = "".join(f", {k}={_py(v)}" for k, v in sending.items())
    if chaos:
        body["chaos"] = dict(chaos)
        words += ["--chaos", chaos_spec.as_pairs(chaos)]
        extra = f", chaos={_py(dict(chaos))}" + extra
    test = (f"def {_test_name(event_type, 'subscription')}(mock_norce):\n"
            f"    sub = mock_norce.subscribe({event_type!r}, {url!r}, headers={_py(dict(headers))}, enabled={enabled!r}"
            f"{extra})\n"
            f"    assert sub.enabled is {enabled!r}\n")
    return Snippet(f"Save this {event_type} subscription",
                   _curl(base, "PUT", f"/api/subscriptions/{quote(event_type)}", body, token),
                   _cli(words, base, token), test, _masked_note(url, *headers.values(), kept=True))


def default_url(base: str, url: str, token: bool = False) -> Snippet:
    test = ("def test_events_go_to_my_service(mock_norce):\n"
            f"    assert mock_norce.set_default_url({url!r}) == {url!r}\n")
    return Snippet("Set the default subscriber URL",
                   _curl(base, "PUT", "/api/subscriptions/default", {"url": url}, token),
                   _cli(["default-url", url], base, token), test, _masked_note(url, kept=True))
