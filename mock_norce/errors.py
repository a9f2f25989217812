"""The exception hierarchy of mock-norce.

Every error a user can cause (bad input, bad files, unknown names) is a MockNorceError with a
message fit to show as is: the CLI prints it on one line, the API puts it in
``{"error": ..., "message": ...}``. Anything else is a bug.
"""

from __future__ import annotations


class MockNorceError(Exception):
    """Base class: an error caused by input, with a message meant for the user."""

    code = "error"

    @property
    def message(self) -> str:
        return str(self)


class SettingsError(MockNorceError):
    """A MOCK_NORCE_* variable has a value that cannot be used."""

    code = "bad_setting"


class UnknownEventType(MockNorceError):
    """No schema, built-in or custom, has this event type name."""

    code = "unknown_event_type"

    def __init__(self, name: str, known: list[str] | None = None):
        hint = ""
        if known:
            close = [k for k in known if k.lower() == name.lower()]
            if close:
                hint = f" (did you mean {close[0]}?)"
        super().__init__(f"unknown event type {name!r}{hint}; `mock-norce events` lists them")
        self.name = name


class UnknownMarket(MockNorceError):
    """The tenant has no market (application) with this code."""

    code = "unknown_market"


class SchemaFileError(MockNorceError):
    """A schema file (built-in or in the user's directory) cannot be used."""

    code = "bad_schema"


class TenantError(MockNorceError):
    """The tenant file is missing a part or has an inconsistent one."""

    code = "bad_tenant"


class InvalidPayload(MockNorceError):
    """A payload (generated with overrides, or given by a user) breaks its event schema.

    ``errors`` holds every problem as ``(json_path, reason)``.
    """

    code = "invalid_payload"

    def __init__(self, event_type: str, errors: list[tuple[str, str]]):
        self.event_type = event_type
        self.errors = errors
        listed = "; ".join(f"{path}: {reason}" for path, reason in errors)
        super().__init__(f"{event_type} payload is invalid: {listed}")


class BadOverride(MockNorceError):
    """An override cannot be applied at all (bad syntax, or a field the type does not have)."""

    code = "bad_override"


class StorageUnavailable(MockNorceError):
    """The database cannot be written (disk full, locked by another process, read-only).

    Answered as 503 with this code; nothing accepted before is lost, and mock-norce goes on
    by itself once the database can be written again.
    """

    code = "storage_unavailable"


class UsageError(MockNorceError):
    """A command line that cannot be carried out as given."""

    code = "usage"
