"""Schemathesis hooks for test_fuzz.py, loaded by the CLI through SCHEMATHESIS_HOOKS.

- The built-in sink answers any status its query asks for, 5xx included, so the fuzz run turns
  Schemathesis' "not a server error" check off for /sink/{path}; ``no_crash`` still fails on
  a real crash there (mock-norce's own 500 ``internal_error``).
- A fuzzed schedule may ask for 20,000 events/s for a year: each schedule the fuzzer creates is
  deleted at once, so the run does not turn into a soak on a 2-core machine.
"""

from __future__ import annotations

import os
import urllib.request

import schemathesis


@schemathesis.check
def no_crash(ctx, response, case):
    if response.status_code >= 500 and b'"internal_error"' in response.content:
        raise AssertionError(f"mock-norce crashed: {response.status_code} {response.content[:300]!r}")
    return None


@schemathesis.hook
def after_call(ctx, case, response):
    if case.operation.method.upper() == "POST" and case.operation.path == "/api/schedules" \
            and response.status_code == 201:
        sid = response.json()["id"]
        headers = {"Content-Type": "application/json"}
        if os.environ.get("MOCK_NORCE_FUZZ_TOKEN"):
            headers["Authorization"] = f"Bearer {os.environ['MOCK_NORCE_FUZZ_TOKEN']}"
        req = urllib.request.Request(f"{os.environ['MOCK_NORCE_FUZZ_URL']}/api/schedules/{sid}", method="DELETE",
                                     headers=headers)
        urllib.request.urlopen(req, timeout=20).close()
