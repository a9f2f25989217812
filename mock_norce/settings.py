"""Settings: one frozen object, read from ``MOCK_NORCE_*`` variables.

This module is the only reader of ``os.environ``. Everything else receives a Settings (or
the single values it needs), so tests build one with ``Settings(...)`` or ``replace()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

import platformdirs

from mock_norce.errors import SettingsError

# The built-in data (schemas, tenant, query model, scenarios) ships inside the package, so an
# installed wheel finds it from any working directory.
PACKAGE_DIR = Path(__file__).resolve().parent
FIXTURES_DIR = PACKAGE_DIR / "fixtures"


def _default_data_dir() -> Path:
    # The per-user data directory (~/.local/share/mock-norce on Linux, honouring XDG_DATA_HOME),
    # not ./data of whatever directory the user happens to be in.
    return Path(platformdirs.user_data_dir("mock-norce", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Every knob of mock-norce. The field's metadata names its environment variable."""

    fixtures_dir: Path = field(
        default_factory=lambda: FIXTURES_DIR,
        metadata={"env": "MOCK_NORCE_FIXTURES_DIR", "help": "built-in schemas and tenant.yaml"},
    )
    schemas_dir: Path | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_SCHEMAS_DIR", "help": "extra JSON Schemas: custom event types"},
    )
    builtin_scenarios_dir: Path = field(
        default_factory=lambda: FIXTURES_DIR / "scenarios",
        metadata={"env": "MOCK_NORCE_BUILTIN_SCENARIOS_DIR", "help": "the shipped scenario library"},
    )
    scenarios_dir: Path | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_SCENARIOS_DIR", "help": "your own scenario files (*.yaml)"},
    )
    tenant_file: Path | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_TENANT", "help": "tenant YAML (default: fixtures/tenant.yaml)"},
    )
    seed: int | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_SEED", "help": "default seed for generation (unset: random)"},
    )
    subscriber_url: str | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_SUBSCRIBER_URL", "help": "default subscriber URL for every event type"},
    )
    config_file: Path | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_CONFIG", "help": "YAML/JSON file: subscriptions (and schedules)"},
    )
    time_scale: float = field(
        default=1.0,
        metadata={"env": "MOCK_NORCE_TIME_SCALE", "help": "multiplies retry delays and scenario waits (0.001: 22 h in 80 s)"},
    )
    data_dir: Path = field(
        default_factory=_default_data_dir,
        metadata={"env": "MOCK_NORCE_DATA_DIR", "help": "where the databases live (the per-user data directory; XDG_DATA_HOME on Linux)"},
    )
    database: str | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_DATABASE", "help": "SQLite file (default: DATA_DIR/mock-norce.db; :memory: allowed)"},
    )
    timeout: float = field(
        default=5.0,
        metadata={"env": "MOCK_NORCE_TIMEOUT", "help": "seconds for one attempt in total, redirects included (Norce: 5)"},
    )
    max_redirects: int = field(
        default=10,
        metadata={"env": "MOCK_NORCE_MAX_REDIRECTS", "help": "redirect hops followed within one attempt"},
    )
    redirect_keep_post: bool = field(
        default=False,
        metadata={"env": "MOCK_NORCE_REDIRECT_KEEP_POST",
                  "help": "re-POST on 301/302/303 too (default: GET, as .NET's HttpClient does)"},
    )
    policy: str = field(
        default="current",
        metadata={"env": "MOCK_NORCE_POLICY",
                  "help": "Norce's retry policy: current (any non-2xx retried, 17 attempts over ~22 h) or legacy "
                          "(the oldest guide: only HTTP 500 retried, 10 tries, no delay); a subscription may set its own"},
    )
    content_type: str = field(
        default="application/json",
        metadata={"env": "MOCK_NORCE_CONTENT_TYPE",
                  "help": "Content-Type of each POST: application/json or application/json; charset=utf-8 "
                          "(what .NET's StringContent sends); a subscription may set its own"},
    )
    redirect_headers: str = field(
        default="origin",
        metadata={"env": "MOCK_NORCE_REDIRECT_HEADERS",
                  "help": "static headers on a redirect: origin (all dropped when it leaves the origin or goes "
                          "https->http) or dotnet (Authorization dropped on every redirect, the others kept, as "
                          ".NET's HttpClient); a subscription may set its own"},
    )
    concurrency: int = field(
        default=1,
        metadata={"env": "MOCK_NORCE_CONCURRENCY", "help": "attempts in flight per subscriber origin, one thread each (1: in order)"},
    )
    retention_max: int = field(
        default=100_000,
        metadata={"env": "MOCK_NORCE_RETENTION_MAX", "help": "finished deliveries kept in the log (0: all)"},
    )
    retention_age: float | None = field(
        default=None,
        metadata={"env": "MOCK_NORCE_RETENTION_AGE", "help": "drop finished deliveries older than this (e.g. 7d)",
                  "kind": "duration"},
    )
    response_body_cap: int = field(
        default=64 * 1024,
        metadata={"env": "MOCK_NORCE_RESPONSE_BODY_CAP", "help": "bytes of each subscriber response kept in the log"},
    )
    allow_link_local: bool = field(
        default=False,
        metadata={"env": "MOCK_NORCE_ALLOW_LINK_LOCAL", "help": "allow subscriber URLs on 169.254.0.0/16 (cloud metadata)"},
    )

    misfire_grace: float = field(
        default=60.0,
        metadata={"env": "MOCK_NORCE_MISFIRE_GRACE", "kind": "duration",
                  "help": "a schedule firing missed by less than this is made up once; later ones are skipped"},
    )
    host: str = field(
        default="127.0.0.1",
        metadata={"env": "MOCK_NORCE_HOST", "help": "address `serve` listens on (the image uses 0.0.0.0)"},
    )
    port: int = field(
        default=8080,
        metadata={"env": "MOCK_NORCE_PORT", "help": "port `serve` listens on (0: any free port)"},
    )
    api_token: str | None = field(
        default=None,
        repr=False,
        metadata={"env": "MOCK_NORCE_API_TOKEN", "help": "when set, the API and UI need it (Authorization: Bearer)",
                  "secret": True},
    )
    secret_key: str | None = field(
        default=None,
        repr=False,
        metadata={"env": "MOCK_NORCE_SECRET_KEY", "help": "signs UI sessions and CSRF tokens (default: random per start)",
                  "secret": True},
    )
    max_body: int = field(
        default=1024 * 1024,
        metadata={"env": "MOCK_NORCE_MAX_BODY", "help": "largest request body the API accepts, in bytes"},
    )
    threads: int = field(
        default=16,
        metadata={"env": "MOCK_NORCE_THREADS", "help": "HTTP server threads (requests served at once)"},
    )
    max_backlog: int = field(
        default=1_000_000,
        metadata={"env": "MOCK_NORCE_MAX_BACKLOG",
                  "help": "unfinished deliveries above which schedules pause generating (0: no bound)"},
    )
    sink_keep: int = field(
        default=1000,
        metadata={"env": "MOCK_NORCE_SINK_KEEP", "help": "requests the built-in sink remembers (0: none, it only counts)"},
    )
    world: bool = field(
        default=True,
        metadata={"env": "MOCK_NORCE_WORLD",
                  "help": "on: every recorded event makes and changes the entities it names (the Query API "
                          "serves them); off: only the tenant's master data and assortment (for a pure delivery soak)"},
    )
    query_auth: bool = field(
        default=True,
        metadata={"env": "MOCK_NORCE_QUERY_AUTH",
                  "help": "on: the Query API and Connect's job lookup want a Bearer token and an ApplicationId "
                          "header, as Norce does; off: neither"},
    )
    query_clients: str | None = field(
        default=None,
        repr=False,
        metadata={"env": "MOCK_NORCE_QUERY_CLIENTS",
                  "help": "id:secret,id2:secret2: the clients the token endpoint knows (unset: any id and secret)",
                  "secret": True},
    )
    query_token_lifetime: int = field(
        default=3600,
        metadata={"env": "MOCK_NORCE_QUERY_TOKEN_LIFETIME",
                  "help": "seconds a token from /identity/1.0/connect/token is valid (Norce: 3600)"},
    )
    query_token_rate_limit: str = field(
        default="off",
        metadata={"env": "MOCK_NORCE_QUERY_TOKEN_RATE_LIMIT",
                  "help": "norce: the token endpoint allows 3 requests a minute per IP plus a burst of 20, "
                          "then 429; off: no limit"},
    )
    query_rate_limit: float = field(
        default=0.0,
        metadata={"env": "MOCK_NORCE_QUERY_RATE_LIMIT",
                  "help": "Query API requests a second per client before 429 (0: no limit)"},
    )

    def __post_init__(self):
        from mock_norce import limits

        day = 86400.0
        checks = [
            (0 <= self.time_scale <= limits.TIME_SCALE_MAX,
             f"MOCK_NORCE_TIME_SCALE must be between 0 and {limits.TIME_SCALE_MAX:g}"),
            (self.timeout <= 3600, "MOCK_NORCE_TIMEOUT must be at most 3600 seconds"),
            (self.max_redirects <= 100, "MOCK_NORCE_MAX_REDIRECTS must be at most 100"),
            (self.concurrency <= 64, "MOCK_NORCE_CONCURRENCY must be at most 64"),
            (self.retention_age is None or self.retention_age <= limits.DURATION_MAX,
             f"MOCK_NORCE_RETENTION_AGE must be at most {limits.DURATION_MAX / day:g} days"),
            (self.misfire_grace <= limits.DURATION_MAX,
             f"MOCK_NORCE_MISFIRE_GRACE must be at most {limits.DURATION_MAX / day:g} days"),
            (0 <= self.max_backlog <= 10**9, "MOCK_NORCE_MAX_BACKLOG must be between 0 and 1000000000"),
            (self.timeout > 0, "MOCK_NORCE_TIMEOUT must be > 0"),
            (self.max_redirects >= 0, "MOCK_NORCE_MAX_REDIRECTS must be >= 0"),
            (self.concurrency >= 1, "MOCK_NORCE_CONCURRENCY must be >= 1"),
            (self.retention_max >= 0, "MOCK_NORCE_RETENTION_MAX must be >= 0"),
            (self.response_body_cap >= 0, "MOCK_NORCE_RESPONSE_BODY_CAP must be >= 0"),
            (0 <= self.port <= 65535, "MOCK_NORCE_PORT must be a port number (0-65535)"),
            (self.max_body >= 1024, "MOCK_NORCE_MAX_BODY must be >= 1024"),
            (1 <= self.threads <= 256, "MOCK_NORCE_THREADS must be between 1 and 256"),
            (self.sink_keep >= 0, "MOCK_NORCE_SINK_KEEP must be >= 0"),
            (limits.TOKEN_LIFETIME_MIN <= self.query_token_lifetime <= limits.TOKEN_LIFETIME_MAX,
             f"MOCK_NORCE_QUERY_TOKEN_LIFETIME must be between {limits.TOKEN_LIFETIME_MIN} and "
             f"{limits.TOKEN_LIFETIME_MAX} seconds"),
            (self.query_token_rate_limit in TOKEN_RATE_LIMITS,
             f"MOCK_NORCE_QUERY_TOKEN_RATE_LIMIT must be {' or '.join(TOKEN_RATE_LIMITS)}, "
             f"got {self.query_token_rate_limit!r:.40}"),
            (self.policy in POLICIES, f"MOCK_NORCE_POLICY must be {' or '.join(POLICIES)}, got {self.policy!r:.40}"),
            (self.content_type in CONTENT_TYPES,
             f"MOCK_NORCE_CONTENT_TYPE must be {' or '.join(CONTENT_TYPES)}, got {self.content_type!r:.60}"),
            (self.redirect_headers in REDIRECT_HEADER_RULES,
             f"MOCK_NORCE_REDIRECT_HEADERS must be {' or '.join(REDIRECT_HEADER_RULES)}, "
             f"got {self.redirect_headers!r:.40}"),
            (0 <= self.query_rate_limit <= limits.QUERY_RATE_MAX,
             f"MOCK_NORCE_QUERY_RATE_LIMIT must be between 0 and {limits.QUERY_RATE_MAX:g} requests a second"),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)

        parse_clients(self.query_clients)  # a malformed MOCK_NORCE_QUERY_CLIENTS fails here, at start

    @property
    def query_client_secrets(self) -> dict[str, str] | None:
        """MOCK_NORCE_QUERY_CLIENTS as {client id: secret}; None when unset (any client is accepted)."""
        return parse_clients(self.query_clients)

    @property
    def database_path(self) -> str:
        return self.database or str(self.data_dir / "mock-norce.db")

    def world_path(self, database: str | None = None) -> str:
        """The world's own SQLite file beside the log's (data/mock-norce-world.db), so its
        writes never hold the delivery writer's lock; in memory when the log is."""
        log = database or self.database_path
        if log == ":memory:":
            return log
        return log[:-3] + "-world.db" if log.endswith(".db") else log + "-world"

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
            values[f.name] = _parse(f.metadata["env"], f.metadata.get("kind", f.type), raw)
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed."""
        return replace(self, **changes)


def _parse(name: str, annotation: str, raw: str):
    kind = annotation.replace(" | None", "")
    if kind == "duration":
        from mock_norce.durations import parse_duration
        from mock_norce.errors import BadDuration

        try:
            return parse_duration(raw)
        except BadDuration as exc:
            raise SettingsError(f"{name}: {exc}") from None
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


TOKEN_RATE_LIMITS = ("off", "norce")
# The values of the delivery settings (also per subscription): the names of delivery/policy.py's
# policies, the two Content-Types Norce's .NET platform may send, the redirect header rules.
POLICIES = ("current", "legacy")
CONTENT_TYPES = ("application/json", "application/json; charset=utf-8")
REDIRECT_HEADER_RULES = ("origin", "dotnet")


def parse_clients(raw: str | None) -> dict[str, str] | None:
    """``id:secret,id2:secret2`` -> {id: secret}. A secret may hold ``:`` (the first one splits),
    not ``,``; spaces around an entry are dropped. Unset or blank: None."""
    if raw is None or not raw.strip():
        return None
    clients: dict[str, str] = {}
    for n, entry in enumerate(raw.split(","), 1):
        entry = entry.strip()
        client_id, colon, secret = entry.partition(":")
        if not colon or not client_id or not secret:
            shown = f"{client_id}:..." if colon else (entry[:40] or "an empty entry")
            raise SettingsError(f"MOCK_NORCE_QUERY_CLIENTS: entry {n} ({shown}) is not id:secret; "
                                f"write id:secret,id2:secret2")
        if client_id in clients:
            raise SettingsError(f"MOCK_NORCE_QUERY_CLIENTS: client id {client_id!r:.40} is given twice")
        clients[client_id] = secret
    return clients


def documented_variables() -> list[tuple[str, str, str]]:
    """(variable, default, help) for every setting, for --help and the README table."""
    rows = []
    defaults = Settings()
    for f in fields(Settings):
        default = getattr(defaults, f.name)
        if isinstance(default, Path):
            if default.is_relative_to(PACKAGE_DIR):
                default = Path("mock_norce") / default.relative_to(PACKAGE_DIR)
            elif default.is_relative_to(Path.home()):
                default = Path("~") / default.relative_to(Path.home())
        rows.append((f.metadata["env"], "" if default is None else str(default), f.metadata["help"]))
    return rows
