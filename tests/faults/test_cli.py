"""Issue 10, the command line: a closed stdout, serving on IPv6, bad URLs and headers in the
config file and the environment. Each test runs the real `mock-norce` in a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from mock_norce.cli.exits import EXIT_PIPE

from ..conftest import ROOT
from ..servers import after, answer, http, response

CLI = [sys.executable, "-m", "mock_norce"]


def run_cli(args, timeout=60, **env):
    return subprocess.run(CLI + args, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, MOCK_NORCE_DATABASE=":memory:", **env))


def into_head(args, timeout=60, **env):
    """`mock-norce ARGS | head -n 1`: (status of mock-norce, its stderr, what head printed)."""
    env = dict(os.environ, MOCK_NORCE_DATABASE=":memory:", **env)
    producer = subprocess.Popen(CLI + args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    head = subprocess.Popen(["head", "-n", "1"], stdin=producer.stdout, stdout=subprocess.PIPE)
    producer.stdout.close()  # head holds the only reading end: when it exits, the pipe is closed
    try:
        shown = head.communicate(timeout=timeout)[0].decode()
        stderr = producer.communicate(timeout=timeout)[1].decode()
    finally:
        for p in (producer, head):
            if p.poll() is None:
                p.kill()
                p.wait()
    return producer.returncode, stderr, shown


# --- observation 16a: output piped into head -----------------------------------------------

def test_obs16a_generate_into_head_stops_quietly_with_the_sigpipe_status():
    status, stderr, shown = into_head(["generate", "OrderConfirmedEvent", "--count", "10000", "--seed", "1"])
    assert json.loads(shown)["ClientId"]
    assert stderr == "", stderr  # no "Broken pipe", no "Exception ignored ... BrokenPipeError"
    assert status == EXIT_PIPE == 141


def test_obs16a_run_into_head_stops_quietly_too(serve):
    subscriber = serve(after(1.0, 204))  # a run of several seconds: head is long gone before it ends
    start = time.monotonic()
    status, stderr, shown = into_head(["run", "web-order", "--url", subscriber.url, "--time-scale", "0"])
    assert shown.startswith("run ")
    assert "Traceback" not in stderr and "Exception" not in stderr and "interrupted" not in stderr, stderr
    assert status == EXIT_PIPE
    assert time.monotonic() - start < 30


def test_obs16c_fire_tells_a_stale_connection_from_a_redirect(serve):
    seen: dict[int, int] = {}

    def fail_then_close(req, conn):
        seen[id(conn)] = seen.get(id(conn), 0) + 1
        if seen[id(conn)] == 2:
            conn.close()  # the retry arrives on the kept-alive connection: read, never answered
            return None
        return response(503 if len(seen) == 1 else 200)
    subscriber = serve(fail_then_close)
    out = run_cli(["fire", "JobCompletedEvent", "--url", subscriber.url], MOCK_NORCE_TIME_SCALE="0.001")
    assert out.returncode == 0, out.stderr
    second = [line for line in out.stdout.splitlines() if line.startswith("attempt  2")][0]
    assert "HTTP 200" in second and "kept-alive connection was stale" in second and "redirect" not in second


# --- observation 16b: the default sink when serving on IPv6 --------------------------------

def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_obs16b_serving_on_ipv6_loopback_posts_to_its_own_sink_there(served):
    if not _has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    s = served(MOCK_NORCE_HOST="::1")
    assert s.url.startswith("http://[::1]:"), s.url
    assert http("GET", s.url + "/api/subscriptions")[1]["default_url"] == s.url + "/sink/default"
    status, data = http("POST", s.url + "/api/events/SkuChangedNotification?wait=10", {}, timeout=20)
    assert status == 200 and data["delivery"]["status"] == "delivered", data
    assert http("GET", s.url + "/api/sink")[1]["received"] == 1


@pytest.mark.parametrize("listen,expected", [
    ("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("::", "[::1]"), ("::1", "[::1]"),
    ("localhost", "localhost"), ("fd00::5", "[fd00::5]"),
])
def test_obs16b_the_sink_is_reached_on_the_address_served_on(listen, expected):
    from mock_norce.cli.engine import _reachable_host

    assert _reachable_host(listen) == expected


# --- observations 1 and 5 at the CLI's doors: config file and environment ------------------

def test_obs1_subscriber_url_from_the_environment_is_converted(serve):
    subscriber = serve(answer(204))
    out = run_cli(["fire", "JobCompletedEvent", "--seed", "1"], MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/€")
    assert out.returncode == 0, out.stderr
    assert subscriber.requests[0].path == "/%E2%82%AC"
    assert f"POST {subscriber.url}/%E2%82%AC  HTTP 204" in out.stdout, out.stdout


@pytest.mark.parametrize("subs,message", [
    ("OrderConfirmedEvent: {url: 'http://xn--zz.example/'}", "bad IDNA label"),
    ("OrderConfirmedEvent: {url: 'http://127.0.0.1:70000/'}", "outside 1-65535"),
    ("OrderConfirmedEvent: {url: 'http://[fe80::1%eth0]/'}", "IPv6 zone"),
    ("OrderConfirmedEvent: {headers: {X-Name: 'Gr€ta'}}", "outside Latin-1"),
    ("OrderConfirmedEvent: {headers: {X-Ñame: 'x'}}", "not a valid HTTP header name"),
])
def test_obs1_obs5_config_file_urls_and_headers_that_cannot_be_sent_are_refused(tmp_path, subs, message):
    config = tmp_path / "subs.yaml"
    config.write_text(f"subscriber_url: http://127.0.0.1:9/\nsubscriptions:\n  {subs}\n", encoding="utf-8")
    out = run_cli(["fire", "OrderConfirmedEvent"], MOCK_NORCE_CONFIG=str(config))
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert str(config) in out.stderr  # which file


def test_obs1_fire_url_that_cannot_be_converted_is_one_line():
    out = run_cli(["fire", "OrderConfirmedEvent", "--url", "http://bü\u200dcher.example/"])
    assert out.returncode == 2 and "not a valid internationalized domain name" in out.stderr, out.stderr
    assert out.stderr.count("\n") == 1
