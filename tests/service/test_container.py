"""The Docker image as an integration test suite would use it (issue 7).

The image is built here by scripts/docker-build.sh (which starts a Docker engine and
builds the local Debian base if needed) and run with ``--network host``, so the container
shares this machine's loopback: it listens on a free port of 127.0.0.1 and delivers to a
real subscriber (tests/servers.py) there. Nothing leaves loopback.

The image is built once per test session, under a tag of its own (tests/service/conftest.py).
Marked ``slow`` (with ``docker``): ``./dev test`` runs them, ``-m "not slow"`` not.

Without Docker these tests skip with the reason; in CI (MOCK_NORCE_REQUIRE_ALL=1) they
fail instead. Every container and volume has a unique name and is removed afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from ..conftest import ROOT, skip_or_fail
from ..servers import answer, http, unused_port
from .conftest import BASE_IMAGE, BUILD_TIMEOUT, DOCKER, docker

# Building can take minutes on a fresh machine; the build runs in the first test's setup.
pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(BUILD_TIMEOUT + 300)]


class Container:
    """One `docker run -d --network host` of the image on a free loopback port."""

    def __init__(self, image: str, data: str, env: dict[str, str], options: tuple[str, ...] = ()):
        self.name = f"mock-norce-test-{uuid.uuid4().hex[:10]}"
        self.port = unused_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["run", "-d", "--name", self.name, "--network", "host", "-v", f"{data}:/data",
                "-e", f"MOCK_NORCE_PORT={self.port}", *options]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        self.started = time.monotonic()
        docker(*args, image)

    def state(self) -> dict:
        return json.loads(docker("inspect", "--format", "{{json .State}}", self.name).stdout)

    def logs(self) -> str:
        out = docker("logs", self.name, check=False)
        return out.stdout + out.stderr

    def wait_healthy(self, timeout: float = 60) -> float:
        """Seconds from `docker run` until Docker's own healthcheck says healthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state()
            if not state["Running"]:
                raise AssertionError(f"container exited ({state['ExitCode']}):\n{self.logs()}")
            health = (state.get("Health") or {}).get("Status")
            if health == "healthy":
                return time.monotonic() - self.started
            if health == "unhealthy":
                raise AssertionError(f"container unhealthy: {state['Health']}\n{self.logs()}")
            time.sleep(0.1)
        raise AssertionError(f"not healthy within {timeout} s: {self.state().get('Health')}\n{self.logs()}")

    def stop(self) -> float:
        """`docker stop` (SIGTERM, SIGKILL only after 30 s); the seconds it took."""
        start = time.monotonic()
        docker("stop", "--time", "30", self.name, timeout=60)
        return time.monotonic() - start

    def remove(self) -> None:
        docker("rm", "--force", "--volumes", self.name, check=False)


class Docker:
    """Containers and named volumes of one test; `cleanup` removes them, containers first."""

    def __init__(self, image: str):
        self.image = image
        self.containers: list[Container] = []
        self.volumes: list[str] = []

    def run(self, data: str, *options: str, **env: str) -> Container:
        """A container on `data` (a volume or host directory); `options` go to `docker run`."""
        c = Container(self.image, data, env, options)
        self.containers.append(c)
        return c

    def volume(self) -> str:
        name = f"mock-norce-test-{uuid.uuid4().hex[:10]}"
        self.volumes.append(name)
        docker("volume", "create", name)
        return name

    def cleanup(self) -> None:
        for c in self.containers:
            c.remove()  # with its anonymous volumes
        for name in self.volumes:
            docker("volume", "rm", "--force", name, check=False)


@pytest.fixture
def containers(image):
    d = Docker(image)
    yield d
    d.cleanup()


def test_image_is_configured_as_a_drop_in(image):
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    # Numeric, in group 0 (OpenShift's arbitrary uid shares that group); never root.
    assert config["User"] == "10001:0"
    assert "8080/tcp" in config["ExposedPorts"]
    assert "/data" in config["Volumes"]
    assert config["Entrypoint"] == ["mock-norce"] and config["Cmd"] == ["serve"]  # exec form: PID 1 is Python
    check = config["Healthcheck"]["Test"]
    assert check[0] == "CMD" and "curl" not in " ".join(check) and "wget" not in " ".join(check)
    # The built-in data is found through the package, from any working directory.
    listing = docker("run", "--rm", "--entrypoint", "python3", image, "-c",
                     "from mock_norce.settings import FIXTURES_DIR as f; "
                     "print(*sorted(p.name for d in ('schemas', 'scenarios') for p in (f / d).iterdir()))").stdout
    assert "OrderConfirmedEvent.json" in listing and "web-order.yaml" in listing
    # /data: owned by the image's user and group 0, and the group may do what the owner may.
    mode = docker("run", "--rm", "--entrypoint", "stat", image, "-c", "%u:%g %A", "/data").stdout.split()
    assert mode == ["10001:0", "drwxrwxr-x"], mode
    size = int(docker("image", "inspect", "--format", "{{.Size}}", image).stdout)
    assert size < 200_000_000, f"image is {size / 1e6:.0f} MB, the target is under 200 MB"


def test_image_has_the_oci_labels_of_this_checkout(image):
    from mock_norce import __version__

    labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", image).stdout)
    ns = "org.opencontainers.image."
    assert labels[ns + "version"] == __version__
    assert labels[ns + "title"] == "mock-norce" and labels[ns + "licenses"] == "MIT"
    assert labels[ns + "description"].startswith("A test double for Norce Commerce Event webhooks")
    assert labels[ns + "source"]  # the origin's https URL, or "unknown" where there is none
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode == 0:  # scripts/docker-build.sh labels the commit it built from
        assert labels[ns + "revision"] == head.stdout.strip()


def test_container_runs_a_scenario_then_stops_cleanly_on_sigterm(containers, serve):
    subscriber = serve(answer(200))
    c = containers.run(containers.volume(), MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/hook", MOCK_NORCE_TIME_SCALE="0")
    took = c.wait_healthy()
    assert took < 30, f"healthy after {took:.1f} s"
    assert http("GET", c.url + "/healthz") == (200, {"status": "ok"})

    status, run = http("POST", c.url + "/api/scenarios/web-order/runs", {"seed": 7, "time_scale": 0})
    assert status == 202 and run["status"] == "running", run
    status, run = http("GET", f"{c.url}/api/runs/{run['id']}?wait=30", timeout=40)
    assert status == 200 and run["status"] == "completed", run
    assert len(subscriber.requests) == 6
    assert all(r.method == "POST" and r.path == "/hook" for r in subscriber.requests)
    status, log = http("GET", f"{c.url}/api/deliveries?run={run['id']}")
    assert status == 200 and log["total"] == 6
    assert [d["status"] for d in log["items"]] == ["delivered"] * 6
    sent = sorted(json.dumps(json.loads(r.body), sort_keys=True) for r in subscriber.requests)
    assert sorted(json.dumps(d["payload"], sort_keys=True) for d in log["items"]) == sent

    # Not root, neither for `docker exec` nor for PID 1 (the server itself).
    assert docker("exec", c.name, "id", "-u").stdout.strip() not in ("", "0")
    status_lines = docker("exec", c.name, "cat", "/proc/1/status").stdout.splitlines()
    uids = next(line for line in status_lines if line.startswith("Uid:")).split()[1:]
    assert uids and all(u != "0" for u in uids), uids
    cmdline = docker("exec", c.name, "cat", "/proc/1/cmdline").stdout
    assert "mock-norce" in cmdline and "serve" in cmdline, cmdline  # no shell in between

    took = c.stop()
    state = c.state()
    logs = c.logs()
    assert took < 5, f"docker stop took {took:.1f} s (SIGTERM not handled?)\n{logs}"
    assert state["ExitCode"] == 0 and not state["OOMKilled"], (state, logs)
    assert "mock-norce: stopped" in logs and "Traceback" not in logs, logs


def test_a_new_container_on_the_same_data_keeps_the_log_and_schedules(containers, serve, tmp_path):
    # A bind-mounted host directory this time; the container's user is not root, so it must
    # be able to write there.
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)
    subscriber = serve(answer(204))
    first = containers.run(str(data), MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/hook")
    first.wait_healthy()
    status, fired = http("POST", first.url + "/api/events/OrderConfirmedEvent?wait=5", {"seed": 3})
    assert status == 200 and fired["delivery"]["status"] == "delivered", fired
    status, nightly = http("POST", first.url + "/api/schedules",
                           {"name": "nightly", "scenario": "nightly-jobs", "cron": "0 2 * * *"})
    assert status == 201, nightly
    status, paused = http("POST", first.url + "/api/schedules", {"event": "JobCompletedEvent", "cron": "0 3 * * *"})
    http("POST", f"{first.url}/api/schedules/{paused['id']}/pause")
    assert first.stop() < 5 and first.state()["ExitCode"] == 0
    assert (data / "mock-norce.db").exists()

    second = containers.run(str(data), MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/hook")
    second.wait_healthy()
    status, log = http("GET", second.url + "/api/deliveries")
    assert status == 200 and log["total"] == 1, log
    again = log["items"][0]
    assert again["id"] == fired["delivery"]["id"] and again["status"] == "delivered"
    assert again["payload"] == fired["payload"]
    status, schedules = http("GET", second.url + "/api/schedules")
    by_id = {s["id"]: s for s in schedules}
    assert by_id[nightly["id"]]["status"] == "active" and by_id[nightly["id"]]["next_fire"] == nightly["next_fire"]
    assert by_id[paused["id"]]["status"] == "paused"
    assert len(subscriber.requests) == 1  # the restart sent nothing again


@pytest.mark.parametrize("options", [
    ("--user", "12345:0"),               # OpenShift: an arbitrary uid in group 0
    ("--read-only",),                    # a read-only root file system, the volume on /data
    ("--user", "12345", "--read-only"),  # Docker gives a uid without a passwd entry group 0
], ids=["arbitrary-uid", "read-only", "uid-read-only"])
def test_container_serves_and_delivers_as_any_uid_in_group_0_and_read_only(containers, serve, options):
    subscriber = serve(answer(200))
    c = containers.run(containers.volume(), *options, MOCK_NORCE_SUBSCRIBER_URL=subscriber.url + "/hook",
                       MOCK_NORCE_TIME_SCALE="0")
    c.wait_healthy()
    status, fired = http("POST", c.url + "/api/events/OrderConfirmedEvent?wait=10", {"seed": 5}, timeout=20)
    assert status == 200 and fired["delivery"]["status"] == "delivered", fired
    # A scenario makes the world's database sort and index: SQLite then needs a temporary
    # file, which on a read-only root goes to the volume (TMPDIR=/data), not to /tmp.
    status, run = http("POST", c.url + "/api/scenarios/web-order/runs", {"seed": 7, "time_scale": 0})
    assert status == 202, run
    status, run = http("GET", f"{c.url}/api/runs/{run['id']}?wait=30", timeout=40)
    assert status == 200 and run["status"] == "completed", run
    assert len(subscriber.requests) == 7
    assert http("GET", c.url + "/healthz") == (200, {"status": "ok"})
    uid = docker("exec", c.name, "id", "-u").stdout.strip()
    assert uid == ("10001" if options == ("--read-only",) else "12345")
    assert c.stop() < 5 and c.state()["ExitCode"] == 0
    logs = c.logs()
    assert " ERROR " not in logs and "Traceback" not in logs and "storage unavailable" not in logs, logs


def test_a_user_outside_group_0_gets_one_line_naming_data_and_the_user(image, containers):
    volume = containers.volume()  # a new volume: /data as the image made it (10001:0, 775)
    out = docker("run", "--rm", "--network", "host", "--user", "12345:12345", "-v", f"{volume}:/data",
                 "-e", f"MOCK_NORCE_PORT={unused_port()}", image, timeout=60, check=False)
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        "mock-norce: error: cannot write the data directory /data (uid 12345, gid 12345): Permission denied; "
        "mount a volume writable by this user or set MOCK_NORCE_DATA_DIR"], out.stderr


def compose_command() -> list[str] | None:
    """`docker compose` (v2) if the Debian client has the plugin, else Debian's docker-compose 1.29."""
    if docker("compose", "version", check=False).returncode == 0:
        return [DOCKER, "compose"]
    found = shutil.which("docker-compose")
    return [found] if found else None


def test_compose_builds_and_its_subscriber_receives_over_the_bridge_network(image, tmp_path):
    compose = compose_command()
    if compose is None:
        skip_or_fail("neither `docker compose` nor docker-compose is installed (apt-get install docker-compose)")
    # pip inside the build reaches the index through this machine's TLS proxy, and compose
    # 1.29 cannot pass a build secret: build on a base that carries the proxy's CA for pip
    # (a test-only image; users without such a proxy need nothing of it).
    ca = subprocess.run(["bash", str(ROOT / "scripts" / "docker-env.sh")], capture_output=True, text=True,
                        timeout=BUILD_TIMEOUT).stdout.strip()
    (tmp_path / "ca.crt").write_bytes(Path(ca).read_bytes())
    (tmp_path / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\nCOPY ca.crt /usr/local/share/proxy-ca.crt\n"
                                         "ENV PIP_CERT=/usr/local/share/proxy-ca.crt\n")
    unique = uuid.uuid4().hex[:10]
    base, built = f"mock-norce-base:test-ca-{unique}", f"mock-norce:test-compose-{unique}"
    project, port = f"mock-norce-test-{unique}", unused_port()
    env = dict(os.environ, PATH="/usr/bin:" + os.environ.get("PATH", ""),  # Debian's client, for compose 1.29
               DOCKER_BUILDKIT="1", COMPOSE_DOCKER_CLI_BUILD="1", BASE_IMAGE=base, MOCK_NORCE_IMAGE=built,
               MOCK_NORCE_HOST_PORT=str(port))
    run = [*compose, "-f", str(ROOT / "compose.yaml"), "-p", project]

    def call(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        out = subprocess.run([*run, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        assert out.returncode == 0, f"{' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr[-3000:]}"
        return out
    try:
        docker("build", "-q", "-t", base, str(tmp_path), timeout=120)
        call("build", timeout=BUILD_TIMEOUT)
        call("up", "-d", "--no-build")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if http("GET", url + "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, call("logs").stdout
            time.sleep(0.2)
        status, fired = http("POST", url + "/api/events/OrderConfirmedEvent?wait=10", {"seed": 11}, timeout=20)
        assert status == 200, fired
        delivery = fired["delivery"]
        assert delivery["status"] == "delivered" and delivery["url"] == "http://subscriber:9000/norce", delivery
        order_no = fired["payload"]["OrderNo"]
        deadline = time.monotonic() + 20  # the subscriber prints it; its log reaches compose a moment later
        while order_no not in (logs := call("logs", "subscriber").stdout):
            assert time.monotonic() < deadline, logs
            time.sleep(0.2)
        assert "/norce event:" in logs
    finally:
        subprocess.run([*run, "down", "-v", "--remove-orphans"], cwd=ROOT, env=env, capture_output=True, timeout=120)
        docker("image", "rm", "--force", built, base, check=False)
