"""Checking scenario files: the format's JSON Schema, then their meaning, with line numbers.

Every problem is collected (not only the first) with the line it comes from, found by
composing the YAML into nodes that remember their position.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import yaml
from jsonschema import Draft202012Validator

from mock_norce.catalogue.schemas import Catalog
from mock_norce.durations import parse_duration
from mock_norce.errors import BadDuration
from mock_norce.catalogue.fields import MAKERS
from mock_norce.errors import Problem
from mock_norce.scenarios.model import STEP_KEYS_ALLOWED, STEP_KINDS, FORMAT_VERSION, KINDS, REF, Choose, Emit, EntitySpec, ForEach, Repeat, Wait


# --- YAML with line numbers --------------------------------------------------------------

def parse_yaml(text: str):
    """(node, data): the composed node tree (it knows the lines) and the data built from it.

    One parse: the data is constructed from the very nodes (safe tags only), as
    ``yaml.safe_load`` would, instead of reading the text a second time. (None, None) for an
    empty document; yaml.YAMLError for a broken one.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def yaml_lines(node, path=(), out=None) -> dict:
    """Map each JSON path (tuple of keys/indexes) of a composed YAML node to its 1-based line."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[path + (key.value,)] = key.start_mark.line + 1
            yaml_lines(value, path + (key.value,), out)
            out[path + (key.value,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yaml_lines(item, path + (i,), out)
    return out


def line_of(lines: dict, path: Iterable) -> int:
    path = tuple(path)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


_FORMAT_VALIDATOR: Draft202012Validator | None = None


def format_validator(fixtures_dir: Path) -> Draft202012Validator:
    global _FORMAT_VALIDATOR
    if _FORMAT_VALIDATOR is None:
        schema = json.loads((fixtures_dir / "scenario-format.schema.json").read_text(encoding="utf-8"))
        _FORMAT_VALIDATOR = Draft202012Validator(schema)
    return _FORMAT_VALIDATOR


def schema_reason(error) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "the file"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"{where}: unknown key(s) {', '.join(map(str, extra))}"
    if error.validator == "exclusiveMinimum" and error.absolute_path and error.absolute_path[-1] == "weight":
        return f"{where}: weight must be positive, got {error.instance!r}"
    if error.validator == "const" and list(error.absolute_path) == ["format"]:
        return f"format: unsupported format version {error.instance!r} (this mock-norce reads format {FORMAT_VERSION})"
    return f"{where}: {error.message}"


class Checker:
    """Builds the step model and collects every semantic problem on the way."""

    def __init__(self, file: str, lines: dict, catalog: Catalog, all_names: set[str]):
        self.file, self.lines, self.catalog = file, lines, catalog
        self.all_names = all_names  # every step name in the file, to tell "later" from "unknown"
        self.problems: list[Problem] = []
        self.emitted: set[str] = set()
        self.names: set[str] = set()
        self.step_types: dict[str, str] = {}  # step name -> its event type

    def problem(self, path, reason: str) -> None:
        self.problems.append(Problem(self.file, line_of(self.lines, path), reason))

    def entities(self, raw, path) -> dict[str, EntitySpec]:
        out = {}
        if not isinstance(raw, dict):
            return out
        for ename, spec in raw.items():
            if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
                continue  # the format schema reports it
            fields = spec.get("fields") if isinstance(spec.get("fields"), dict) else {}
            for fname in fields:
                if fname not in MAKERS and not any(fname in et.fields for et in self.catalog):
                    self.problem(path + (ename, "fields", fname), f"entity {ename}: no event type has a field {fname!r}")
            count = spec.get("count") if isinstance(spec.get("count"), int) else None
            out[ename] = EntitySpec(ename, spec["kind"], spec.get("market"), count, dict(fields))
        return out

    def steps(self, raw, path, entities: dict[str, EntitySpec], visible: set[str]) -> list:
        out = []
        if not isinstance(raw, list):
            return out
        for i, step in enumerate(raw):
            if isinstance(step, dict):
                built = self.step(step, path + (i,), entities, visible)
                if built is not None:
                    out.append(built)
        return out

    def step(self, step: dict, path, entities, visible: set[str]):
        kinds = [k for k in STEP_KINDS if k in step]
        if len(kinds) != 1:
            found = " and ".join(kinds) if kinds else "none"
            self.problem(path, f"a step needs exactly one of {', '.join(STEP_KINDS)} (found {found})")
            return None
        kind = kinds[0]
        for extra in sorted(set(step) - STEP_KEYS_ALLOWED[kind]):
            if extra in {k for keys in STEP_KEYS_ALLOWED.values() for k in keys}:
                self.problem(path + (extra,), f"{extra!r} does not belong to a {kind} step")
        name = step.get("name")
        if isinstance(name, str):
            if name in self.names or name in entities:
                self.problem(path + ("name",), f"name {name!r} is used twice")
            self.names.add(name)
        if kind == "emit":
            return self.emit(step, path, entities, visible)
        if kind == "wait":
            try:
                return Wait(parse_duration(step["wait"]), line_of(self.lines, path))
            except BadDuration as exc:
                self.problem(path + ("wait",), exc.message)
                return None
        if kind == "choose":
            branches = []
            for j, branch in enumerate(step["choose"] if isinstance(step["choose"], list) else []):
                if not isinstance(branch, dict):
                    continue
                weight = branch.get("weight")
                fresh = self.entities(branch.get("entities"), path + ("choose", j, "entities"))
                inner = self.steps(branch.get("steps"), path + ("choose", j, "steps"), {**entities, **fresh},
                                   set(visible))
                if isinstance(weight, (int, float)) and not isinstance(weight, bool) and weight > 0:
                    branches.append((float(weight), tuple(inner), tuple(fresh.values())))
            return Choose(tuple(branches), line_of(self.lines, path))
        scoped = dict(entities)
        fresh = self.entities(step.get("entities"), path + ("entities",))
        scoped.update(fresh)
        if kind == "repeat":
            inner = self.steps(step.get("steps"), path + ("steps",), scoped, visible)
            self._missing_steps(step, path)
            return Repeat(step["repeat"] if isinstance(step["repeat"], int) else 1, tuple(inner),
                          tuple(fresh.values()), line_of(self.lines, path))
        listed = step["for_each"]
        spec = entities.get(listed)
        if spec is None:
            self.problem(path + ("for_each",), f"unknown entity list {listed!r}")
        elif spec.count is None:
            self.problem(path + ("for_each",), f"entity {listed!r} is not a list: give it a count")
        alias = step.get("as") or listed
        if spec is not None:
            scoped[alias] = EntitySpec(alias, spec.kind, spec.market, None, spec.fields)
        inner = self.steps(step.get("steps"), path + ("steps",), scoped, visible)
        self._missing_steps(step, path)
        return ForEach(listed, alias, tuple(inner), line_of(self.lines, path))

    def _missing_steps(self, step, path) -> None:
        if "steps" not in step:
            self.problem(path, "this block needs its steps")

    def emit(self, step: dict, path, entities, visible: set[str]) -> Emit | None:
        etype = step["emit"]
        ok = True
        if etype not in self.catalog:
            self.problem(path + ("emit",), f"unknown event type {etype!r}")
            ok = False
        entity = step.get("for")
        if entity is not None:
            spec = entities.get(entity)
            if spec is None:
                self.problem(path + ("for",), f"unknown entity {entity!r}")
                ok = False
            elif spec.count is not None:
                self.problem(path + ("for",), f"{entity!r} is a list of {spec.count}; use for_each to emit for each")
                ok = False
            elif ok and self.catalog.get(etype).entity not in (None, spec.kind):
                self.problem(path + ("for",), f"{etype} is about a {self.catalog.get(etype).entity}, "
                                              f"but {entity!r} is a {spec.kind}")
                ok = False
        overrides = step.get("set") if isinstance(step.get("set"), dict) else {}
        if ok:
            fields = self.catalog.get(etype).fields
            for fname in overrides:
                if fname not in fields:
                    self.problem(path + ("set", fname), f"{etype} has no field {fname!r}")
            for fname in step.get("omit") or ():
                if fname not in fields:
                    self.problem(path + ("omit",), f"{etype} has no field {fname!r} to omit")
        self._check_refs(overrides, path + ("set",), entities, visible)
        name = step.get("name")
        if ok:
            self.emitted.add(etype)
            if isinstance(name, str):
                visible.add(name)
                self.step_types[name] = etype
        if not ok:
            return None
        return Emit(etype, name, entity, dict(overrides), tuple(step.get("omit") or ()), line_of(self.lines, path))

    def _check_refs(self, value, path, entities, visible: set[str]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self._check_refs(v, path + (k,), entities, visible)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self._check_refs(v, path + (i,), entities, visible)
        elif isinstance(value, str) and "${" in value:
            found = REF.findall(value)
            if value.count("${") != len(found):
                self.problem(path, f"malformed reference in {value!r}: write ${{step_or_entity:Field}}")
            for target, fname in found:
                if target in entities:
                    if fname not in MAKERS and fname not in entities[target].fields:
                        self.problem(path, f"entity {target!r} has no field {fname!r}")
                elif target in visible:
                    etype = self.step_types.get(target)
                    if etype and fname not in self.catalog.get(etype).fields:
                        self.problem(path, f"step {target!r} ({etype}) has no field {fname!r}")
                elif target in self.all_names:
                    self.problem(path, f"step {target!r} has not surely run at this point: a reference must "
                                       "point to an earlier step outside any choose branch")
                else:
                    self.problem(path, f"unresolvable reference ${{{target}:{fname}}}: no earlier step or "
                                       f"entity named {target!r}")


def all_step_names(steps) -> set[str]:
    names = set()
    for step in steps if isinstance(steps, list) else ():
        if not isinstance(step, dict):
            continue
        if isinstance(step.get("name"), str):
            names.add(step["name"])
        names |= all_step_names(step.get("steps"))
        for branch in step.get("choose") if isinstance(step.get("choose"), list) else ():
            if isinstance(branch, dict):
                names |= all_step_names(branch.get("steps"))
    return names


