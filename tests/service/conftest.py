"""The Docker image for the container tests (test_container.py, test_testcontainers.py).

The image is built once per test session by scripts/docker-build.sh (which starts a Docker
engine and builds the local Debian base if needed), under a tag of its own
(``mock-norce:test-<pid>-<random>``, so parallel runs never overwrite each other's), and
removed at the end of the session; MOCK_NORCE_TEST_IMAGE=TAG builds that tag instead and
keeps it. Without Docker the tests that use it skip with the reason; in CI
(MOCK_NORCE_REQUIRE_ALL=1) they fail instead.
"""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from ..conftest import ROOT, skip_or_fail

DOCKER = "/usr/bin/docker"  # Debian's client: BuildKit built in (see docs/docker.md)
BUILD_TIMEOUT = 900  # a fresh machine installs docker.io, debootstraps the base, then builds
# The local base scripts/docker-build.sh builds on (Docker Hub is unreachable here).
BASE_IMAGE = os.environ.get("MOCK_NORCE_BASE_IMAGE", "mock-norce-base:local-v2")


def docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run([DOCKER, *args], check=False, capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out


def session_tag() -> tuple[str, bool]:
    """The tag to build, and whether this session owns it (and so removes it at the end)."""
    given = os.environ.get("MOCK_NORCE_TEST_IMAGE")
    if given:
        return given, False
    return f"mock-norce:test-{os.getpid()}-{uuid.uuid4().hex[:8]}", True


@pytest.fixture(scope="session")
def image():
    """Build the image once per session (cached layers make a rebuild take seconds)."""
    tag, owned = session_tag()
    build(tag)  # skips (or fails in CI) when it cannot
    try:
        yield tag
    finally:
        if owned:
            docker("image", "rm", "--force", tag, check=False)  # the layers stay in the build cache


def build(tag: str) -> None:
    try:
        out = subprocess.run(["bash", str(ROOT / "scripts" / "docker-build.sh"), tag], check=False, cwd=ROOT,
                             capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        skip_or_fail(f"scripts/docker-build.sh took over {BUILD_TIMEOUT} s")
    except OSError as exc:
        skip_or_fail(f"cannot run scripts/docker-build.sh: {exc}")
    if out.returncode != 0:
        tail = "\n".join((out.stderr or out.stdout).strip().splitlines()[-15:])
        skip_or_fail(f"cannot build the Docker image (scripts/docker-build.sh exit {out.returncode}):\n{tail}")
