"""What the Docker image's documentation promises, checked without Docker (issue 13, item 5).

Every `docker build` in the README, docs/, the Dockerfile and compose.yaml states BuildKit
(Debian's docker 20.10 does not use it by itself, and the Dockerfile mounts a secret); one
tag, mock-norce:latest, everywhere a user reads one; every docs/*.md a file links to exists;
the Dockerfile's default version label is the package's version.
"""

from __future__ import annotations

import re

from mock_norce import __version__

from ..conftest import ROOT

USER_FACING = [ROOT / "README.md", ROOT / "Dockerfile", ROOT / "compose.yaml", *sorted((ROOT / "docs").rglob("*.md"))]


def test_every_documented_docker_build_turns_buildkit_on():
    bare = [(path.name, n, line.strip()) for path in USER_FACING
            for n, line in enumerate(path.read_text().splitlines(), 1)
            if re.search(r"(?<!DOCKER_BUILDKIT=1 )\bdocker build\b", line)]
    assert bare == [], "write DOCKER_BUILDKIT=1 docker build (the Dockerfile needs BuildKit)"


def test_one_tag_everywhere():
    other = [(path.name, n, m.group(0)) for path in [*USER_FACING, ROOT / "scripts" / "docker-build.sh"]
             for n, line in enumerate(path.read_text().splitlines(), 1)
             # not a URL's host:port (http://mock-norce:8080)
             for m in re.finditer(r"(?<!//)\bmock-norce:(?!latest\b)(?!\d)[\w.-]+", line)]
    assert other == [], "the image is mock-norce:latest everywhere a user reads a tag"
    assert 'TAG=${1:-mock-norce:latest}' in (ROOT / "scripts" / "docker-build.sh").read_text()


def test_every_linked_doc_exists():
    texts = [*USER_FACING, *sorted((ROOT / "tests").rglob("*.py")), *sorted((ROOT / "scripts").iterdir()),
             *sorted((ROOT / "mock_norce").rglob("*.py"))]
    missing = sorted({(path.relative_to(ROOT).as_posix(), m.group(0)) for path in texts if path.is_file()
                      for m in re.finditer(r"(?<![\w./])docs/[\w./-]+\.md\b", path.read_text(errors="replace"))
                      if not (ROOT / m.group(0)).is_file()})
    assert missing == []


def test_the_dockerfile_version_label_defaults_to_the_package_version():
    # docker-build.sh passes the version; a plain `docker build` uses this default.
    found = re.findall(r"^ARG VERSION=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert found == [__version__], f"Dockerfile ARG VERSION={found}: set it to {__version__}"
