"""The control API's world part: advance an order through its lifecycle, count the entities.

Nested in the API Blueprint (web/api.py), so its errors have the API's JSON shape. The
entities themselves are read through Norce's own Query API (web/query_api.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from mock_norce.limits import INT64_MAX
from mock_norce.web.jsonio import body

bp = Blueprint("world_api", __name__)


def _core():
    return current_app.extensions["mock_norce"]


@bp.post(f"/api/orders/<int(max={INT64_MAX}):order_id>/advance")
def advance_order(order_id):
    data = body("AdvanceRequest", required=True)
    done = _core().advancer.advance(order_id, data.get("to"), seed=data.get("seed"), url=data.get("url"))
    return jsonify(done), (202 if done["events"] else 200)


@bp.get("/api/world")
def world_counts():
    world = _core().world
    return jsonify(entity_sets=world.counts(), failures=world.failures)
