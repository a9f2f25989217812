"""The catalogue commands: ``events``, ``generate``, ``validate``, ``scenarios`` and ``check``.

They need no engine and no database: the catalogue, the tenant and the scenario library only.
"""

from __future__ import annotations

import json
import sys

from mock_norce.cli.exits import EXIT_NEGATIVE, EXIT_OK
from mock_norce.cli.loading import load_factory, load_library, parse_sets
from mock_norce.errors import UsageError
from mock_norce.settings import Settings


def cmd_events(args, settings: Settings) -> int:
    factory = load_factory(settings)
    types = list(factory.catalog)
    if args.json:
        print(json.dumps([et.summary() | {"unconfirmed": list(et.unconfirmed)} for et in types], indent=2))
        return EXIT_OK
    width = max(len(et.name) for et in types)
    print(f"{'TYPE':<{width}}  {'CATEGORY':<9}  {'KIND':<12}  NOTE")
    for et in types:
        note = "custom" if not et.builtin else ""
        if et.unconfirmed:
            note = (note + " " if note else "") + "some facts unconfirmed by Norce's docs"
        print(f"{et.name:<{width}}  {et.category:<9}  {et.kind:<12}  {note}".rstrip())
    return EXIT_OK


def cmd_generate(args, settings: Settings) -> int:
    import random

    from mock_norce.catalogue.payloads import new_seed

    factory = load_factory(settings)
    et = factory.catalog.get(args.type)
    if args.count < 1:
        raise UsageError("--count must be at least 1")
    if args.market:
        factory.tenant.market(args.market)  # fail before printing anything
    overrides = parse_sets(et, args.set)
    seed = args.seed if args.seed is not None else settings.seed
    rng = random.Random(seed if seed is not None else new_seed())
    out = sys.stdout
    for _ in range(args.count):
        payload = factory.generate(et.name, rng=rng, market=args.market, overrides=overrides,
                                   omit=args.omit, allow_invalid=args.invalid)
        if args.pretty:
            out.write(json.dumps(payload.body, ensure_ascii=False, indent=2) + "\n")
        else:
            out.write(payload.to_json() + "\n")
        if not payload.valid:
            problems = "; ".join(f"{p}: {r}" for p, r in payload.errors)
            print(f"mock-norce: note: deliberately invalid payload ({problems})", file=sys.stderr)
    return EXIT_OK


def _read_payloads(source: str) -> list[tuple[str, object]]:
    if source == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        try:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise UsageError(f"cannot read {source}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"cannot read {source}: not UTF-8 text") from None
        name = source
    stripped = text.strip()
    if not stripped:
        raise UsageError(f"{name} is empty: expected a JSON object (or one per line)")
    try:
        return [(name, json.loads(stripped))]
    except json.JSONDecodeError as whole_error:
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append((f"{name}:{number}", json.loads(line)))
            except json.JSONDecodeError:
                if number == 1 or len(items) == 0:
                    raise UsageError(f"{name} is not valid JSON: {whole_error}") from None
                raise UsageError(f"{name}:{number} is not valid JSON") from None
        return items


def cmd_validate(args, settings: Settings) -> int:
    factory = load_factory(settings)
    et = factory.catalog.get(args.type)
    status = EXIT_OK
    for where, payload in _read_payloads(args.file):
        errors = et.errors(payload)
        if not errors:
            print(f"{where}: valid {et.name}")
            continue
        status = EXIT_NEGATIVE
        print(f"{where}: invalid {et.name} ({len(errors)} error{'s' if len(errors) > 1 else ''})")
        for path, reason in errors:
            print(f"  {path}: {reason}")
    return status


def cmd_scenarios(args, settings: Settings) -> int:
    library = load_library(settings, load_factory(settings))
    items = [s.summary() for s in library]
    if args.json:
        print(json.dumps(items, indent=2))
        return EXIT_OK
    import textwrap

    width = max([len(s["name"]) for s in items] + [8])
    print(f"{'SCENARIO':<{width}}  DESCRIPTION / EVENTS")
    for s in items:
        lines = textwrap.wrap(s["description"], 96 - width) or [""]
        print(f"{s['name']:<{width}}  {lines[0]}")
        for line in lines[1:]:
            print(f"{'':<{width}}  {line}")
        print(f"{'':<{width}}  events: {', '.join(s['events'])}")
    return EXIT_OK


def cmd_check(args, settings: Settings) -> int:
    from pathlib import Path

    from mock_norce.scenarios.library import load_scenario
    from mock_norce.errors import ScenarioErrors

    factory = load_factory(settings)
    if args.files:
        paths = [Path(f) for f in args.files]
    else:
        from mock_norce.app import scenario_dirs

        dirs = scenario_dirs(settings)
        paths = sorted(p for d in dirs for p in list(Path(d).glob("*.yaml")) + list(Path(d).glob("*.yml")))
    bad = 0
    for path in paths:
        try:
            scenario = load_scenario(path, factory.catalog, settings.fixtures_dir)
        except ScenarioErrors as exc:
            bad += 1
            for problem in exc.problems:
                print(problem)
            continue
        print(f"{path}: ok ({scenario.name}: {len(scenario.events)} event types)")
    if bad:
        print(f"{bad} of {len(paths)} file(s) have errors", file=sys.stderr)
    return EXIT_NEGATIVE if bad else EXIT_OK
