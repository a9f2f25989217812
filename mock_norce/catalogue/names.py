"""People's names per market: first names by sex and last names, weighted by their bearers.

A market names its table file in the tenant (``names: names/se.yaml``, next to the tenant
file): three mappings, ``female``, ``male`` and ``last``, of a name to how many people bear
it, from the country's statistics office (each file says which table and year). Faker's
locale tables are the fallback for a tenant that names no file; ours replace them because
Faker's Nordic tables are unweighted (no_NO, da_DK), count middle names as first names
(fi_FI, sv_SE), or hold names nobody bears (da_DK's "Ørni", "Øvli", "Åbjørn").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from mock_norce.errors import TenantError
from mock_norce.weighted import Weighted

PARTS = ("female", "male", "last")


@dataclass(frozen=True)
class NameTables:
    female: Weighted
    male: Weighted
    last: Weighted


class _UniqueKeys(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser: 5x faster
    """A YAML loader that refuses a name listed twice in one table (YAML keeps the last)."""


def _mapping(loader: _UniqueKeys, node: yaml.MappingNode) -> dict:
    out = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in out:
            raise TenantError(f"line {key_node.start_mark.line + 1}: {key!r} is listed twice")
        out[key] = loader.construct_object(value_node)
    return out


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@lru_cache(maxsize=None)
def load_names(path: str) -> NameTables:
    """A names file, read and checked once: every problem is a TenantError naming the file."""
    try:
        raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeys)  # noqa: S506 (safe loader)
    except OSError as exc:
        raise TenantError(f"cannot read names file {path}: {exc.strerror}") from None
    except (yaml.YAMLError, TenantError) as exc:
        raise TenantError(f"names file {path}: {exc}") from None
    if not isinstance(raw, dict) or set(raw) != set(PARTS):
        raise TenantError(f"names file {path} must have exactly the tables {', '.join(PARTS)}")
    tables = {}
    for part in PARTS:
        table = raw[part]
        if not isinstance(table, dict) or not all(isinstance(n, str) and n.strip() == n and n for n in table):
            raise TenantError(f"names file {path}: {part} must map names to their bearers")
        tables[part] = Weighted(list(table.items()), f"names file {path}: {part}", error=TenantError)
    return NameTables(**tables)


def _weighted_names(names) -> Weighted:
    if isinstance(names, dict):  # Faker keeps weighted tables as OrderedDicts
        return Weighted(list(names.items()))
    return Weighted.uniform(list(names))


@lru_cache(maxsize=None)
def faker_names(locale: str) -> NameTables:
    """The first-name and last-name tables of a Faker locale (for a tenant without names files)."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    return NameTables(
        female=_weighted_names(provider.first_names_female),
        male=_weighted_names(provider.first_names_male),
        last=_weighted_names(provider.last_names),
    )
