"""Imports point one way (docs/architecture.md): read from the source, every import counted,
also those inside functions.

    foundation (settings, errors, limits, durations, safejson, health, statuses, weighted)
      < catalogue < scenarios, storage, figures < delivery, world < playback < web < app < cli
      < testing (what test suites import: the client, the plugin, the Testcontainers module)

A package imports only from itself and from packages below it; packages on the same level
import nothing from each other. Only ``web`` imports Flask or waitress, only ``playback``
imports APScheduler, only the delivery HTTP client (http_client, framing, connections) imports
``socket``, ``ssl`` or ``select``. No cycles between modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "mock_norce"

FOUNDATION = {"settings", "errors", "limits", "durations", "safejson", "health", "statuses", "weighted", "__init__"}
LEVEL = {"foundation": 0, "catalogue": 1, "scenarios": 2, "storage": 2, "figures": 2, "delivery": 3, "world": 3,
         "playback": 4, "conformance": 4, "web": 5, "app": 6, "cli": 7,
         # What a user's test suite imports (client, server starter, plugin, Testcontainers
         # module): it talks to a server over HTTP and imports nothing of the engine.
         "testing": 8}
ONLY = {  # third-party or standard modules, and the only places that may import them
    "flask": {"web"}, "werkzeug": {"web"}, "jinja2": {"web"}, "waitress": {"web"},
    "apscheduler": {"playback"},
    "socket": {"delivery.http_client", "delivery.framing", "delivery.connections",
               "testing.containers"},  # a free host port for a container on the host's network
    "testcontainers": {"testing.containers"},
    "ssl": {"delivery.http_client", "delivery.framing", "delivery.connections"},
    "select": {"delivery.http_client", "delivery.framing", "delivery.connections"},
}


def unit(module: str) -> str:
    """The package a module belongs to: 'delivery' for 'delivery.outbox', 'foundation' for 'errors'."""
    head = module.split(".")[0]
    if head in FOUNDATION:
        return "foundation"
    if head == "__main__":
        return "cli"
    return head


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module (dotted, below mock_norce) -> every module it imports (mock_norce's, or a top-level name)."""
    out: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package and len(parts) > 1 else parts)
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                deps.update(_name(a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = parts[:-1] if not is_package else parts[:-1]
                    base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                    full = ".".join(["mock_norce", *base] + ([node.module] if node.module else []))
                else:
                    full = node.module or ""
                target = _name(full)
                if target == "" and full == "mock_norce":  # from mock_norce import statuses, __version__
                    deps.update(a.name for a in node.names if a.name != "__version__")
                elif full.startswith("mock_norce.") or full == "mock_norce":
                    # `from mock_norce.delivery import policy`: the module policy, when it is one
                    sub = {f"{target}.{a.name}" for a in node.names}
                    known = {s for s in sub if (root / (s.replace(".", "/") + ".py")).exists()}
                    deps.update(known or {target})
                else:
                    deps.add(target)
        deps.discard(module)
        out[module] = deps
    return out


def _name(dotted: str) -> str:
    """mock_norce.x.y -> 'x.y'; anything else -> its top-level name ('flask', 'socket')."""
    if dotted == "mock_norce":
        return ""
    if dotted.startswith("mock_norce."):
        return dotted[len("mock_norce."):]
    return dotted.split(".")[0]


def violations(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, deps in g.items():
        mine = unit(module)
        for dep in deps:
            if dep in g or dep.split(".")[0] in LEVEL or dep.split(".")[0] in FOUNDATION:
                theirs = unit(dep)
                if theirs != mine and LEVEL[theirs] >= LEVEL[mine]:
                    bad.append(f"{module} ({mine}) imports {dep} ({theirs}): imports must point down")
            elif dep in ONLY:
                allowed = ONLY[dep]
                if mine not in allowed and module not in allowed:
                    bad.append(f"{module} imports {dep}: only {', '.join(sorted(allowed))} may")
    return sorted(bad)


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_imports_point_down_and_frameworks_stay_in_their_package():
    assert violations(graph()) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_every_package_says_what_it_owns_and_may_import():
    for init in sorted(ROOT.glob("*/__init__.py")):
        doc = " ".join((ast.get_docstring(ast.parse(init.read_text())) or "").lower().split())
        assert "owns" in doc and ("may import" in doc or "imports" in doc), f"{init}: what it owns and may import?"


@pytest.mark.parametrize("module, line, expected", [
    ("catalogue/schemas.py", "from mock_norce.storage import database", "imports must point down"),
    ("storage/deliveries.py", "from mock_norce.delivery import policy", "imports must point down"),
    ("scenarios/model.py", "from mock_norce import app", "imports must point down"),
    ("storage/database.py", "from mock_norce.figures import live", "imports must point down"),
    ("delivery/outbox.py", "import flask", "only web may"),
    ("figures/live.py", "from apscheduler.triggers.date import DateTrigger", "only playback may"),
    ("delivery/dispatcher.py", "import socket", "only delivery.connections, delivery.framing, delivery.http_client, testing.containers"),
])
def test_the_check_fails_when_a_forbidden_import_is_added(tmp_path, module, line, expected):
    # The same check on a copy of the package with one forbidden import added.
    import shutil

    copy = tmp_path / "mock_norce"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("templates", "static", "__pycache__"))
    target = copy / module
    target.write_text(target.read_text() + f"\n\ndef _added():\n    {line}\n")
    found = violations(graph(copy))
    assert any(expected in v for v in found), found


def test_a_cycle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
