"""Norce's Query API over HTTP: ``/commerce/query/{2.0|3.0}/{Namespace}/...`` (OData v4, GET only).

Thin on purpose: the world's QueryService (``current_app.extensions["mock_norce"].query``)
answers; this module only speaks HTTP the way ASP.NET Core OData does, so clients written
against Norce see the same wire: ``OData-Version: 4.0`` on every answer, JSON as
``application/json; odata.metadata=minimal; odata.streaming=true``, ``$count`` as plain text,
errors as ``{"error": {"code": "", "message": ...}}`` (a 400's message starting "The query
specified in the URI is not valid."), and 405 with ``Allow: GET`` for the write verbs Norce
disables. ``query`` matches case-insensitively (Norce's own examples write ``Query``).
Behind Norce's door (``require_norce_auth``: a bearer token and an application id).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request

from mock_norce.errors import MockNorceError, QueryError
from mock_norce.web.identity import require_norce_auth

bp = Blueprint("query_api", __name__)
bp.before_request(require_norce_auth)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "MERGE"]
JSON = "application/json; odata.metadata=minimal; odata.streaming=true"
INVALID = "The query specified in the URI is not valid. "
VERSIONS = ("2.0", "3.0")


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    if status == 400 and not message.startswith(INVALID):
        message = INVALID + message
    body = json.dumps({"error": {"code": "", "message": message}}, ensure_ascii=False)
    response = Response(body, status=status, content_type="application/json; odata.metadata=minimal")
    response.headers["OData-Version"] = "4.0"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _ok(body, content_type: str, status: int = 200) -> Response:
    response = Response(body, status=status, content_type=content_type)
    response.headers["OData-Version"] = "4.0"
    return response


def _base_url(query: str, version: str, namespace: str) -> str:
    """The service root as the client addressed it: scheme, host, and the path to the namespace."""
    path = "/".join(quote(part, safe="") for part in ("commerce", query, version, namespace))
    return request.host_url.rstrip("/") + request.script_root + "/" + path


@bp.route("/commerce/<query>/<version>/<namespace>/", methods=METHODS, strict_slashes=False)
@bp.route("/commerce/<query>/<version>/<namespace>/<path:resource>", methods=METHODS)
def query_api(query: str, version: str, namespace: str, resource: str = ""):
    if query.lower() != "query" or version not in VERSIONS:
        return _error(404, f"No resource at {request.path}.")
    if request.method not in ("GET", "HEAD"):
        return _error(405, f"The Query API is read-only: {request.method} is not allowed.", {"Allow": "GET"})
    service = current_app.extensions["mock_norce"].query
    base = _base_url(query, version, namespace)
    try:
        if resource.strip("/") == "$metadata":
            return _ok(service.metadata(version, namespace), "application/xml")
        if not resource.strip("/"):
            return _ok(json.dumps(service.service_document(version, namespace, base), ensure_ascii=False), JSON)
        for name in request.args:
            if name.startswith("$") and len(request.args.getlist(name)) > 1:
                raise QueryError(400, f"Query option '{name}' was specified more than once, "
                                      "but it must be specified at most once.")
        body = service.handle(version, namespace, resource, request.args.to_dict(flat=True), base)
    except QueryError as exc:
        return _error(exc.status, exc.message)
    except MockNorceError as exc:  # the database unavailable (503), and the like
        return _error(exc.status, exc.message)
    if body is None:
        return _ok(b"", "application/json", 204)
    if isinstance(body, int):
        return _ok(str(body), "text/plain; charset=utf-8")
    return _ok(json.dumps(body, ensure_ascii=False), JSON)
