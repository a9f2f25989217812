"""The exception hierarchy of mock-norce: every error a user can cause, in one place.

Every error a user can cause (bad input, bad files, unknown names) is a MockNorceError with a
message fit to show as is: the CLI prints it on one line, the API puts it in
``{"error": code, "message": ...}`` with the class's HTTP ``status``, the UI shows an error page
with that status. Anything else is a bug. Grouped by the package that raises them; this module
imports nothing of mock-norce's (every package may import it).
"""

from __future__ import annotations

from dataclasses import dataclass


class MockNorceError(Exception):
    """Base class: an error caused by input, with a message meant for the user."""

    code = "error"
    status = 422  # the HTTP status the API and the UI answer it with
    field: str | None = None  # the input at fault, where there is one: a UI form shows the message beside it

    @property
    def message(self) -> str:
        return str(self)


class NotFound(MockNorceError):
    """No delivery, run or schedule with that id (its own subclass says which)."""

    code = "not_found"
    status = 404


class Conflict(MockNorceError):
    """The run or schedule is in a state that does not allow this (or its name is taken)."""

    code = "conflict"
    status = 409


# --- top level: settings, limits, durations, safejson ------------------------------------

class SettingsError(MockNorceError):
    """A MOCK_NORCE_* variable has a value that cannot be used."""

    code = "bad_setting"


class OutOfRange(MockNorceError):
    """A number outside its documented range (limits.py)."""

    code = "out_of_range"


class BadDuration(MockNorceError):
    """A duration (``500ms``, ``1h30m``, seconds) that cannot be read (durations.py)."""

    code = "bad_duration"


class MalformedJson(MockNorceError):
    """A body that is not JSON, or JSON nested or sized past the limits (safejson.py)."""

    code = "malformed_json"
    status = 400


# --- catalogue: event types, markets, schemas, the tenant, payloads ----------------------

class UnknownEventType(MockNorceError):
    """No schema, built-in or custom, has this event type name."""

    code = "unknown_event_type"
    status = 404

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


# --- storage -----------------------------------------------------------------------------
class EngineLocked(MockNorceError):
    """Another mock-norce process runs on this database (raised at start, before serving)."""

    code = "locked"
    status = 409

class StorageUnavailable(MockNorceError):
    """The database cannot be written (disk full, locked by another process, read-only).

    Answered as 503 with this code; nothing accepted before is lost, and mock-norce goes on
    by itself once the database can be written again.
    """

    code = "storage_unavailable"
    status = 503


class DataDirUnwritable(StorageUnavailable):
    """The directory of the database, or one of its files, cannot be written by this process.

    Raised at start, before serving: the message names the path and the process's uid and
    gid, because in a container (``docker run --user``, OpenShift's arbitrary uid) the user
    is the usual cause and the one thing a log line must show.
    """

    code = "data_dir_unwritable"


# --- delivery: subscriptions, the outbox -------------------------------------------------

class SubscriptionError(MockNorceError):
    """A subscription setting that cannot be used (bad URL, bad header, bad file)."""

    code = "bad_subscription"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ChaosError(MockNorceError):
    """A chaos spec that cannot be used (a probability outside 0..1, a window too long, an unknown knob)."""

    code = "bad_chaos"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NoSubscriber(MockNorceError):
    """An event type with no URL to deliver to."""

    code = "no_subscriber"


class DeliveryNotFound(NotFound):
    pass


class BadSearch(MockNorceError):
    """A search of the delivery log that its index cannot answer (the message says why)."""

    code = "bad_parameter"


class DeliveryFinished(Conflict):
    """A retry asked of a delivery that is delivered or dead: nothing waits to be retried."""

    code = "delivery_finished"


# --- world: the entities behind the ids, the Query API ------------------------------------

class QueryModelError(MockNorceError):
    """The Query API's entity model file (fixtures/query-model.yaml) cannot be used: the
    message names the file and the place (namespace, type, part)."""

    code = "bad_query_model"


class QueryError(MockNorceError):
    """A Query API (OData) request that cannot be answered: ``status`` 400 for a query that is
    not valid (syntax, unknown property, depth), 404 for an unknown namespace, entity set, key
    or navigation. The web layer turns it into an OData error body."""

    code = "bad_query"
    status = 400

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = "not_found" if status == 404 else "bad_query"


# --- scenarios ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One problem in a scenario file, at a line."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class ScenarioErrors(MockNorceError):
    """One or more problems in scenario files, each with file and line."""

    code = "bad_scenario"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


class UnknownScenario(MockNorceError):
    code = "unknown_scenario"
    status = 404


class ScenarioRunError(MockNorceError):
    """A run could not go on (a reference with no value, an override the schema refuses)."""

    code = "run_failed"


# --- playback: runs and schedules --------------------------------------------------------

class RunNotFound(NotFound):
    pass


class RunConflict(Conflict):
    pass


class ScheduleError(MockNorceError):
    """A schedule spec (or crontab line) that cannot be used."""

    code = "bad_schedule"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ScheduleNotFound(NotFound):
    pass


class ScheduleConflict(Conflict):
    pass


# --- world: Norce's identity server and the door of its APIs -----------------------------

class OAuthError(MockNorceError):
    """A token request refused as RFC 6749 §5.2 says: ``error`` is the RFC's code word.

    ``invalid_request``, ``unsupported_grant_type`` and ``invalid_scope`` are 400,
    ``invalid_client`` 401. Answered as ``{"error": code, "error_description": message}``.
    """

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.code = status, error

    def body(self) -> dict:
        return {"error": self.code, "error_description": self.message}


class Unauthorized(MockNorceError):
    """A Query or Connect request without a valid Bearer token (missing, malformed, forged, expired).

    ``missing`` is True when no token was sent at all (RFC 6750 then names no error code).
    """

    code = "Unauthorized"
    status = 401

    def __init__(self, message: str, missing: bool = False):
        super().__init__(message)
        self.missing = missing


class BadApplicationId(MockNorceError):
    """The ``ApplicationId`` (``application-id``) header is missing or not an application id."""

    code = "BadRequest"
    status = 400


class RateLimited(MockNorceError):
    """Over a rate limit (the token endpoint's, or the Query API's): 429 with ``Retry-After``."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


# --- web ---------------------------------------------------------------------------------

class BadSinkParameter(MockNorceError):
    """A ``status``, ``delay`` or ``fail_rate`` in a sink URL that cannot be used (sink_log.py)."""

    code = "bad_parameter"
    status = 400


class ApiError(MockNorceError):
    """A request the API refuses before any part of the core sees it: status and code per raise."""

    def __init__(self, status: int, code: str, message: str, errors: list | None = None):
        super().__init__(message)
        self.status, self.code, self.errors = status, code, errors


# --- conformance -------------------------------------------------------------------------

class ConformanceError(MockNorceError):
    """Bad input to the conformance battery (URL, types, headers, verify, seed), the field named."""

    code = "bad_conformance_request"

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


# --- cli ---------------------------------------------------------------------------------

class UsageError(MockNorceError):
    """A command line that cannot be carried out as given."""

    code = "usage"


class OrderNotFound(NotFound):
    code = "order_not_found"


class BadOrderStatus(MockNorceError):
    """An order status asked for by name that Norce does not have."""

    code = "bad_status"
    status = 400


class IllegalTransition(Conflict):
    """The order cannot reach the status asked for from the one it is in."""

    code = "illegal_transition"
