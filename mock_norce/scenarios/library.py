"""Scenario files: load, check and model them.

A scenario is a YAML file (format 1, see ``docs/scenarios.md``) with named entities and
ordered steps: emit, wait, choose, repeat, for_each. Loading checks the file against the
format's JSON Schema and then its meaning (event types exist, entities and references
resolve, durations parse, kinds fit the event types) and reports *every* problem with its
file and line, before anything is sent. A library loads many files; a bad one is reported
and skipped, never fatal to the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import yaml

from mock_norce.catalogue.schemas import Catalog
from mock_norce.scenarios.check import Checker, all_step_names, format_validator, line_of, parse_yaml, schema_reason, yaml_lines
from mock_norce.errors import ScenarioErrors, UnknownScenario
from mock_norce.errors import Problem
from mock_norce.scenarios.model import Scenario


def load_scenario(path: Path, catalog: Catalog, fixtures_dir: Path, text: str | None = None) -> Scenario:
    """Read and check one file; ScenarioErrors lists every problem with its line."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8") if text is None else text
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioErrors([Problem(name, 1, f"cannot read: {getattr(exc, 'strerror', None) or exc}")]) from None
    try:
        node, data = parse_yaml(text)
    except yaml.YAMLError as exc:
        # The context ("while parsing a flow sequence") points at the construct left open,
        # which is where the mistake is; the problem mark is where the parser noticed.
        problem, context = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
        mark = context or problem
        line = mark.line + 1 if mark else 1
        reason = f"YAML syntax error: {getattr(exc, 'problem', None) or exc}"
        if context is not None and problem is not None and problem.line != context.line:
            reason += f" (noticed at line {problem.line + 1}, {exc.context} here)"
        raise ScenarioErrors([Problem(name, line, reason)]) from None
    if node is None or not isinstance(data, dict):
        raise ScenarioErrors([Problem(name, 1, "a scenario file must be a mapping with format, name and steps")])
    lines = yaml_lines(node)
    problems = [Problem(name, line_of(lines, e.absolute_path), schema_reason(e))
                for e in sorted(format_validator(fixtures_dir).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]
    checker = Checker(name, lines, catalog, all_step_names(data.get("steps")))
    entities = checker.entities(data.get("entities"), ("entities",))
    steps = checker.steps(data.get("steps"), ("steps",), dict(entities), set())
    problems += checker.problems
    if problems:
        unique = sorted(set(problems), key=lambda p: (p.line, p.reason))
        raise ScenarioErrors(unique)
    return Scenario(
        name=data["name"], description=str(data.get("description", "")).strip(),
        entities=tuple(entities.values()), steps=tuple(steps), path=Path(path),
        events=tuple(sorted(checker.emitted)),
    )


class Library:
    """Every scenario of the built-in and user directories; bad files listed in ``problems``."""

    def __init__(self, catalog: Catalog, fixtures_dir: Path, directories: Iterable[Path]):
        self.catalog = catalog
        self.fixtures_dir = fixtures_dir
        self.scenarios: dict[str, Scenario] = {}
        self.problems: list[Problem] = []
        for directory in directories:
            self._load_dir(Path(directory))

    def _load_dir(self, directory: Path) -> None:
        if not directory.is_dir():
            self.problems.append(Problem(str(directory), 1, "scenario directory does not exist"))
            return
        for path in sorted(list(directory.glob("*.yaml")) + list(directory.glob("*.yml"))):
            try:
                scenario = load_scenario(path, self.catalog, self.fixtures_dir)
            except ScenarioErrors as exc:
                self.problems.extend(exc.problems)
                continue
            if scenario.name in self.scenarios:
                self.problems.append(Problem(str(path), 1, f"scenario name {scenario.name!r} is already "
                                                           f"taken by {self.scenarios[scenario.name].path}"))
                continue
            self.scenarios[scenario.name] = scenario

    def get(self, name: str) -> Scenario:
        try:
            return self.scenarios[name]
        except KeyError:
            known = ", ".join(sorted(self.scenarios)) or "none"
            raise UnknownScenario(f"unknown scenario {name!r}; known: {known}") from None

    def __iter__(self):
        return iter(self.scenarios.values())
