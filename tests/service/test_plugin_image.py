"""The pytest plugin with ``--mock-norce-image``: the sample suite against a container of the
session's image (on the host's network: this machine allows only loopback), reset per test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from ..conftest import ROOT
from .conftest import BUILD_TIMEOUT

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(BUILD_TIMEOUT + 300)]


def test_the_sample_suite_passes_against_the_image(image, tmp_path):
    pytest.importorskip("testcontainers", reason="needs the testcontainers extra")
    suite = tmp_path / "suite"
    shutil.copytree(ROOT / "docs" / "examples" / "pytest_suite", suite)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--mock-norce-image", image,
                          "--mock-norce-network", "host"], cwd=suite, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TESTCONTAINERS_RYUK_DISABLED="true"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "7 passed" in out.stdout
    # The container is gone: nothing of that image is left running.
    left = subprocess.run(["/usr/bin/docker", "ps", "-q", "--filter", f"ancestor={image}"], capture_output=True,
                          text=True, timeout=30).stdout.split()
    assert left == []
