"""The README's examples cannot rot: each fenced block is extracted and checked or run.

- Every fence is balanced, names its language, and is never doubled (a doubled fence breaks
  the rendering and turns a copied example into a SyntaxError).
- ``python`` blocks compile; those with tests run under pytest with the plugin (a real
  ``mock-norce serve``); ``sh`` blocks pass ``bash -n`` and their ``curl`` and ``mock-norce``
  lines run against a real server (``127.0.0.1:8080`` replaced by its URL, ``:9000`` by a
  local subscriber's); ``json`` and ``yaml`` blocks parse; the project layout names paths that
  exist.
- A block the tests cannot run here says so just above it: ``<!-- example: not run: why -->``
  (the reason is required and shown); those blocks are still syntax-checked. Blocks marked
  ``<!-- example: docker -->`` run in tests/service/test_readme_image.py with the image.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from .conftest import ROOT
from .servers import answer

README = ROOT / "README.md"
FENCE = re.compile(r"^(\s*)```(.*)$")
NOT_RUN = re.compile(r"<!-- example: not run: (.+?) -->")
DOCKER = "<!-- example: docker -->"  # run by tests/service/test_readme_image.py with the session's image


@dataclass
class Block:
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    not_run: str | None
    docker: bool = False

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.lang})"


def blocks(text: str | None = None) -> list[Block]:
    lines = (text if text is not None else README.read_text()).split("\n")
    found, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2).strip()
        body, j = [], i + 1
        while j < len(lines) and not re.match(rf"^{indent}```\s*$", lines[j]):
            body.append(lines[j][len(indent):])
            j += 1
        assert j < len(lines), f"README.md:{i + 1}: a fence that is never closed"
        before = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        reason = NOT_RUN.search(before)
        found.append(Block(i + 1, lang, "\n".join(body), reason.group(1) if reason else None, DOCKER in before))
        i = j + 1
    return found


LANGUAGES = ("sh", "python", "json", "yaml", "text", "js", "csharp", "ini", "toml")


def fence_problems(text: str) -> list[str]:
    try:
        found = blocks(text)
    except AssertionError as exc:
        return [str(exc)]
    return ([f"{b}: name the language of every fenced block" for b in found if b.lang not in LANGUAGES]
            + [f"{b}: a doubled fence" for b in found if b.text.lstrip().startswith("```")])


def test_fences_are_balanced_named_and_never_doubled():
    assert len(blocks()) >= 15
    assert fence_problems(README.read_text()) == []


def test_the_fence_check_finds_a_doubled_fence():
    assert fence_problems("```python\n```python\nx = 1\n```\n```\n")
    assert fence_problems("```python\n```python\nx = 1\n```\n")
    assert fence_problems("```\nx\n```\n") and not fence_problems("```python\nx = 1\n```\n")


def test_python_blocks_compile():
    for block in blocks():
        if block.lang == "python":
            compile(block.text, str(block), "exec")


def test_sh_blocks_are_valid_bash():
    for block in blocks():
        if block.lang == "sh":
            out = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True)
            assert out.returncode == 0, f"{block}: {out.stderr}"


def test_json_and_yaml_blocks_parse():
    for block in blocks():
        if block.lang == "json":
            try:
                json.loads(block.text)
            except ValueError:  # JSON lines: one document a line
                for line in filter(str.strip, block.text.splitlines()):
                    json.loads(line)
        elif block.lang == "yaml":
            assert yaml.safe_load(block.text) is not None, str(block)


def test_js_blocks_are_the_node_example_that_ci_runs():
    # tests/service/test_node_example.py runs docs/examples/node with npm and node --test.
    sources = "".join(p.read_text() for p in (ROOT / "docs" / "examples" / "node").glob("*.js"))
    js = [b for b in blocks() if b.lang == "js"]
    assert js and all(b.text.strip() in sources for b in js), "a js block differs from docs/examples/node"


def test_the_project_layout_names_paths_that_exist():
    layout = next(b for b in blocks() if b.lang == "text" and b.text.startswith("mock_norce/"))
    names = set(re.findall(r"(?:^|\s)([a-z_]+(?:\.py|/))(?=[\s,]|$)", layout.text, re.M))
    missing = [n for n in names if not list(ROOT.rglob(n.rstrip("/")))]
    assert not missing, f"the layout in {layout} names what does not exist: {missing}"


def test_python_test_examples_pass_with_the_plugin(tmp_path):
    examples = [b for b in blocks() if b.lang == "python" and "def test_" in b.text and b.not_run is None
                and not b.docker]
    assert examples, "the README shows at least one test with the plugin"
    for n, block in enumerate(examples):
        (tmp_path / f"test_readme_{n}_line_{block.line}.py").write_text(block.text)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{sum(b.text.count('def test_') for b in examples)} passed" in out.stdout


# Commands that report a negative answer with exit status 1 by design (cli/exits.py).
NEGATIVE = ("--invalid", " validate ", " check ")


def _commands(block: Block) -> list[str]:
    """The block's command lines: continuations joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", block.text)
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def test_every_sh_block_is_run_or_says_why_not():
    for block in blocks():
        if block.lang == "sh" and block.not_run is None:
            foreign = [c for c in _commands(block) if not c.startswith(("curl", "mock-norce", "TOKEN=", "MOCK_NORCE_"))]
            assert not foreign, f"{block}: the tests cannot run {foreign}: mark it <!-- example: not run: why -->"


def test_sh_examples_run_against_a_real_server(tmp_path, serve):
    from mock_norce.testing.server import start

    subscriber = serve(answer(204))
    (tmp_path / "my-scenarios").mkdir()
    scenario = (ROOT / "docs" / "scenarios.md").read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "my-scenarios" / "mine.yaml").write_text(scenario)
    with start(data_dir=tmp_path / "data") as server:
        sample = server.client().call("GET", "/api/events/OrderReceivedEvent/sample?seed=1")
        (tmp_path / "payload.json").write_text(json.dumps(sample))
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
               "MOCK_NORCE_DATA_DIR": str(tmp_path / "cli")}
        ran = 0
        for block in blocks():
            if block.lang != "sh" or block.not_run is not None:
                continue
            script = "\n".join(c for c in _commands(block) if not c.startswith("mock-norce serve"))
            script = (script.replace("http://127.0.0.1:8080", server.url)
                      .replace("http://127.0.0.1:9000", subscriber.url)
                      .replace("http://127.0.0.1:9/", subscriber.url + "/never"))
            for command in (script.split("\n") if "TOKEN=" not in script else [script]):
                out = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True,
                                     timeout=120, env=env)
                allowed = (0, 1) if any(n in f" {command} " for n in NEGATIVE) else (0,)
                assert out.returncode in allowed and "Traceback" not in out.stderr, \
                    f"{block}: {command}\n{out.stdout}\n{out.stderr}"
                if command.startswith(("curl", "TOKEN=")):
                    said = json.loads(out.stdout)  # every curl example answers JSON, and no error
                    assert not (isinstance(said, dict) and "error" in said), f"{block}: {command}\n{out.stdout}"
                ran += 1
        assert ran >= 12
