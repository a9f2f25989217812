"""docs/ci.md cannot rot: its GitHub Actions job is valid YAML with the steps it promises, and
the shell lines that do not need GitHub (wait for the service, run the battery, the command
examples) run here against local endpoints, with the exit codes the job relies on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import xml.etree.ElementTree as ET

import xmlschema
import yaml

from ..conftest import ROOT
from . import endpoints as ep

DOC = ROOT / "docs" / "ci.md"
XSD = ROOT / "tests" / "data" / "junit.xsd"


def fenced(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), re.S)


def job() -> dict:
    [workflow] = [yaml.safe_load(b) for b in fenced("yaml")]
    return workflow["jobs"]["conformance"]


def step(name: str) -> dict:
    return next(s for s in job()["steps"] if s.get("name") == name)


def bash(script: str, cwd: Path, url: str):
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(["bash", "-e", "-c", script.replace("http://127.0.0.1:8000", url)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_job_installs_runs_publishes_and_gates():
    steps = job()["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/checkout@") and uses[1].startswith("actions/setup-python@")
    install = step("Install mock-norce")
    assert install["run"] == 'pip install "$MOCK_NORCE"' and install["env"]["MOCK_NORCE"].startswith("git+https://")
    assert "--format junit --out conformance.xml" in step("Would Norce be happy?")["run"]
    publish = step("Publish the report")
    assert publish["if"] == "always()" and publish["with"]["report_paths"] == "conformance.xml"
    assert job()["permissions"]["checks"] == "write"


def test_the_jobs_shell_steps_run_against_a_local_service(serve, tmp_path):
    good = serve(ep.ok)
    waited = bash(step("Wait for it")["run"], tmp_path, good.url)
    assert waited.returncode == 0, waited.stderr
    ran = bash(step("Would Norce be happy?")["run"], tmp_path, good.url)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    xmlschema.XMLSchema(str(XSD)).validate(str(tmp_path / "conformance.xml"))
    assert {r.path for r in good.requests} >= {"/norce/OrderConfirmedEvent", "/norce/JobCompletedEvent"}

    failing = serve(ep.conflict_on_duplicates())
    gated = bash(step("Would Norce be happy?")["run"], tmp_path, failing.url)
    assert gated.returncode == 3  # fails the job
    # ... and the report says why (a busy machine may add a slow answer of its own: not asserted)
    suite = ET.parse(tmp_path / "conformance.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert "duplicate" in failed, failed


def test_the_command_examples_run(serve, tmp_path):
    good = serve(ep.ok)
    [block] = fenced("sh")
    commands = re.sub(r"\\\n\s*", " ", block).splitlines()
    for command in commands:
        command = command.split("  #")[0]
        command = command.replace("http://127.0.0.1:8000/test/verify", good.url + "/verify")
        out = bash(command, tmp_path, good.url)
        assert out.returncode == 0, f"{command}\n{out.stdout}{out.stderr}"
    assert (tmp_path / "conformance.xml").exists()
    assert any(r.path == "/verify" for r in good.requests)
