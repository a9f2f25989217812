"""The Flask app: the API, the UI, the sink's and Norce's identity blueprints over the parts ``app.py`` built."""

from __future__ import annotations

import secrets

from flask import Flask

from mock_norce.web import api, connect_api, identity, query_api, security, ui, ui_deliveries, ui_forms, ui_snippets  # noqa: F401 - their pages join ui_pages
from mock_norce.web import ui_chaos, ui_numbers, ui_playback  # noqa: F401 - filters and pages of the UI, as above
from mock_norce.web import ui_conformance  # noqa: F401 - the conformance page, as above
from mock_norce.web.ui_shared import bp as ui_pages


def create_app(settings, core) -> Flask:
    """A Flask app over a built core (``mock_norce.app.create_app`` is the door to use)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=settings.max_body,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False
    app.extensions["mock_norce"] = core
    security.install(app, settings.api_token)
    app.register_blueprint(api.bp)
    app.register_blueprint(identity.bp)  # Norce's token endpoint (its own auth: security.py leaves it alone)
    app.register_blueprint(connect_api.bp)  # Connect's job lookup, behind Norce's door
    app.register_blueprint(query_api.bp)  # Norce's Query API (OData) over the world, behind the same door
    # ui and ui_forms added their pages to the UI's Blueprint when they were imported.
    app.register_blueprint(ui_pages)
    return app
