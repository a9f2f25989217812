"""The UI's Blueprint and what its page modules (ui.py, ui_forms.py) share besides ``api.core``.

Both modules add routes to this one Blueprint, so every page keeps its ``ui.*`` endpoint name;
``web/application.py`` imports both before registering it.
"""

from __future__ import annotations

from flask import Blueprint

from mock_norce.limits import JSON_INT_DIGITS_MAX, check_number

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


def form_number(raw: str | None, what: str, lo: float, hi: float, integer: bool = False):
    """A number typed in a form or a query: None if blank, else in [lo, hi] or OutOfRange (422)."""
    if raw is None or not raw.strip():
        return None
    try:
        # int() of thousands of digits is slow and refused past 4,300: too long is out of range.
        value = (int(raw) if len(raw.strip()) <= JSON_INT_DIGITS_MAX + 1 else raw) if integer else float(raw)
    except ValueError:
        value = raw
    return check_number(value, what, lo, hi, integer=integer)
