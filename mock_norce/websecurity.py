"""Web security: the optional API token, CSRF tokens for UI forms, and response headers.

With ``MOCK_NORCE_API_TOKEN`` set, the API wants ``Authorization: Bearer <token>`` and the UI
wants the token once at /login (then a signed session cookie). /healthz and the sink's
receiving end stay open: a health check and a webhook sender carry no token. The API takes
only ``application/json`` bodies, which a cross-site form cannot send, and every UI form
carries a CSRF token bound to the session.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, jsonify, redirect, request, session, url_for

OPEN_PATHS = ("/healthz", "/static/", "/login", "/favicon.ico")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")


def token_matches(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


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
    sent = request.form.get("csrf_token")
    if not sent or "csrf" not in session or not hmac.compare_digest(sent, session["csrf"]):
        abort(403, description="The form has expired or did not come from this page: reload and try again.")


def _is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/openapi.json" or path == "/metrics"


def install(app: Flask, api_token: str | None) -> None:
    """Register the token check, CSRF check and security headers on the app."""
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def require_token():
        path = request.path
        if request.method == "POST" and path.startswith("/sink/"):
            return None  # webhook deliveries to the built-in sink carry no token
        if api_token and not path.startswith(OPEN_PATHS):
            if token_matches(bearer(), api_token):
                return None
            if _is_api(path) and request.method == "GET" and session.get("authed"):
                return None  # the UI's own live figures, read with the signed-in session
            if _is_api(path):
                response = jsonify(error="unauthorized",
                                   message="this mock-norce needs Authorization: Bearer <MOCK_NORCE_API_TOKEN>")
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Bearer realm="mock-norce"'
                return response
            if not session.get("authed"):
                return redirect(url_for("ui.login", next=request.full_path))
        if request.method in ("POST", "PUT", "DELETE", "PATCH") and not _is_api(path) \
                and not path.startswith("/sink/"):
            check_csrf()
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response
