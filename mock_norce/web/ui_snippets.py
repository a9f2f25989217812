"""The pages' "Do this from code" blocks: the snippets (web/snippets.py, pure) of what a page
shows or the reader just did, made from the records themselves, as template globals.

A fire is written from the delivery as recorded (every field of its body as an override,
every field it lacks omitted, its URL), so the code sends exactly that body again, however
the UI made it (the form, raw JSON, the dashboard's sample). A schedule's request is the one
its form built, kept in the session for the page the form leads to (with the seed drawn, so
the code replays the same events).
"""

from __future__ import annotations

from flask import request, session

from mock_norce.delivery.subscriptions import mask_url
from mock_norce.errors import MockNorceError
from mock_norce.web import snippets
from mock_norce.web.api import core
from mock_norce.web.ui_shared import bp

SCHEDULE_KEY = "schedule_request"  # the session's {schedule id: the request that created it}


def _base() -> str:
    return request.host_url.rstrip("/")


def _token() -> bool:
    return bool(core().settings.api_token)


@bp.app_template_global()
def code_for_delivery(d: dict) -> list:
    """Fire the same body again; for a redelivery, redeliver its original as it was (to this
    URL, when another); redeliver this delivery."""
    out = []
    try:
        et = core().factory.catalog.get(d["event_type"])
    except MockNorceError:
        et = None
    if et is not None and isinstance(d.get("payload"), dict):
        body = d["payload"]
        fire = {"overrides": body, "omit": [f for f in et.fields if f not in body], "url": d["url"],
                "invalid": not d["valid"]}
        out.append(snippets.fire(_base(), d["event_type"], fire, _token()))
    if d.get("redelivery_of"):
        # How this one was made: its original redelivered, to this URL when it is not the
        # original's (the "Redeliver to another URL" form).
        original = core().outbox.store.delivery(d["redelivery_of"])
        moved = original is None or mask_url(original["url"]) != d["url"]
        out.append(snippets.redeliver(_base(), d["redelivery_of"], _token(), url=d["url"] if moved else None))
    out.append(snippets.redeliver(_base(), d["id"], _token()))
    return out


@bp.app_template_global()
def code_for_run(run: dict) -> list:
    req = {"seed": run.get("seed"), "url": run.get("url"), "time_scale": run.get("time_scale"),
           "chaos": run.get("chaos")}
    return [snippets.run(_base(), run["scenario"], req, _token())]


@bp.app_template_global()
def code_for_schedule(s: dict) -> list:
    made = (session.get(SCHEDULE_KEY) or {}).get(s["id"])
    if made is None:
        return []
    return [snippets.schedule(_base(), dict(made, seed=s.get("seed")) if s.get("seed") is not None else made,
                              _token())]


@bp.app_template_global()
def code_for_subscription(s: dict) -> list:
    return [snippets.subscription(_base(), s["event_type"], s["url"], s["headers"], s["enabled"], _token(),
                                  chaos=s.get("chaos"),
                                  sending={k: s.get(k) for k in ("policy", "content_type", "redirect_headers", "omit")})]


@bp.app_template_global()
def code_for_default_url(url: str | None) -> list:
    return [snippets.default_url(_base(), url, _token())] if url else []


def remember_schedule(sid: str, data: dict) -> None:
    """Keep the request a schedule was created with, for its page's snippet (the last few only)."""
    kept = dict(session.get(SCHEDULE_KEY) or {})
    # The session is a signed, not an encrypted, cookie: a URL's password or token never goes
    # into it (nor onto the page); the snippet shows it masked, as the schedule's page does.
    kept[sid] = dict(data, url=mask_url(data["url"])) if data.get("url") else data
    session[SCHEDULE_KEY] = dict(list(kept.items())[-5:])
