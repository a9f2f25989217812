"""Reading API requests and writing API errors: the JSON body, numbers in the query, the error shape.

Every error is ``{"error": code, "message": text}`` (plus ``errors`` with JSON paths where
there are several); on Norce's own paths (``/identity/``, ``/commerce/``) it is Norce's shape
instead (``identity.norce_error``). Malformed input is a 400; a well-formed number outside its
documented range (limits.py) is a 422 ``out_of_range`` naming the range.
"""

from __future__ import annotations

from flask import Response, jsonify, request
from jsonschema import Draft202012Validator

from mock_norce.web import openapi
from mock_norce.web.identity import norce_error
from mock_norce.web.paths import is_api_path, is_norce_path
from mock_norce import safejson
from mock_norce.errors import ApiError, InvalidPayload, MockNorceError, OutOfRange
from mock_norce.limits import JSON_INT_DIGITS_MAX

_REQUEST_VALIDATORS = {name: Draft202012Validator(schema) for name, schema in openapi.REQUESTS.items()}
_RANGE_KEYWORDS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}


def error_response(status: int, code: str, message: str, errors: list | None = None) -> Response:
    if is_norce_path(request.path):
        return norce_error(status, code, message)  # Norce's shapes on Norce's paths
    body = {"error": code, "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


def error_response_for(exc: MockNorceError) -> Response:
    """The API's answer to a user error: its class's ``status`` and ``code``, and its list of problems."""
    errors = None
    if isinstance(exc, ApiError):
        errors = exc.errors
    elif isinstance(exc, InvalidPayload):
        errors = [{"path": p, "reason": r} for p, r in exc.errors]
    return error_response(exc.status, exc.code, exc.message, errors)


def is_api_request() -> bool:
    """Answer errors in JSON? (The UI's own pages get HTML; Norce's paths get JSON too.)"""
    return is_api_path(request.path) or is_norce_path(request.path)


def _number(value) -> str:
    return str(value) if isinstance(value, int) else f"{value:.15g}"  # 31622400, not 3.16224e+07


def range_text(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"between {_number(lo)} and {_number(hi)}"
    return f">= {_number(lo)}" if lo is not None else f"<= {_number(hi)}"


def body(schema_name: str, required: bool = False) -> dict:
    """The JSON object of the request, checked against a published request schema.

    The Content-Type was checked before the view ran (security.py's one hook).
    """
    raw = request.get_data(cache=True)
    if not raw:  # (only a truly empty body: whitespace alone is malformed JSON)
        if required:
            raise ApiError(400, "bad_request", "a JSON body is required")
        return {}
    data = safejson.loads(raw)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    problems = sorted(_REQUEST_VALIDATORS[schema_name].iter_errors(data), key=lambda e: list(map(str, e.path)))
    if not problems:
        return data
    errors = []
    for e in problems:
        path = "$" + "".join(f".{p}" for p in e.absolute_path)
        reason = e.message
        if e.validator in _RANGE_KEYWORDS:
            lo = e.schema.get("minimum", e.schema.get("exclusiveMinimum"))
            hi = e.schema.get("maximum", e.schema.get("exclusiveMaximum"))
            reason = f"must be {range_text(lo, hi)}, got {e.instance!r}"
        errors.append({"path": path, "reason": reason})
    message = "; ".join(f"{e['path']}: {e['reason']}" for e in errors)
    if all(e.validator in _RANGE_KEYWORDS for e in problems):
        raise ApiError(422, OutOfRange.code, message, errors)
    raise ApiError(400, "bad_request", message, errors)


def number_arg(name: str, default=None, *, minimum: float, maximum: float, integer: bool = False):
    """A number from the query: 400 if it is not one, 422 naming the range if outside it."""
    raw = request.args.get(name)
    if raw is None:
        return default
    kind = "an integer" if integer else "a number"
    if integer and len(raw.strip().lstrip("+-")) > JSON_INT_DIGITS_MAX:
        raise OutOfRange(f"{name} must be {range_text(minimum, maximum)}, got {raw[:30]}...")
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be {kind}, got {raw[:40]!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ApiError(400, "bad_parameter", f"{name} must be a finite number, got {raw[:40]!r}")
    if not minimum <= value <= maximum:
        raise OutOfRange(f"{name} must be {range_text(minimum, maximum)}, got {raw[:40]}")
    return value
