"""A delivery as a curl command: the same POST, the same body bytes, the same headers.

Built from the delivery as the page shows it, so secret-looking header values and URL
credentials are masked here exactly as there (the command says so when it has any): the log
never hands out a secret that the page hides.
"""

from __future__ import annotations

import shlex

from mock_norce.delivery.subscriptions import MASK


def curl_command(d: dict, user_agent: str) -> str:
    """`d` is a delivery view (URL and headers already masked); the sender's own headers are
    added as it adds them (only where the static headers do not set them)."""
    given = {k.lower() for k in d["headers"]}
    headers = []
    if "content-type" not in given:
        headers.append(("Content-Type", d.get("content_type") or "application/json"))
    if "user-agent" not in given:
        headers.append(("User-Agent", user_agent))
    headers.extend(d["headers"].items())
    # --location: Norce follows redirects, and curl then turns a POST into a GET after a
    # 301/302/303 as .NET's client does.
    lines = [f"curl --location {shlex.quote(d['url'])}"]
    lines += [f"  -H {shlex.quote(f'{k}: {v}')}" for k, v in headers]
    lines.append(f"  --data-raw {shlex.quote(d['body'])}")
    return " \\\n".join(lines)


def has_masked(d: dict) -> bool:
    """Whether the command carries masked values (to be put back before it is run)."""
    return MASK in d["url"] or any(v == MASK for v in d["headers"].values())
