"""web/snippets.py, pure: a redelivery to another URL carries that URL in all three forms, and a
snippet that shows a masked value says so."""

from __future__ import annotations

import json

from mock_norce.delivery.subscriptions import MASK
from mock_norce.web import snippets

BASE = "http://127.0.0.1:8080"


def test_a_redelivery_to_another_url_carries_it():
    s = snippets.redeliver(BASE, 7, url="http://other.test/hook")
    assert json.loads(s.curl.rsplit("-d ", 1)[1].strip("'")) == {"url": "http://other.test/hook"}
    assert s.cli.startswith("mock-norce redeliver 7 --url http://other.test/hook ")
    assert "client.redeliver(7, url='http://other.test/hook')" in s.pytest
    compile(s.pytest, "snippet", "exec")
    plain = snippets.redeliver(BASE, 7)
    assert "--url" not in plain.cli and plain.curl.endswith("-d '{}'") and "client.redeliver(7)" in plain.pytest


def test_a_snippet_showing_a_masked_value_says_so():
    masked_url = f"https://shop:{MASK}@hooks.test/in"
    made = [
        snippets.fire(BASE, "OrderConfirmedEvent", {"url": masked_url}),
        snippets.run(BASE, "web-order", {"seed": 1, "url": masked_url}),
        snippets.default_url(BASE, masked_url),
        snippets.redeliver(BASE, 3, url=masked_url),
        snippets.subscription(BASE, "OrderConfirmedEvent", None, {"Authorization": MASK}, True),
    ]
    for s in made:
        assert MASK in s.curl and MASK in s.note, s
    clear = [snippets.fire(BASE, "OrderConfirmedEvent", {"url": "https://hooks.test/in"}),
             snippets.run(BASE, "web-order", {"seed": 1}), snippets.default_url(BASE, "https://hooks.test/in")]
    assert all(MASK not in s.note for s in clear)
