"""The scenario model: entities and steps as frozen objects, and the words of the format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mock_norce.catalogue.schemas import ENTITY_KINDS

FORMAT_VERSION = 1
KINDS = ENTITY_KINDS  # an entity's kind; an event schema's "x-norce-entity" says which kind it is about
REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9_]+)\}")
STEP_KINDS = ("emit", "wait", "choose", "repeat", "for_each")
STEP_KEYS_ALLOWED = {
    "emit": {"emit", "name", "for", "set", "omit"},
    "wait": {"wait", "name"},
    "choose": {"choose", "name"},
    "repeat": {"repeat", "name", "entities", "steps"},
    "for_each": {"for_each", "as", "name", "entities", "steps"},
}


@dataclass(frozen=True)
class EntitySpec:
    name: str
    kind: str
    market: str | None = None
    count: int | None = None  # a list of entities when set
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Emit:
    event_type: str
    name: str | None = None
    entity: str | None = None
    set: dict = field(default_factory=dict)
    omit: tuple = ()
    line: int = 0


@dataclass(frozen=True)
class Wait:
    seconds: float
    line: int = 0


@dataclass(frozen=True)
class Choose:
    branches: tuple  # ((weight, steps, entity specs drawn when the branch is taken), ...)
    line: int = 0


@dataclass(frozen=True)
class Repeat:
    times: int
    steps: tuple
    entities: tuple = ()  # EntitySpecs drawn afresh for each time round
    line: int = 0


@dataclass(frozen=True)
class ForEach:
    entities: str  # the name of an entity list
    alias: str
    steps: tuple
    line: int = 0


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    entities: tuple  # EntitySpecs
    steps: tuple
    path: Path
    events: tuple  # the event types it can emit, sorted

    def summary(self) -> dict:
        return {"name": self.name, "description": self.description, "events": list(self.events)}


# --- loading -----------------------------------------------------------------------------
