"""What a command loads: the catalogue and the scenario library (their warnings on stderr)
and the typed values of its ``--set Field=value`` options."""

from __future__ import annotations

import sys
from typing import Sequence

from mock_norce.errors import UsageError
from mock_norce.settings import Settings


def load_factory(settings: Settings):
    from mock_norce.app import build_factory

    factory = build_factory(settings)
    for problem in factory.catalog.problems:
        print(f"mock-norce: warning: skipped custom schema: {problem}", file=sys.stderr)
    return factory


def load_library(settings: Settings, factory):
    from mock_norce.app import build_library

    library = build_library(settings, factory.catalog)
    for problem in library.problems:
        print(f"mock-norce: warning: skipped scenario: {problem}", file=sys.stderr)
    return library


def parse_sets(et, pairs: Sequence[str]) -> dict:
    """--set Field=value pairs as a dict of typed values."""
    from mock_norce.catalogue.payloads import coerce

    overrides = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"bad --set {pair!r}: expected Field=value, e.g. --set OrderNo=SO-123")
        overrides[name.strip()] = coerce(et, name.strip(), raw)
    return overrides
