"""The command line: output, exit codes, one-line errors.

The commands that deliver (fire, run), --help and a bad setting run as a real process
(`python -m mock_norce`); the ones that only read and print (events, generate, validate,
scenarios, check) call the same ``main()`` in this process, with their own environment,
stdin, stdout and stderr: a process start costs half a second each.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import traceback

import pytest

from mock_norce.cli.main import main

from ..conftest import DATA, ROOT

IN_PROCESS = {"events", "generate", "validate", "scenarios", "check"}


def run(*args, stdin=None, env=None):
    if args and args[0] in IN_PROCESS:
        return run_in_process(list(args), stdin, env or {})
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "mock_norce", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=full_env, timeout=60)


def run_in_process(args: list[str], stdin: str | None, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``main(args)`` as `python -m mock_norce` would run it; what it printed and its exit code."""
    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd, saved_stdin = dict(os.environ), os.getcwd(), sys.stdin
    saved_sigterm = signal.getsignal(signal.SIGTERM)  # main() installs its own
    os.environ.update(env)
    os.chdir(ROOT)
    sys.stdin = io.StringIO(stdin or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Exception:  # noqa: BLE001 - what the real process would print and exit with
                traceback.print_exc()
                code = 1
    finally:
        sys.stdin = saved_stdin
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        signal.signal(signal.SIGTERM, saved_sigterm)
    return subprocess.CompletedProcess(["mock-norce", *args], code, out.getvalue(), err.getvalue())


def assert_one_line_error(result, fragment):
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mock-norce: error: "), result.stderr
    assert fragment in lines[0]


def test_events_lists_all_types_with_category_and_kind():
    out = run("events")
    assert out.returncode == 0
    rows = out.stdout.strip().splitlines()[1:]
    assert len(rows) == 19
    assert any(r.split()[:3] == ["OrderConfirmedEvent", "Order", "Event"] for r in rows)
    assert any(r.split()[:3] == ["SkuChangedNotification", "Product", "Notification"] for r in rows)
    listed = json.loads(run("events", "--json").stdout)
    assert {e["category"] for e in listed} == {"Customer", "Order", "System", "Product", "Supplier"}


def test_custom_types_appear_and_broken_files_are_warned_about():
    out = run("events", env={"MOCK_NORCE_SCHEMAS_DIR": str(DATA / "custom_schemas")})
    assert out.returncode == 0
    assert "LoyaltyPointsChangedEvent" in out.stdout and "custom" in out.stdout
    assert out.stderr.count("warning: skipped custom schema") == 3
    gen = run("generate", "LoyaltyPointsChangedEvent", "--seed", "1",
              env={"MOCK_NORCE_SCHEMAS_DIR": str(DATA / "custom_schemas")})
    assert gen.returncode == 0 and "MemberId" in json.loads(gen.stdout)


def test_generate_is_reproducible_and_one_object_per_line():
    a = run("generate", "OrderConfirmedEvent", "--seed", "42", "--count", "5")
    b = run("generate", "OrderConfirmedEvent", "--seed", "42", "--count", "5")
    assert a.returncode == 0 and a.stdout == b.stdout
    lines = a.stdout.splitlines()
    assert len(lines) == 5 and all(json.loads(line)["ClientId"] == 1042 for line in lines)
    env_seed = run("generate", "OrderConfirmedEvent", "--count", "5", env={"MOCK_NORCE_SEED": "42"})
    assert env_seed.stdout == a.stdout


def test_generate_with_sets_and_market():
    out = run("generate", "OrderConfirmedEvent", "--set", "OrderNo=123", "--set", "OrderId=77",
              "--market", "dk", "--seed", "3")
    body = json.loads(out.stdout)
    assert body["OrderNo"] == "123" and body["OrderId"] == 77 and body["ApplicationId"] == 1104


@pytest.mark.parametrize("args,fragment", [
    (["generate", "NoSuchEvent"], "unknown event type 'NoSuchEvent'"),
    (["generate", "OrderConfirmedEvent", "--set", "OrderNo"], "bad --set 'OrderNo'"),
    (["generate", "OrderConfirmedEvent", "--set", "Nope=1"], "has no field 'Nope'"),
    (["generate", "OrderConfirmedEvent", "--set", "OrderId=abc"], "$.OrderId: 'abc' is not of type 'integer'"),
    (["generate", "OrderConfirmedEvent", "--market", "XX"], "unknown market 'XX'"),
    (["generate", "OrderConfirmedEvent", "--count", "0"], "--count must be at least 1"),
    (["validate", "OrderConfirmedEvent", "/no/such/file.json"], "cannot read /no/such/file.json"),
])
def test_bad_input_gives_one_clear_line(args, fragment):
    assert_one_line_error(run(*args), fragment)


def test_bad_setting_is_one_line():
    assert_one_line_error(run("generate", "OrderConfirmedEvent", env={"MOCK_NORCE_SEED": "abc"}),
                          "MOCK_NORCE_SEED='abc' is not a valid int")


def test_invalid_on_request_prints_payload_and_notes_it():
    out = run("generate", "JobCompletedEvent", "--set", "StatusId=9", "--invalid", "--seed", "1")
    assert out.returncode == 0
    assert json.loads(out.stdout)["StatusId"] == 9
    assert "deliberately invalid" in out.stderr and "$.StatusId" in out.stderr


def test_validate_reports_every_error_with_its_path():
    good = run("generate", "OrderReceivedEvent", "--seed", "5").stdout
    ok = run("validate", "OrderReceivedEvent", "-", stdin=good)
    assert ok.returncode == 0 and "valid OrderReceivedEvent" in ok.stdout
    bad = json.dumps({"ClientId": "1042", "ApplicationId": 2**31, "Source": "WEB", "Extra": 1})
    out = run("validate", "OrderReceivedEvent", stdin=bad)
    assert out.returncode == 1
    assert "$.ClientId: '1042' is not of type 'integer'" in out.stdout
    assert "$.ApplicationId: 2147483648 is out of the int32 range" in out.stdout
    assert "'ClientOrderRef' is required but missing" in out.stdout
    assert "unknown field(s) Extra" in out.stdout


def test_validate_json_lines_and_garbage(tmp_path):
    lines = run("generate", "SkuChangedNotification", "--count", "3", "--seed", "1").stdout
    path = tmp_path / "events.jsonl"
    path.write_text(lines + '{"ClientId": 1}\n')
    out = run("validate", "SkuChangedNotification", str(path))
    assert out.returncode == 1
    assert out.stdout.count(": valid") == 3 and f"{path}:4: invalid" in out.stdout
    path.write_text("not json at all")
    assert_one_line_error(run("validate", "SkuChangedNotification", str(path)), "is not valid JSON")


def test_help_lists_commands_and_environment():
    out = run("--help")
    assert out.returncode == 0
    for word in ("events", "generate", "validate", "MOCK_NORCE_SCHEMAS_DIR", "MOCK_NORCE_SEED"):
        assert word in out.stdout


def test_fire_prints_attempts_and_exits_by_outcome():
    from ..servers import Server, answer

    ok, down = Server(answer(204)), Server(answer(503))
    try:
        out = run("fire", "OrderConfirmedEvent", "--url", ok.url, "--seed", "1")
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert json.loads(lines[0])["ClientId"] == 1042
        assert "attempt  1  POST" in lines[1] and "HTTP 204" in lines[1]
        assert lines[-1] == "delivered after 1 attempt(s) of 17 (Norce's current policy)"
        assert ok.requests[0].body.decode() == lines[0]

        out = run("fire", "JobCompletedEvent", "--url", down.url, env={"MOCK_NORCE_TIME_SCALE": "0.00001"})
        assert out.returncode == 1
        assert out.stdout.count("HTTP 503") == 17 and out.stdout.splitlines()[-1] == \
            "dead after 17 attempt(s) of 17 (Norce's current policy)"
        assert len(down.requests) == 17
    finally:
        ok.close()
        down.close()


@pytest.mark.parametrize("args,fragment", [
    (["fire", "OrderConfirmedEvent"], "no subscriber URL for OrderConfirmedEvent"),
    (["fire", "OrderConfirmedEvent", "--url", "ftp://x/"], "is not http(s)"),
    (["fire", "Nope", "--url", "http://127.0.0.1:1/"], "unknown event type 'Nope'"),
])
def test_fire_bad_input(args, fragment):
    assert_one_line_error(run(*args), fragment)


def test_fire_with_a_bad_config_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("subscriptions: {OrderConfirmedEvent: {headers: {X-A: \"a\\r\\nb\"}}}")
    assert_one_line_error(run("fire", "OrderConfirmedEvent", "--url", "http://127.0.0.1:1/",
                              env={"MOCK_NORCE_CONFIG": str(path)}), "CR, LF or NUL")


def test_scenarios_table_and_json():
    out = run("scenarios")
    assert out.returncode == 0 and "web-order" in out.stdout and "events: " in out.stdout
    listed = json.loads(run("scenarios", "--json").stdout)
    web = next(s for s in listed if s["name"] == "web-order")
    assert set(web) == {"name", "description", "events"}
    assert "InvoiceCaptureCompletedEvent" in web["events"]


def test_run_plays_prints_steps_and_outcomes():
    from ..servers import Server, answer

    server = Server(answer(200))
    try:
        out = run("run", "web-order", "--url", server.url, "--seed", "3", "--time-scale", "0")
        assert out.returncode == 0, out.stderr
        assert out.stdout.count("\nstep ") == 6 and "attempt 1: HTTP 200" in out.stdout
        assert out.stdout.strip().splitlines()[-1] == "run completed: 6 event(s); 6 delivered"
        again = run("run", "web-order", "--url", server.url, "--seed", "3", "--time-scale", "0")
        assert again.returncode == 0
        bodies = [r.body for r in server.requests]
        assert bodies[:6] == bodies[6:]  # same seed, same bytes
    finally:
        server.close()


def test_run_against_a_dead_subscriber_exits_1():
    out = run("run", "pos-order", "--url", f"http://127.0.0.1:{__import__('tests.servers').servers.unused_port()}/",
              "--time-scale", "0")
    assert out.returncode == 1 and "connection_refused" in out.stdout and "3 dead" in out.stdout


@pytest.mark.parametrize("args,fragment", [
    (["run", "no-such-scenario", "--url", "http://127.0.0.1:1/"], "unknown scenario 'no-such-scenario'"),
    (["run", "web-order"], "no subscriber URL"),
])
def test_run_bad_input(args, fragment):
    assert_one_line_error(run(*args), fragment)


def test_check_reports_file_line_reason(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("format: 1\nname: good\nsteps: [{emit: JobCompletedEvent}]\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: 1\nname: bad\nsteps:\n  - emit: Nope\n  - wait: later\n")
    out = run("check", str(good), str(bad))
    assert out.returncode == 1
    assert f"{good}: ok" in out.stdout
    assert f"{bad}:4: unknown event type 'Nope'" in out.stdout
    assert f"{bad}:5: 'later' is not a duration" in out.stdout
    assert run("check").returncode == 0  # the shipped library


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["scenarios"], ["check"],
                                     ["run", "web-order", "--url", "http://127.0.0.1:1/"]])
@pytest.mark.parametrize("kind", ["missing", "a file"])
@pytest.mark.parametrize("variable", ["MOCK_NORCE_SCENARIOS_DIR", "MOCK_NORCE_SCHEMAS_DIR"])
def test_a_users_dir_that_is_not_there_is_an_error_at_start(command, kind, variable, tmp_path):
    # A volume mounted at the wrong path must stop the server, not start one without the
    # user's scenarios or types; the database is in memory so that nothing else can fail first.
    own = tmp_path / "mine"
    if kind == "a file":
        own.write_text("")
    out = run(*command, env={variable: str(own), "MOCK_NORCE_DATABASE": ":memory:"})
    why = "does not exist" if kind == "missing" else "is not a directory"
    assert_one_line_error(out, f"{variable} {own} {why}")
