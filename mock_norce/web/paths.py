"""Which part of the app a path belongs to: the one answer to "is this an API path?".

The API's paths get JSON errors, the Bearer token (401, never a login redirect), no CSRF, and
JSON-only writes; the UI's get HTML pages, the login redirect and CSRF. The API is everything
under ``/api`` (``/api`` itself included: the CLI's banner names "/api" as the API), the
sink's receiving end under ``/sink/`` (webhook senders read JSON), and three documents at the
top: ``/openapi.json``, ``/healthz``, ``/metrics``. Everything else (``/apix``, ``/sink``
the UI's page, ``/sink-clear``, ``/static/...``) is the UI's. Plain strings, no Flask: the
waitress layer (server.py) can ask too.

Norce's own APIs, under ``/identity/`` (the token endpoint) and ``/commerce/`` (Query, Connect),
are neither: they have Norce's auth instead of mock-norce's token, CSRF and JSON-only writes
(a token request is form-encoded), and their errors come in Norce's JSON shapes
(``is_norce_path``; web/identity.py). The prefixes are matched in any case, as Norce's
``/commerce/Query/2.0/`` is.
"""

from __future__ import annotations

HEALTH_PATH = "/healthz"
SINK_PREFIX = "/sink/"
_API_DOCUMENTS = frozenset({"/api", "/openapi.json", HEALTH_PATH, "/metrics"})
NORCE_PREFIXES = ("/identity/", "/commerce/")


def is_api_path(path: str) -> bool:
    """True for a path of the API (JSON, token, no CSRF), False for one of the UI."""
    return path in _API_DOCUMENTS or path.startswith(("/api/", SINK_PREFIX))


def is_norce_path(path: str) -> bool:
    """True for a path of Norce's own APIs (token endpoint, Query, Connect): Norce's auth and error shapes."""
    return path.lower().startswith(NORCE_PREFIXES)
