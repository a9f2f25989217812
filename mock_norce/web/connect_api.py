"""Connect's job lookup: ``GET /commerce/connect/4.0/api/Job/Get?id={JobId}``.

A ``JobCompletedEvent`` names a job; its subscriber asks Connect for it (query.md §2.5). The
answer is Connect's ``JobDto`` for the jobs the world has seen (an unknown id is 404). Behind
Norce's door (``require_norce_auth``), like the Query API.
"""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request

from mock_norce.web.identity import norce_error, require_norce_auth

bp = Blueprint("connect_api", __name__)
bp.before_request(require_norce_auth)

_FINISHED = {2, 3, 4}  # Succeeded, Failed, Validation failed (5 Validating and 6 Queued run on)


def _stamp(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@bp.get("/commerce/connect/4.0/api/Job/Get")
def get_job():
    raw = request.args.get("id", "")
    if not raw.isdigit() or len(raw) > 10:
        return norce_error(400, "bad_request", f"id must be a job id (a non-negative integer), got {raw!r}")
    job = current_app.extensions["mock_norce"].world.job(int(raw))
    if job is None:
        return norce_error(404, "not_found", f"no job {raw}")
    finished = job["StatusId"] in _FINISHED
    seconds = int((job["Stop"] or job["Start"]) - job["Start"])
    rows = 20 + job["JobId"] % 980  # a stable, plausible size for the job's file
    failed = rows // 10 if job["StatusId"] in (3, 4) else 0
    return jsonify({
        "JobId": job["JobId"], "StatusId": job["StatusId"], "IsFinished": finished,
        "Start": _stamp(job["Start"]), "Stop": _stamp(job["Stop"]) if finished else None,
        "LastUpdated": _stamp(job["Stop"] or job["Start"]),
        "RunTime": f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}",
        "Totals": rows, "Insert": (rows - failed) // 3, "Updates": rows - failed - (rows - failed) // 3,
        "Fail": failed, "StorageName": None,
    })
