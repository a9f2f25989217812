"""The package as users get it: a wheel built from the checkout, installed into a clean venv
outside the checkout, run from ``/``; and a sample suite that uses only the pytest plugin.

Slow (a wheel build and a venv with every dependency: ~30 s, most of it pip), so in the full
run only. The venv is built once for the session and shared by the tests here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile

import pytest

from mock_norce import __version__
from mock_norce.testing.server import start

from ..conftest import ROOT

pytestmark = pytest.mark.slow

SAMPLE_SUITE = ROOT / "docs" / "examples" / "pytest_suite"


def _run(*command, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(command, capture_output=True, text=True, timeout=kw.pop("timeout", 600), **kw)
    assert out.returncode == 0, f"{' '.join(map(str, command))} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """A wheel of the checkout and a clean venv (no --system-site-packages) with it installed."""
    where = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(where / "dist"), str(ROOT))
    [wheel] = (where / "dist").glob("mock_norce-*.whl")
    venv = where / "venv"
    _run(sys.executable, "-m", "venv", str(venv))
    # pytest-xdist for the sample suite's -n 2; the plugin itself needs only pytest.
    _run(str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel), "pytest>=8", "pytest-xdist>=3.5")
    home = where / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCK_NORCE_", "XDG_", "PYTHON"))}
    return {"wheel": wheel, "venv": venv, "env": env | {"HOME": str(home)}, "home": home}


def test_the_wheel_carries_the_data_the_service_needs(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for needed in ("mock_norce/fixtures/tenant.yaml", "mock_norce/fixtures/query-model.yaml",
                   "mock_norce/fixtures/schemas/OrderConfirmedEvent.json", "mock_norce/fixtures/norce/catalogue.json",
                   "mock_norce/fixtures/scenario-format.schema.json", "mock_norce/fixtures/scenarios/web-order.yaml",
                   "mock_norce/web/templates/base.html",
                   "mock_norce/web/static/vendor/uplot/uPlot.iife.min.js", "mock_norce/web/static/vendor/uplot/LICENSE"):
        assert needed in names
    points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "pytest11" in zipfile.ZipFile(installed["wheel"]).read(points).decode()


def test_installed_mock_norce_serves_fires_and_sinks_from_the_root_directory(installed):
    bin_ = installed["venv"] / "bin"
    version = _run(str(bin_ / "mock-norce"), "--version", cwd="/", env=installed["env"])
    assert version.stdout.strip() == f"mock-norce {__version__}"
    listed = _run(str(bin_ / "mock-norce"), "scenarios", cwd="/", env=installed["env"])
    assert "web-order" in listed.stdout
    # No MOCK_NORCE_DATA_DIR: the databases go to the per-user data directory under HOME.
    server = start(python=str(bin_ / "python"), cwd="/", data_dir=None, env={})
    try:
        fired = json.load(urllib.request.urlopen(urllib.request.Request(
            server.url + "/api/events/OrderConfirmedEvent?wait=5", b"{}", {"Content-Type": "application/json"}),
            timeout=10))
        assert fired["delivery"]["status"] == "delivered"
        sink = json.load(urllib.request.urlopen(server.url + "/api/sink", timeout=10))
        assert json.loads(sink["items"][0]["body"]) == fired["payload"]
    finally:
        assert server.stop() == 0, server.output
    assert "Traceback" not in server.output


def test_the_default_data_directory_is_per_user(installed):
    python = str(installed["venv"] / "bin" / "python")
    found = _run(python, "-c", "from mock_norce.settings import Settings; print(Settings.from_env().database_path)",
                 cwd="/", env=installed["env"]).stdout.strip()
    assert found == str(installed["home"] / ".local" / "share" / "mock-norce" / "mock-norce.db")
    xdg = _run(python, "-c", "from mock_norce.settings import Settings; print(Settings.from_env().data_dir)",
               cwd="/", env=installed["env"] | {"XDG_DATA_HOME": "/srv/x"}).stdout.strip()
    assert xdg == "/srv/x/mock-norce"


def test_a_sample_suite_using_only_the_plugin_passes_under_xdist(installed, tmp_path):
    suite = tmp_path / "suite"
    shutil.copytree(SAMPLE_SUITE, suite)
    out = subprocess.run([str(installed["venv"] / "bin" / "python"), "-m", "pytest", "-q", "-n", "2",
                          "-p", "no:cacheprovider"], cwd=suite, env=installed["env"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " passed" in out.stdout and "failed" not in out.stdout
