"""The Node example (docs/examples/node: Testcontainers for Node) runs as a Node user would:
`npm ci` from its committed lock file in a copy of the folder, then `node --test` against
the session's image, on the host's network (this machine allows only loopback) and
without Testcontainers' reaper (its image comes from Docker Hub, unreachable here).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ..conftest import ROOT, skip_or_fail
from .conftest import BUILD_TIMEOUT

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(BUILD_TIMEOUT + 600)]

EXAMPLE = ROOT / "docs" / "examples" / "node"


def test_the_node_example_fires_and_its_sink_receives(image, tmp_path):
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        skip_or_fail("Node.js and npm are not installed (the Node example needs Node 20+)")
    major = int(subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0])
    if major < 20:
        skip_or_fail(f"Node {major} is too old for the example (20+)")
    work = tmp_path / "node"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("node_modules"))
    installed = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=work, capture_output=True, text=True,
                               timeout=600)
    if installed.returncode != 0:
        skip_or_fail(f"npm ci failed (registry unreachable?):\n{installed.stderr[-2000:]}")
    env = dict(os.environ, MOCK_NORCE_IMAGE=image, MOCK_NORCE_HOST_NETWORK="1", TESTCONTAINERS_RYUK_DISABLED="true")
    out = subprocess.run([node, "--test"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "# pass 1" in out.stdout and "# fail 0" in out.stdout, out.stdout
