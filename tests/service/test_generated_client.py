"""A typed client generated from a running server's /openapi.json fires and reads a delivery.

openapi-python-client (the test extra) reads the document of a real `mock-norce serve`; it must
not warn about any schema or operation it could not use (it drops the models of loose schemas
and says so), and the package it writes, imported in a fresh interpreter, fires an event to
the built-in sink and reads the delivery back as typed models, with functions named after the
operationIds. Slow (a generator run and a second interpreter): part of ./dev test, not of -m "not slow".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import urllib.request

import pytest

from ..conftest import skip_or_fail

pytestmark = pytest.mark.slow

GENERATOR = shutil.which("openapi-python-client", path=os.path.dirname(sys.executable)) \
    or shutil.which("openapi-python-client")
# No formatter run afterwards (ruff is not needed to use the client), and a fixed package name.
CONFIG = "post_hooks: []\nproject_name_override: mock-norce-client\npackage_name_override: mock_norce_client\n"

SMOKE = textwrap.dedent('''
    import sys

    from mock_norce_client import Client
    from mock_norce_client.api.deliveries import get_delivery
    from mock_norce_client.api.events import fire_event
    from mock_norce_client.api.service import reset
    from mock_norce_client.api.sink import list_sink_requests
    from mock_norce_client.models import Attempt, Delivery, FireRequest, FireResult, ResetResult, SinkPage

    client = Client(base_url=sys.argv[1], raise_on_unexpected_status=True)
    fired = fire_event.sync("OrderConfirmedEvent", client=client, body=FireRequest(seed=42), wait=5.0)
    assert isinstance(fired, FireResult), fired
    assert fired.recorded is True and fired.valid is True and isinstance(fired.delivery, Delivery)
    assert fired.delivery.url.endswith("/sink/default"), fired.delivery.url

    delivery = get_delivery.sync(fired.delivery.id, client=client)
    assert isinstance(delivery, Delivery), delivery
    assert delivery.status == "delivered" and delivery.attempts == 1, delivery.status
    assert delivery.payload["OrderId"] == fired.payload["OrderId"]
    attempt = delivery.attempt_log[0]
    assert isinstance(attempt, Attempt) and attempt.status_code == 200 and attempt.number == 1
    assert all(len(pair) == 2 and all(isinstance(x, str) for x in pair) for pair in attempt.response_headers)
    assert delivery.entities[0].kind == "order" and delivery.entities[0].id == fired.payload["OrderId"]

    page = list_sink_requests.sync(client=client, wait=5.0, count=1, path="default")
    assert isinstance(page, SinkPage) and page.complete is True and page.matched == 1
    assert page.items[0].body == delivery.body

    done = reset.sync(client=client, body={})
    assert isinstance(done, ResetResult) and done.reset is True and done.deleted.deliveries == 1, done
    print("typed client ok")
''')


def test_a_client_generated_from_openapi_json_fires_and_reads_a_delivery(served, tmp_path):
    if GENERATOR is None:
        skip_or_fail("openapi-python-client is not installed (pip install -e '.[test]')")
    s = served()
    with urllib.request.urlopen(s.url + "/openapi.json", timeout=10) as resp:
        document = json.load(resp)
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    out = subprocess.run([GENERATOR, "generate", "--path", str(spec), "--config", str(config),
                          "--output-path", str(tmp_path / "client")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    said = out.stdout + out.stderr
    assert out.returncode == 0, said
    # It warns about each schema or operation it drops ("Unable to process schema", "Cannot
    # parse response", "Endpoint will not be generated"): none may be.
    assert not [line for line in said.splitlines()
                if any(w in line.lower() for w in ("warning", "unable", "cannot", "unsupported", "error"))], said
    assert (tmp_path / "client" / "mock_norce_client" / "models" / "delivery.py").exists()

    run = subprocess.run([sys.executable, "-c", SMOKE, s.url], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=str(tmp_path / "client")), cwd=tmp_path)
    assert run.returncode == 0 and "typed client ok" in run.stdout, run.stdout + run.stderr
    assert "Traceback" not in s.output(), s.output()[-3000:]
