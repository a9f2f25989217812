"""Subscriptions: Norce's "Event configuration", one per event type.

Each type has an optional URL of its own (else the default subscriber URL), static headers
and an ON/OFF switch. As in Norce, an event of a type that is OFF is not recorded at all.
Each may also set how its events are sent (else the global settings): the retry policy, the
Content-Type, the rule for static headers on a redirect, and which optional fields are never
posted (Norce's admin "metadata selection").
Loaded from a YAML/JSON file (``MOCK_NORCE_CONFIG``) and changeable at run time; every
change is checked first (URL scheme, CR/LF in headers, unknown types) and refused whole.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import yaml

from mock_norce.delivery import chaos as chaos_spec
from mock_norce.delivery.chaos import Chaos
from mock_norce.errors import MockNorceError, NoSubscriber, SubscriptionError, UnknownEventType
from mock_norce.delivery.iri import BadUrl, to_uri
from mock_norce.limits import HEADERS_MAX
from mock_norce.settings import CONTENT_TYPES, POLICIES, REDIRECT_HEADER_RULES


_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Managed by the sender: a static header may not replace them.
_RESERVED = {"host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "te", "trailer"}
_SECRET = re.compile(r"auth|token|key|secret|passw|cookie|signature|session|credential", re.I)
MASK = "********"


@dataclass(frozen=True)
class Subscription:
    event_type: str
    url: str | None = None  # None: the default subscriber URL
    headers: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True
    chaos: Chaos | None = None  # seeded sender-side chaos of this type's events (chaos.py)
    policy: str | None = None  # None: the global one (MOCK_NORCE_POLICY), and so on
    content_type: str | None = None
    redirect_headers: str | None = None
    omit: tuple[str, ...] = ()  # optional fields never posted for this type


@dataclass(frozen=True)
class Sending:
    """How a delivery is sent: its retry policy, Content-Type and redirect header rule."""

    policy: str = "current"
    content_type: str = "application/json"
    redirect_headers: str = "origin"


# The per-type settings of how events are sent, and the values each may take (None: the global one).
_CHOICES = {"policy": POLICIES, "content_type": CONTENT_TYPES, "redirect_headers": REDIRECT_HEADER_RULES}
_SETTINGS = {"url", "headers", "enabled", "chaos", "omit", *_CHOICES}


def check_choice(name: str, value: Any) -> str | None:
    """A policy, content_type or redirect_headers setting, or SubscriptionError naming it."""
    allowed = _CHOICES[name]
    if value is not None and value not in allowed:
        raise SubscriptionError(f"{name} must be one of {', '.join(allowed)} (or null: the global setting), "
                                f"got {value!r:.60}", field=name)
    return value


def check_url(url: Any, allow_link_local: bool = False, what: str = "URL") -> str:
    """The URL as mock-norce will send it, if it can post to it; SubscriptionError saying why not.

    An IRI (``http://bücher.example/hooks/€``) comes back as the URI Norce's .NET client
    would send (``http://xn--bcher-kva.example/hooks/%E2%82%AC``, see iri.py); that converted
    URL is the one to store and send. A URL that is a valid URI already comes back unchanged.
    """
    if not isinstance(url, str) or not url.strip():
        raise SubscriptionError(f"{what} must be a non-empty string", field="url")
    try:
        uri = to_uri(url)
    except BadUrl as exc:
        raise SubscriptionError(f"{what} {mask_url(url)!r} {exc}", field="url") from None
    host = (urlsplit(uri).hostname or "").split("%")[0]  # no IPv6 zone
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and not allow_link_local:
        mapped = getattr(ip, "ipv4_mapped", None) or ip
        if mapped.is_link_local:
            raise SubscriptionError(f"{what} {mask_url(uri)!r} is a link-local (cloud metadata) address; "
                                    "set MOCK_NORCE_ALLOW_LINK_LOCAL=1 to allow it", field="url")
    return uri


def check_headers(headers: Any) -> dict[str, str]:
    """Static headers as a dict of strings, or SubscriptionError naming the bad one."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise SubscriptionError("headers must be a mapping of name to value", field="headers")
    if len(headers) > HEADERS_MAX:
        raise SubscriptionError(f"at most {HEADERS_MAX} static headers, got {len(headers)}", field="headers")
    out: dict[str, str] = {}
    seen: set[str] = set()  # lower-case names: one lookup per header, not a scan (was quadratic)
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise SubscriptionError(f"header name {name!r} is not a valid HTTP header name", field="headers")
        if name.lower() in _RESERVED:
            raise SubscriptionError(f"header {name!r} is set by mock-norce itself and cannot be configured",
                                    field="headers")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise SubscriptionError(f"header {name!r} must have a string value", field="headers")
        value = str(value)
        if any(c in value for c in "\r\n\0"):
            raise SubscriptionError(f"header {name!r} contains CR, LF or NUL (header injection)", field="headers")
        if any(ord(c) > 255 for c in value):
            raise SubscriptionError(f"header {name!r} has characters outside Latin-1", field="headers")
        if name.lower() in seen:
            raise SubscriptionError(f"header {name!r} is given twice", field="headers")
        seen.add(name.lower())
        out[name] = value
    return out


def is_secret(name: str) -> bool:
    return bool(_SECRET.search(name))


def mask_headers(headers):
    """Headers fit to show: values of secret-looking headers replaced by a mask.

    A mapping gives a dict; a list of (name, value) pairs (repeated names kept, as received
    by the sink or from a subscriber) gives a list of [name, value] pairs.
    """
    if isinstance(headers, Mapping):
        return {k: (MASK if is_secret(k) else v) for k, v in headers.items()}
    return [[k, MASK if is_secret(k) else v] for k, v in headers]


def _mask_params(text: str) -> str:
    def one(part: str) -> str:
        key, sep, _ = part.partition("=")
        return f"{key}={MASK}" if sep and is_secret(unquote_plus(key)) else part
    return "&".join(one(p) for p in text.split("&"))


def mask_url(url: str | None) -> str | None:
    """A URL fit to show: its password and secret-looking query (and fragment) values masked.

    The one masking function for URLs: API views, UI templates (the ``mask_url`` filter) and
    CLI output all call it. Idempotent, so masking a masked URL changes nothing.
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    netloc = parts.netloc
    if password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:{MASK}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, _mask_params(parts.query) if parts.query else "",
                       _mask_params(parts.fragment) if parts.fragment else ""))


def unmask_url(sent: str | None, current: str | None) -> str | None:
    """The URL to store: a masked URL sent back unchanged (from a GET or the UI) keeps the real one."""
    if sent and current and sent != current and sent == mask_url(current):
        return current
    return sent


class Subscriptions:
    """The subscription of every known event type, changeable while the app runs."""

    def __init__(self, event_types: list[str], default_url: str | None = None,
                 allow_link_local: bool = False, sending: Sending = Sending(),
                 fields: Mapping[str, tuple[list[str], list[str]]] | None = None):
        self._types = list(event_types)
        self.allow_link_local = allow_link_local
        self.sending_default = sending  # the global settings (MOCK_NORCE_POLICY, ...)
        self._fields = fields or {}  # type -> (its fields, its required fields), for `omit`
        self._default = check_url(default_url, allow_link_local, "default subscriber URL") if default_url else None
        self._subs = {t: Subscription(t) for t in self._types}
        self._lock = threading.Lock()
        self._boot = (dict(self._subs), self._default)
        # The position of the next event in each type's chaos stream: from 0 again when its
        # chaos is set and at a reset, so the same seed gives the same chaos from there on.
        self._chaos_next: dict[str, int] = {}

    def mark_boot(self) -> None:
        """Remember the settings as they are now (environment and config file applied) as the
        boot configuration that ``reset`` goes back to."""
        with self._lock:
            self._boot = (dict(self._subs), self._default)

    def reset(self) -> None:
        """Back to the boot configuration: every URL, header and ON/OFF switch, and the default URL.
        (Subscription objects are frozen and replaced whole on a change, so a shallow copy is the state.)"""
        with self._lock:
            self._subs, self._default = dict(self._boot[0]), self._boot[1]
            self._chaos_next.clear()

    @property
    def default_url(self) -> str | None:
        return self._default

    def set_default_url(self, url: str | None) -> None:
        self._default = check_url(url, self.allow_link_local, "default subscriber URL") if url else None

    def get(self, event_type: str) -> Subscription:
        try:
            return self._subs[event_type]
        except KeyError:
            raise UnknownEventType(event_type, self._types) from None

    def all(self) -> list[Subscription]:
        return list(self._subs.values())

    def update(self, event_type: str, **changes) -> Subscription:
        """Change url, headers, enabled, chaos, policy, content_type, redirect_headers and/or
        omit of one type; all checked before anything changes."""
        current = self.get(event_type)
        unknown = set(changes) - _SETTINGS
        if unknown:
            raise SubscriptionError(f"unknown subscription setting(s): {', '.join(sorted(unknown))}")
        if "url" in changes and changes["url"] is not None:
            changes["url"] = check_url(changes["url"], self.allow_link_local)
        if "headers" in changes:
            changes["headers"] = check_headers(changes["headers"])
        if "enabled" in changes and not isinstance(changes["enabled"], bool):
            raise SubscriptionError("enabled must be true or false")
        if "chaos" in changes:
            changes["chaos"] = chaos_spec.parse(changes["chaos"]) or None
        for name in _CHOICES.keys() & changes.keys():
            check_choice(name, changes[name])
        if "omit" in changes:
            changes["omit"] = self.check_omit(event_type, changes["omit"])
        with self._lock:
            new = self._subs[event_type] = replace(current, **changes)
            if "chaos" in changes:
                self._chaos_next.pop(event_type, None)
        return new

    def chaos_positions(self, event_types: list[str]) -> list[tuple[Chaos | None, int]]:
        """The chaos of each of these events (of types ON) by its subscription, and its
        position in its type's stream, taken in order under the lock."""
        out = []
        with self._lock:
            for event_type in event_types:
                spec = self._subs[event_type].chaos
                if spec is None:
                    out.append((None, 0))
                    continue
                position = self._chaos_next.get(event_type, 0)
                self._chaos_next[event_type] = position + 1
                out.append((spec, position))
        return out
    def check_omit(self, event_type: str, omit: Any) -> tuple[str, ...]:
        """The optional fields of a type never to post, or SubscriptionError naming the one
        that is required or unknown (an omitted required field would break the schema)."""
        if omit is None:
            return ()
        if isinstance(omit, str) or not isinstance(omit, (list, tuple)) or not all(isinstance(n, str) for n in omit):
            raise SubscriptionError("omit must be a list of field names", field="omit")
        fields, required = self._fields.get(event_type, ((), ()))
        for name in omit:
            if name in required:
                raise SubscriptionError(f"omit: {name} is required in {event_type} and is always posted", field="omit")
            if name not in fields:
                raise SubscriptionError(f"omit: {event_type} has no field {name!r:.60}; its optional fields are "
                                        f"{', '.join(f for f in fields if f not in required) or 'none'}", field="omit")
        return tuple(dict.fromkeys(omit))  # in the order given, each once

    def optional_fields(self, event_type: str) -> list[str]:
        """The fields of a type a subscription may leave out (not required by its schema)."""
        fields, required = self._fields.get(event_type, ((), ()))
        return [f for f in fields if f not in required]

    def sending(self, event_type: str) -> Sending:
        """How events of this type are sent now: its own settings, else the global ones."""
        sub, default = self.get(event_type), self.sending_default
        if sub.policy is None and sub.content_type is None and sub.redirect_headers is None:
            return default
        return Sending(sub.policy or default.policy, sub.content_type or default.content_type,
                       sub.redirect_headers or default.redirect_headers)

    def target(self, event_type: str, url: str | None = None) -> tuple[str, dict[str, str]] | None:
        """(URL, static headers) for an event of this type, or None when the type is OFF.

        An explicit ``url`` (a one-off target) wins over the subscription's and the default.
        """
        sub = self.get(event_type)
        if not sub.enabled:
            return None
        chosen = check_url(url, self.allow_link_local) if url else (sub.url or self._default)
        if chosen is None:
            raise NoSubscriber(f"no subscriber URL for {event_type}: set MOCK_NORCE_SUBSCRIBER_URL, "
                               "configure the type, or pass a URL")
        return chosen, dict(sub.headers)

    def load(self, path: Path) -> None:
        """Apply a config file: ``subscriber_url`` and ``subscriptions: {Type: {...}}``."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))  # JSON is YAML too
        except OSError as exc:
            raise SubscriptionError(f"cannot read config {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise SubscriptionError(f"config {path} is not valid YAML/JSON: {exc}") from None
        try:
            self.apply(data or {})
        except MockNorceError as exc:
            raise SubscriptionError(f"config {path}: {exc.message}") from None

    def apply(self, data: Any) -> None:
        """Apply a config mapping; nothing changes unless all of it is valid."""
        if not isinstance(data, Mapping):
            raise SubscriptionError("must be a mapping with 'subscriber_url' and/or 'subscriptions'")
        unknown = set(data) - {"subscriber_url", "subscriptions", "schedules"}
        if unknown:
            raise SubscriptionError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        staged = Subscriptions(self._types, None, self.allow_link_local, self.sending_default, self._fields)
        staged._subs = dict(self._subs)
        default = data.get("subscriber_url")
        if default is not None:
            staged.set_default_url(default)
        subs = data.get("subscriptions") or {}
        if not isinstance(subs, Mapping):
            raise SubscriptionError("'subscriptions' must map event types to settings")
        for name, settings in subs.items():
            if not isinstance(settings, Mapping):
                raise SubscriptionError(f"subscriptions.{name} must be a mapping (url, headers, enabled, chaos, "
                                        "policy, content_type, redirect_headers, omit)")
            unnamed = [k for k in settings if not isinstance(k, str)]
            if unnamed:
                raise SubscriptionError(f"subscriptions.{name}: setting names must be text, got {unnamed[0]!r:.40}")
            staged.update(str(name), **dict(settings))
        with self._lock:
            self._subs = staged._subs
            if default is not None:
                self._default = staged._default
