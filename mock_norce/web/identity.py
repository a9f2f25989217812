"""Norce's identity server over HTTP, and the door of Norce's read APIs.

``POST /identity/1.0/connect/token``: OAuth2 client credentials, a form-encoded body (or HTTP
Basic for the client), answered ``{"access_token", "expires_in", "token_type", "scope"}`` with
``Cache-Control: no-store``; refusals as RFC 6749 §5.2 ``{"error", "error_description"}``
(world/tokens.py decides; this module only translates). Other methods get 405.

``require_norce_auth``: a ``before_request`` hook for the Query API's Blueprint and Connect's
job lookup. With ``MOCK_NORCE_QUERY_AUTH=on`` a request needs ``Authorization: Bearer <token>``
(else 401 with ``WWW-Authenticate: Bearer``, plus ``error="invalid_token"`` when a token was
sent but is not valid) and an application id header (``ApplicationId``, ``applicationId``,
``application-id``, any case; else 400); then the Query rate limit (429 with ``Retry-After``).
The admitted request's ``Admission`` (claims, application id) is ``flask.g.norce``.

Errors on Norce's paths (``paths.is_norce_path``) are JSON in Norce's shapes, whoever raises
them (``jsonio.error_response`` sends them here): under ``/identity/`` the OAuth shape
``{"error": code, "error_description": message}``; under ``/commerce/`` the OData shape
``{"error": {"code": <the status's name: NotFound, Unauthorized...>, "message": message}}``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.http import HTTP_STATUS_CODES

from mock_norce.errors import MockNorceError, OAuthError, RateLimited, Unauthorized
from mock_norce.world.tokens import NorceAuth, parse_basic

bp = Blueprint("identity", __name__)
TOKEN_PATH = "/identity/1.0/connect/token"
FORM = "application/x-www-form-urlencoded"


def _auth() -> NorceAuth:
    return current_app.extensions["mock_norce"].auth


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _status_name(status: int) -> str:
    return "".join(HTTP_STATUS_CODES.get(status, "Error").title().split())  # NotFound, TooManyRequests


def norce_error(status: int, code: str, message: str) -> Response:
    """An error on one of Norce's paths, in Norce's shape for it (OAuth or OData)."""
    if request.path.lower().startswith("/identity/"):
        response = jsonify(error=code, error_description=message)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    else:
        response = jsonify(error={"code": _status_name(status), "message": message})
    response.status_code = status
    return response


def _answer(exc: MockNorceError) -> Response:
    """A refusal of the token endpoint or of the door, with the headers its status needs."""
    response = norce_error(exc.status, exc.code, exc.message)
    if isinstance(exc, OAuthError) and exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="norce-identity"'
    elif isinstance(exc, Unauthorized):
        challenge = "Bearer"
        if not exc.missing:  # RFC 6750 §3.1: no error code when no token was sent
            challenge += f' error="invalid_token", error_description="{_quotable(exc.message)}"'
        response.headers["WWW-Authenticate"] = challenge
    elif isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _quotable(text: str) -> str:
    # RFC 6750 §3: error_description is printable ASCII without '"' and '\'.
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "'" if c == '"' else "?" for c in text)


@bp.post(TOKEN_PATH)
def token():
    try:
        answer = _auth().tokens.issue(request.form, parse_basic(request.headers.get("Authorization")),
                                      _client_ip(), form_encoded=request.mimetype == FORM)
    except (OAuthError, RateLimited) as exc:
        return _answer(exc)
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def require_norce_auth():
    """``before_request`` for Norce's APIs: None to go on, or the 400/401/429 answer."""
    try:
        g.norce = _auth().admit(request.headers.get("Authorization"), request.headers.items(), _client_ip())
    except MockNorceError as exc:
        return _answer(exc)
    return None
