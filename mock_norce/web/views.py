"""What the API and the UI show of deliveries, runs, schedules, subscriptions and sink records.

Each view is a copy with every URL through ``mask_url`` and every header list through
``mask_headers`` (secret-looking values masked), so no page or answer can show a secret that
another one hides. Templates mask again with the same functions as Jinja filters.
"""

from __future__ import annotations

import copy
import json

from mock_norce.world.links import entity_links
from mock_norce.delivery.subscriptions import mask_headers, mask_url


def delivery_view(d: dict) -> dict:
    """A delivery fit to show: secret header values and URL secrets masked, body parsed."""
    out = dict(d)
    out["headers"] = mask_headers(d["headers"])
    out["url"] = mask_url(d["url"])
    try:
        out["payload"] = json.loads(d["body"])
    except (ValueError, RecursionError):
        out["payload"] = None
    if "attempt_log" in d:
        out["attempt_log"] = [_attempt_view(a) for a in d["attempt_log"]]
    out["entities"] = entity_links(out["payload"])  # the Query API paths of the ids it carries
    return out


def _attempt_view(attempt: dict) -> dict:
    out = dict(attempt)
    out["url"] = mask_url(attempt["url"])
    out["hops"] = [dict(hop, url=mask_url(hop["url"])) for hop in attempt.get("hops", ())]
    if attempt.get("response_headers"):
        out["response_headers"] = mask_headers(attempt["response_headers"])
    return out


def run_view(run: dict) -> dict:
    return dict(run, url=mask_url(run.get("url")))


def schedule_view(schedule: dict) -> dict:
    out = copy.deepcopy(schedule)
    spec = out.get("spec") or {}
    if spec.get("url"):
        spec["url"] = mask_url(spec["url"])
    return out


def subscription_view(sub, subs) -> dict:
    """A subscription fit to show (``subs``: the Subscriptions it is one of), with how its
    events are sent now."""
    default_url = subs.default_url
    effective = sub.url or default_url
    out = {"event_type": sub.event_type, "url": mask_url(sub.url), "effective_url": mask_url(effective),
           "headers": mask_headers(sub.headers), "enabled": sub.enabled,
           "chaos": sub.chaos.to_dict() if sub.chaos is not None else None}
    sending = subs.sending(sub.event_type)
    out.update(policy=sub.policy, content_type=sub.content_type, redirect_headers=sub.redirect_headers,
               omit=list(sub.omit), optional_fields=subs.optional_fields(sub.event_type),
               effective={"policy": sending.policy, "content_type": sending.content_type,
                          "redirect_headers": sending.redirect_headers})
    return out


def sink_view(record) -> dict:
    out = record.to_dict()
    out["headers"] = mask_headers(record.headers)
    out["query"] = _mask_query(record.query)
    return out


def _mask_query(query: str) -> str:
    """A query string masked as a URL's would be (the sink shows what senders put in theirs)."""
    return mask_url("?" + query)[1:] if query else query
