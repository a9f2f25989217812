"""The README's container examples (marked ``<!-- example: docker -->``) run with the session's
image: the tag replaced by the session's, on the host's network (this machine allows only
loopback), Testcontainers' reaper off (it comes from Docker Hub).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ..test_readme import blocks
from .conftest import BUILD_TIMEOUT

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.timeout(BUILD_TIMEOUT + 300)]


def test_the_readme_container_examples_pass(image, tmp_path):
    pytest.importorskip("testcontainers", reason="needs the testcontainers extra")
    examples = [b for b in blocks() if b.docker]
    assert examples and all("MockNorceContainer(\"mock-norce:latest\"" in b.text for b in examples)
    for n, block in enumerate(examples):
        text = block.text.replace('MockNorceContainer("mock-norce:latest"',
                                  f'MockNorceContainer("{image}", network_mode="host"')
        (tmp_path / f"test_readme_image_{n}.py").write_text(text)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TESTCONTAINERS_RYUK_DISABLED="true"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{sum(b.text.count('def test_') for b in examples)} passed" in out.stdout
