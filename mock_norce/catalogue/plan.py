"""The plan of an event type: for each of its fields, in schema order, how its value is made.

A known Norce field name gets its maker (fields.MAKERS), a tenant-weighted enum its weights,
anything else a maker from its schema (schema_values.py); an optional field is sent as often
as the tenant's ``traffic`` says, and a Draw's fixed values (an entity's) always win.
"""

from __future__ import annotations

from typing import Any, Callable

from mock_norce.catalogue.fields import ABSENT, MAKERS, Draw, weighted_enum
from mock_norce.catalogue.schema_values import from_schema
from mock_norce.catalogue.schemas import EventType
from mock_norce.catalogue.tenant import Tenant

# Fields whose makers decide presence themselves (the buyer gave a phone or not, consistently
# for the whole order), so the plan must not add a second coin toss.
_SELF_PRESENCE = {"FirstName", "LastName", "CellPhone", "Email"}
# Optional in the schema, always sent: a ready-for-pickup notice is for telling the buyer
# where to collect the order (the store or parcel point), which it cannot do without the place.
_ALWAYS_SENT = {"DropPointCode"}


def plan_for(et: EventType, tenant: Tenant) -> list[tuple[str, Callable[[Draw], Any]]]:
    """For each property of the type, in schema order, a function of a Draw giving its value."""
    traffic = tenant.traffic
    required = set(et.required)
    plan = []
    for name, schema in et.schema.get("properties", {}).items():
        make = MAKERS.get(name)
        if make is None or (name in _ENUM_FIELDS and "enum" not in schema and not _has_weights(tenant, et, name)):
            make = from_schema(schema if isinstance(schema, dict) else {}, name, et.schema)
        elif name in _ENUM_FIELDS:
            make = weighted_enum(name, from_schema(schema, name, et.schema))
        share = None
        if name not in required and name not in _SELF_PRESENCE and name not in _ALWAYS_SENT:
            share = traffic.get("optional_presence", 0.85)
            if name == "ApplicationId" and et.kind == "Notification":
                share = traffic.get("application_id_on_notifications", 0.6)
        fallback = None
        if name in required and name in _SELF_PRESENCE:
            fallback = from_schema(schema if isinstance(schema, dict) else {}, name, et.schema)
        plan.append((name, _field(name, make, et, share, fallback)))
    return plan


_ENUM_FIELDS = {"EntityChanged", "State", "StatusId"}


def _has_weights(tenant: Tenant, et: EventType, name: str) -> bool:
    return f"{et.name}.{name}" in tenant.enum_weights


def _field(name: str, make: Callable[[Draw], Any], event: EventType, share: float | None,
           fallback: Callable[[Draw], Any] | None):
    """One field's value for a Draw: the entity's fixed value, else (maybe) a made one."""
    def value(d: Draw):
        if name in d.fixed:
            return d.fixed[name]
        if share is not None and d.rng.random() >= share:
            return ABSENT
        d.event = event
        made = make(d)
        if made is ABSENT and fallback is not None:  # a required field the buyer did not give
            made = fallback(d)
        return made
    return value
