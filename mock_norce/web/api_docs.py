"""Interactive API docs at ``/api/docs``: Swagger UI over /openapi.json, served from this process.

The Swagger UI files come from the ``flask-swagger-ui`` package, which ships the swagger-ui
distribution; only its assets are used (its own page configures Swagger UI in an inline
script, which the CSP forbids): our page loads them from ``/static/swagger-ui/`` and starts
Swagger UI from a file of ours (static/api-docs.js). No CDN: the docs work offline and in an
air-gapped CI. The assets live under ``/static/`` like the UI's, open without the API token
(they are the library's files, nothing of this instance); the page itself is an API path.
"""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, abort, render_template, send_from_directory

bp = Blueprint("docs", __name__)
# The files the page loads, and no others of the package's directory.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})


def assets_dir() -> str:
    return str(files("flask_swagger_ui") / "dist")


@bp.get("/api/docs")
def page():
    return render_template("api_docs.html")


@bp.get("/static/swagger-ui/<name>")
def asset(name):
    if name not in ASSETS:
        abort(404)
    return send_from_directory(assets_dir(), name)
