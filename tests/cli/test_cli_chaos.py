"""Chaos at the command line and in the config file: `run --chaos`, `subscribe --chaos`, and a
subscription's `chaos` in MOCK_NORCE_CONFIG, each against a real subscriber."""

from __future__ import annotations

import json

from ..servers import Server, answer, http
from .test_cli import assert_one_line_error, run


def test_run_with_chaos_fails_first_attempts_and_duplicates():
    server = Server(answer(200))
    try:
        out = run("run", "web-order", "--url", server.url, "--seed", "3", "--time-scale", "0",
                  "--chaos", "fail_first=1", "--chaos", "duplicate=1")
        assert out.returncode == 0, out.stderr
        assert "chaos fail_first=1,duplicate=1" in out.stdout.splitlines()[0]
        assert out.stdout.count("HTTP 200, failed on purpose by chaos") == 6
        assert out.stdout.strip().splitlines()[-1] == "run completed: 6 event(s); 12 delivered"
        bodies = [r.body for r in server.requests]
        # each body thrice: the first attempt, its retry, the duplicate (two events of an order may share one)
        assert len(bodies) == 18 and all(bodies.count(b) % 3 == 0 for b in bodies)
    finally:
        server.close()


def test_a_bad_chaos_option_is_one_line_before_anything_is_sent():
    assert_one_line_error(run("run", "web-order", "--url", "http://127.0.0.1:1/", "--chaos", "duplicate=2"),
                          "--chaos.duplicate must be a probability between 0 and 1")
    assert_one_line_error(run("run", "web-order", "--url", "http://127.0.0.1:1/", "--chaos", "duplicate"),
                          "is not KEY=VALUE")


def test_the_config_file_and_the_remote_commands_set_chaos(served, tmp_path):
    subscriber = Server(answer(200))
    try:
        config = tmp_path / "config.yaml"
        config.write_text("subscriptions:\n  OrderConfirmedEvent:\n    chaos: {duplicate: 1, seed: 2}\n")
        s = served(MOCK_NORCE_SUBSCRIBER_URL=subscriber.url, MOCK_NORCE_CONFIG=str(config),
                   MOCK_NORCE_TIME_SCALE="0")
        subs = {x["event_type"]: x for x in http("GET", s.url + "/api/subscriptions")[1]["subscriptions"]}
        assert subs["OrderConfirmedEvent"]["chaos"]["duplicate"] == 1.0
        out = run("subscribe", "SkuChangedNotification", "--chaos", "fail_first=1,seed=5", "--server", s.url)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["chaos"]["fail_first"] == 1.0
        out = run("run", "web-order", "--seed", "1", "--chaos", "delay=1s", "--server", s.url)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["chaos"] == {"seed": 1, "duplicate": 0.0, "reorder_window": 0.0,
                                                   "delay": 1.0, "fail_first": 0.0}
    finally:
        subscriber.close()


def test_a_bad_chaos_in_the_config_file_stops_the_start(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("subscriptions:\n  OrderConfirmedEvent:\n    chaos: {fail_first: 3}\n")
    out = run("serve", "--port", "0", env={"MOCK_NORCE_CONFIG": str(config), "MOCK_NORCE_DATABASE": ":memory:"})
    assert_one_line_error(out, "chaos.fail_first must be a probability between 0 and 1")
    assert str(config) in out.stderr
