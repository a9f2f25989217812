"""Norce's identity server and the door of its read APIs, without HTTP.

**Tokens** (``TokenIssuer.issue``): OAuth2 client credentials as Norce documents them
(query.md §1.3): ``POST /identity/1.0/connect/token`` with a form-encoded body
``grant_type=client_credentials&client_id=...&client_secret=...&scope=playground``. The client
may authenticate with HTTP Basic instead (RFC 6749 §2.3.1: id and secret form-encoded, then
Base64), not with both. ``scope`` is space-delimited; Norce's scopes are its environments,
``playground``, ``stage`` and ``prod``, and a token may carry several. A missing scope, or any
other word, is ``invalid_scope`` (RFC 6749 §3.3 lets a server refuse instead of picking a
default; refusing shows a client that forgot the scope, which real Norce may or may not
forgive). The answer is ``{"access_token", "expires_in", "token_type": "Bearer", "scope"}``;
the token is a JWT (HS256, signed with a key random per issuer, i.e. per process: a token
from before a restart is refused, as one from another tenant would be) with ``iss``,
``client_id``, ``scope``, ``iat``, ``nbf``, ``exp`` and ``jti``.

**Refusals** (RFC 6749 §5.2, ``OAuthError``): ``invalid_request`` 400 (a parameter missing or
repeated, a body that is not form-encoded, two ways of authenticating), ``unsupported_grant_type``
400, ``invalid_client`` 401 (no credentials, or ones the configured clients do not have),
``invalid_scope`` 400. With no clients configured any id and non-empty secret are accepted.

**Rate limits.** ``token_rate_limit="norce"``: the token endpoint allows 3 requests a minute per
IP plus a burst of 20 (Norce's documented numbers; modelled as a bucket of 20 that refills at 3
a minute, so 23 in a first minute), then ``RateLimited`` (429, ``Retry-After``). Every request
counts, refused ones too. The Query API's limit (``NorceAuth``, ``query_rate`` a second per
client, a burst of one second's worth) is mock-norce's own number: Norce documents a 429 for
abuse but no figures.

**The door** (``NorceAuth.admit``): with auth on, a valid ``Authorization: Bearer`` token
(else ``Unauthorized``, 401) and an ``ApplicationId`` header holding an application id (else
``BadApplicationId``, 400); then the Query rate limit (per client id; per IP with auth off).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping
from urllib.parse import unquote_plus

from mock_norce.errors import BadApplicationId, OAuthError, RateLimited, Unauthorized
from mock_norce.world.buckets import Buckets, retry_after

SCOPES = ("playground", "stage", "prod")
GRANT_TYPE = "client_credentials"
ISSUER = "mock-norce/identity/1.0"
DEFAULT_LIFETIME = 3600
NORCE_TOKEN_RATE = 3 / 60  # tokens a second: 3 a minute per IP ...
NORCE_TOKEN_BURST = 20     # ... plus a burst of 20
APPLICATION_ID_HEADERS = ("applicationid", "application-id")  # compared in lower case
APPLICATION_ID_MAX = 2**31 - 1  # an int32, as Norce's ApplicationId is
TOKEN_CHARS_MAX = 8192
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def parse_basic(authorization: str | None) -> tuple[str, str] | None:
    """``Authorization: Basic`` as (client id, secret), both form-decoded (RFC 6749 §2.3.1);
    None when the header is absent or names another scheme. Unreadable: ``invalid_client``."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _invalid_client("the Basic credentials are not Base64 of client_id:client_secret") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _invalid_client("the Basic credentials have no ':' between client_id and client_secret")
    return unquote_plus(client_id), unquote_plus(secret)


def _invalid_client(why: str) -> OAuthError:
    return OAuthError(401, "invalid_client", why)


def _invalid_request(why: str) -> OAuthError:
    return OAuthError(400, "invalid_request", why)


def _values(form: Mapping[str, str], name: str) -> list[str]:
    if name not in form:
        return []
    getlist = getattr(form, "getlist", None)  # a MultiDict shows repeated parameters
    return list(getlist(name)) if getlist else [form[name]]


def _one(form: Mapping[str, str], name: str) -> str | None:
    values = _values(form, name)
    if len(values) > 1:
        raise _invalid_request(f"the parameter {name} is given {len(values)} times; send it once (RFC 6749 §3.2)")
    return values[0] if values and values[0] != "" else None


class TokenIssuer:
    """Issues and checks Norce's access tokens; ``clock`` gives the time (seconds since the epoch)."""

    def __init__(self, *, clock: Callable[[], float] = time.time, lifetime: int = DEFAULT_LIFETIME,
                 clients: Mapping[str, str] | None = None, token_rate_limit: str = "off",
                 key: bytes | None = None, issuer: str = ISSUER):
        self.clock, self.lifetime, self.issuer = clock, int(lifetime), issuer
        self.clients = dict(clients) if clients is not None else None
        self._key = key or secrets.token_bytes(32)
        self.limit = Buckets(NORCE_TOKEN_RATE, NORCE_TOKEN_BURST, clock=clock) \
            if token_rate_limit == "norce" else None

    # --- the token endpoint ----------------------------------------------------------------

    def issue(self, form: Mapping[str, str], basic_auth: tuple[str, str] | None, client_ip: str, *,
              form_encoded: bool = True) -> dict:
        """The answer to a token request, or OAuthError / RateLimited.

        ``form`` is the body's parameters (a MultiDict shows repeats, which are refused);
        ``basic_auth`` the (id, secret) of an ``Authorization: Basic`` header (``parse_basic``);
        ``form_encoded`` False when the body was not ``application/x-www-form-urlencoded``.
        """
        if self.limit is not None:
            wait = self.limit.take(client_ip)
            if wait:
                raise RateLimited(f"too many token requests from {client_ip}: Norce allows 3 a minute per IP "
                                  f"plus a burst of 20; retry in {retry_after(wait)} s, and reuse a token "
                                  f"until it expires", retry_after(wait))
        if not form_encoded:
            raise _invalid_request("send the parameters form-encoded "
                                   "(Content-Type: application/x-www-form-urlencoded), not as JSON or a query")
        grant_type = _one(form, "grant_type")
        if grant_type is None:
            raise _invalid_request("grant_type is missing; Norce's token endpoint takes "
                                   "grant_type=client_credentials")
        if grant_type != GRANT_TYPE:
            raise OAuthError(400, "unsupported_grant_type",
                             f"grant_type {_show(grant_type)} is not supported; use client_credentials")
        client_id, secret = self._credentials(form, basic_auth)
        scope = _one(form, "scope")
        self._authenticate(client_id, secret)
        scopes = self._scopes(scope)
        now = int(self.clock())
        claims = {"iss": self.issuer, "nbf": now, "iat": now, "exp": now + self.lifetime,
                  "client_id": client_id, "scope": " ".join(scopes), "jti": secrets.token_hex(8)}
        return {"access_token": self._sign(claims), "expires_in": self.lifetime, "token_type": "Bearer",
                "scope": claims["scope"]}

    def _credentials(self, form: Mapping[str, str], basic: tuple[str, str] | None) -> tuple[str, str]:
        form_id, form_secret = _one(form, "client_id"), _one(form, "client_secret")
        if basic is not None:
            if form_secret is not None:
                raise _invalid_request("the client authenticated twice (HTTP Basic and client_secret in the "
                                       "body); use one (RFC 6749 §2.3)")
            if form_id is not None and form_id != basic[0]:
                raise _invalid_request("client_id in the body is not the one in the Basic credentials")
            return basic
        if form_id is None:
            raise _invalid_client("no client credentials: send client_id and client_secret in the body "
                                  "(or as HTTP Basic)")
        if form_secret is None:
            raise _invalid_client(f"client_secret is missing for client {_show(form_id)}")
        return form_id, form_secret

    def _authenticate(self, client_id: str, secret: str) -> None:
        if not client_id or not secret:
            raise _invalid_client("client_id and client_secret must not be empty")
        if self.clients is None:
            return  # MOCK_NORCE_QUERY_CLIENTS unset: any client is welcome
        expected = self.clients.get(client_id)
        given = secret.encode("utf-8", "backslashreplace")
        if expected is None or not hmac.compare_digest(given, expected.encode("utf-8", "backslashreplace")):
            raise _invalid_client(f"unknown client {_show(client_id)} or wrong secret "
                                  f"(the clients are set with MOCK_NORCE_QUERY_CLIENTS)")

    @staticmethod
    def _scopes(scope: str | None) -> list[str]:
        known = ", ".join(SCOPES)
        if scope is None or not scope.split():
            raise OAuthError(400, "invalid_scope", f"scope is missing; Norce's scopes are its environments: {known}")
        words = list(dict.fromkeys(scope.split()))  # in order, once each
        unknown = [w for w in words if w not in SCOPES]
        if unknown:
            raise OAuthError(400, "invalid_scope",
                             f"unknown scope {', '.join(map(_show, unknown))}; Norce's scopes are {known}")
        return words

    # --- tokens ----------------------------------------------------------------------------

    def _sign(self, claims: dict) -> str:
        head = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._key, f"{head}.{body}".encode("ascii"), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64url(signature)}"

    def check(self, authorization_header: str | None) -> dict:
        """The claims of a valid ``Authorization: Bearer <token>``; else Unauthorized (401)."""
        if not authorization_header or not authorization_header.strip():
            raise Unauthorized("no access token: send Authorization: Bearer <access_token> "
                               "(from POST /identity/1.0/connect/token)", missing=True)
        scheme, _, token = authorization_header.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized(f"the Authorization header uses {_show(scheme)}, not Bearer: "
                               f"send Authorization: Bearer <access_token>")
        token = token.strip()
        parts = token.split(".")
        if len(token) > TOKEN_CHARS_MAX or len(parts) != 3 or not all(parts) or not token.isascii():
            raise Unauthorized("the access token is malformed: not a JWT (three base64url parts with dots)")
        try:
            signature = _unb64url(parts[2])
        except ValueError:
            raise Unauthorized("the access token is malformed: its signature is not base64url") from None
        expected = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected):
            raise Unauthorized("the access token's signature is not valid: it was not issued by this "
                               "mock-norce process (tokens do not survive a restart); fetch a new one")
        claims = json.loads(_unb64url(parts[1]))  # signed by us: well-formed
        now = self.clock()
        if claims.get("iss") != self.issuer:
            raise Unauthorized("the access token was issued by another issuer")
        if now >= claims["exp"]:
            raise Unauthorized(f"the access token expired {int(now - claims['exp'])} s ago "
                               f"(it lives {claims['exp'] - claims['iat']} s); fetch a new one")
        if now < claims["nbf"]:
            raise Unauthorized("the access token is not valid yet")
        return claims


def application_id(headers: Iterable[tuple[str, str]]) -> int:
    """The application id from ``ApplicationId``, ``applicationId`` or ``application-id`` (any
    case); BadApplicationId (400) when it is missing, not a whole number, or two differ."""
    values = {value.strip() for name, value in headers if name.lower() in APPLICATION_ID_HEADERS}
    if not values:
        raise BadApplicationId("the ApplicationId header is missing: Norce's Query API wants the application id "
                               "as ApplicationId (or application-id), a whole number, e.g. ApplicationId: 1")
    if len(values) > 1:
        raise BadApplicationId(f"two different application ids were sent ({', '.join(sorted(map(_show, values)))}); "
                               f"send one ApplicationId header")
    value = values.pop()
    if not (value.isascii() and value.isdigit()) or int(value) > APPLICATION_ID_MAX:
        raise BadApplicationId(f"the ApplicationId header must be an application id, a whole number from 0 to "
                               f"{APPLICATION_ID_MAX}; got {_show(value)}")
    return int(value)


@dataclass(frozen=True)
class Admission:
    """What a request let through carries: the token's claims (None with auth off) and the application id."""

    claims: dict | None
    application_id: int | None

    @property
    def client_id(self) -> str | None:
        return self.claims["client_id"] if self.claims else None


class NorceAuth:
    """The door of the Query API and Connect's job lookup: token, application id, rate limit."""

    def __init__(self, tokens: TokenIssuer, *, enabled: bool = True, query_rate: float = 0.0,
                 clock: Callable[[], float] | None = None):
        self.tokens, self.enabled = tokens, enabled
        self.query_limit = Buckets(query_rate, max(1.0, query_rate), clock=clock or tokens.clock) \
            if query_rate > 0 else None

    def admit(self, authorization: str | None, headers: Iterable[tuple[str, str]], client_ip: str) -> Admission:
        """Let a request through (its Admission), or Unauthorized, BadApplicationId, RateLimited."""
        if not self.enabled:
            admission = Admission(None, None)
        else:
            claims = self.tokens.check(authorization)
            admission = Admission(claims, application_id(headers))
        if self.query_limit is not None:
            who = f"client {admission.client_id}" if admission.client_id else client_ip
            wait = self.query_limit.take(f"client:{admission.client_id}" if admission.client_id else f"ip:{client_ip}")
            if wait:
                raise RateLimited(f"too many requests from {who}: this mock-norce allows "
                                  f"{self.query_limit.per_second:g} a second (MOCK_NORCE_QUERY_RATE_LIMIT); "
                                  f"retry in {retry_after(wait)} s", retry_after(wait))
        return admission
