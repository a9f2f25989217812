"""What every command shares: exit statuses, the usage error, and building the catalogue
and the scenario library with their warnings on stderr."""

from __future__ import annotations

import signal
import sys
from typing import Sequence

from mock_norce.errors import UsageError
from mock_norce.settings import Settings

EXIT_OK, EXIT_NEGATIVE, EXIT_USAGE = 0, 1, 2
# stdout closed by its reader (`mock-norce generate ... | head -n 1`): the status a tool
# killed by SIGPIPE has in a shell (`yes | head` gives 141 under `set -o pipefail`), without
# a message; the reader had all it wanted, and finally blocks still run.
EXIT_PIPE = 128 + signal.SIGPIPE



def factory(settings: Settings):
    from mock_norce.app import build_factory

    factory = build_factory(settings)
    for problem in factory.catalog.problems:
        print(f"mock-norce: warning: skipped custom schema: {problem}", file=sys.stderr)
    return factory


def library(settings: Settings, factory):
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
