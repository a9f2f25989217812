"""Settings: one frozen object, read from ``MOCK_NORCE_*`` variables.

This module is the only reader of ``os.environ``. Everything else receives a Settings (or
the single values it needs), so tests build one with ``Settings(...)`` or ``replace()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

from .errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_fixtures() -> Path:
    return PROJECT_ROOT / "fixtures"


@dataclass(frozen=True)
class Settings:
    """Every knob of mock-norce. The field's metadata names its environment variable."""

    fixtures_dir: Path = field(
        default_factory=_default_fixtures,
        metadata={"env": "MOCK_NORCE_FIXTURES_DIR", "help": "built-in schemas and tenant.yaml"},
    )
    schemas_dir: Path | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_SCHEMAS_DIR", "help": "extra JSON Schemas: custom event types"},
    )
    tenant_file: Path | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_TENANT", "help": "tenant YAML (default: fixtures/tenant.yaml)"},
    )
    seed: int | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_SEED", "help": "default seed for generation (unset: random)"},
    )

    @property
    def tenant_path(self) -> Path:
        return self.tenant_file or self.fixtures_dir / "tenant.yaml"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Build Settings from ``MOCK_NORCE_*`` variables; unset ones keep their defaults."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.metadata["env"], f.type, raw)
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed."""
        return replace(self, **changes)


def _parse(name: str, annotation: str, raw: str):
    kind = annotation.replace(" | None", "")
    try:
        if kind == "Path":
            return Path(raw).expanduser()
        if kind == "int":
            return int(raw)
        if kind == "float":
            value = float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
            return value
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {kind}") from None
    return raw


def documented_variables() -> list[tuple[str, str, str]]:
    """(variable, default, help) for every setting, for --help and the README table."""
    rows = []
    defaults = Settings()
    for f in fields(Settings):
        default = getattr(defaults, f.name)
        if isinstance(default, Path):
            try:
                default = default.relative_to(PROJECT_ROOT)
            except ValueError:
                pass
        rows.append((f.metadata["env"], "" if default is None else str(default), f.metadata["help"]))
    return rows
