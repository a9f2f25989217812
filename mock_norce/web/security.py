"""Web security: the optional API token, CSRF tokens for UI forms, JSON-only API writes, headers.

With ``MOCK_NORCE_API_TOKEN`` set, the API wants ``Authorization: Bearer <token>`` and the UI
wants the token once at /login (then a signed session cookie). /healthz and the sink's
receiving end stay open: a health check and a webhook sender carry no token. Norce's own
APIs (``paths.is_norce_path``: ``/identity/...``, ``/commerce/...``) are left to Norce's auth
(web/identity.py): no mock-norce token, no CSRF, no JSON-only rule (a token request is a form). Every
state-changing API request must say ``Content-Type: application/json`` (an empty body too),
which a cross-site form cannot send without a CORS preflight; every UI form carries a CSRF
token bound to the session.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, jsonify, redirect, request, session, url_for

from mock_norce.web.paths import HEALTH_PATH, is_api_path, is_norce_path

OPEN_PATHS = (HEALTH_PATH, "/static/", "/login", "/favicon.ico")
WRITES = ("POST", "PUT", "DELETE", "PATCH")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")


def open_to_senders(view):
    """Mark a view that webhook senders call: no token, no CSRF (the sink's receiving end)."""
    view.open_to_senders = True
    return view


def _is_open_to_senders() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, "open_to_senders", False))


def _bytes(value: str) -> bytes:
    # compare_digest refuses non-ASCII str (TypeError, a 500): compare bytes instead.
    return value.encode("utf-8", "backslashreplace")


def token_matches(given: str | None, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(_bytes(given), _bytes(expected))


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def csrf_token() -> str:
    """The session's CSRF token (made on first use), for hidden form fields."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse a UI form post without the session's token (403)."""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not token_matches(request.form.get("csrf_token"), expected):
        abort(403, description="The form has expired or did not come from this page: reload and try again.")


def safe_next(target: str | None) -> str:
    """Where to go after login: a local path, or / for anything that could leave the site.

    Browsers strip tabs and newlines and read a backslash as a slash, so ``/\\tevil.example``
    or ``/\\evil.example`` would become ``//evil.example``: any of them refuses the target.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _json_error(status: int, code: str, message: str):
    response = jsonify(error=code, message=message)
    response.status_code = status
    return response


def install(app: Flask, api_token: str | None) -> None:
    """Register the token check, CSRF check, JSON-only writes and security headers on the app."""
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def require_token():
        path = request.path
        if _is_open_to_senders():
            return None  # webhook deliveries to the built-in sink carry no token
        if is_norce_path(path):
            return None  # Norce's token endpoint and APIs: Norce's own auth (identity.py)
        if api_token and not path.startswith(OPEN_PATHS):
            if token_matches(bearer(), api_token):
                return None
            if is_api_path(path) and request.method == "GET" and session.get("authed"):
                return None  # the UI's own live figures, read with the signed-in session
            if is_api_path(path):
                response = _json_error(401, "unauthorized",
                                       "this mock-norce needs Authorization: Bearer <MOCK_NORCE_API_TOKEN>")
                response.headers["WWW-Authenticate"] = 'Bearer realm="mock-norce"'
                return response
            if not session.get("authed"):
                return redirect(url_for("ui.login", next=request.full_path))
        if request.method in WRITES and not is_api_path(path) and request.routing_exception is None:
            check_csrf()  # (an unrouted request changes nothing: it gets its 404/405)
        return None

    @app.before_request
    def require_json_writes():
        # The one place: a plain HTML form (urlencoded or text/plain, even empty) can be posted
        # cross-site without a preflight; application/json cannot. Unrouted requests fall
        # through to their 404/405; the sink's receiving end takes whatever a sender sends.
        if request.method in WRITES and is_api_path(request.path) and request.routing_exception is None \
                and not _is_open_to_senders() and request.mimetype != "application/json":
            return _json_error(415, "unsupported_media_type",
                               f"send Content-Type: application/json with every {request.method} to the API, "
                               f"even without a body (got {request.mimetype or 'no content type'})")
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response
