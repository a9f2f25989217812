"""The one place where mock-norce is wired: every part is built here, from the settings.

    settings -> factory (catalogue: schemas + tenant) -> outbox (delivery: subscriptions,
    store, sender, dispatcher) -> world (the entities behind the ids, and the Query API
    over them) -> library (scenarios) -> runs, schedules, advancer (playback)
    -> sink, auth (world: Norce's identity server) -> Flask app (web: api, ui, sink,
    identity, Norce's Query API)

Nothing else constructs parts of another package: the packages define the parts, this
module puts them together (and tests build the same parts through the same functions).
One process serves the app: a second process on the same database would run a second
dispatcher and deliver every event twice, so ``serve`` runs one waitress process with
threads, never several workers.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mock_norce.catalogue.payloads import EventFactory
from mock_norce.catalogue.schemas import Catalog
from mock_norce.catalogue.tenant import load_tenant
from mock_norce.conformance.reports import Reports
from mock_norce.conformance.runner import Battery
from mock_norce.delivery.dispatcher import Dispatcher
from mock_norce.delivery.http_client import Sender
from mock_norce.delivery.outbox import USER_AGENT, Outbox
from mock_norce.delivery.subscriptions import Sending, Subscriptions
from mock_norce.errors import SettingsError
from mock_norce.health import Health
from mock_norce.playback.advance import Advancer
from mock_norce.playback.runs import RunManager
from mock_norce.playback.schedule_config import load_config, load_config_schedules
from mock_norce.playback.schedules import ScheduleService
from mock_norce.scenarios.library import Library
from mock_norce.settings import Settings
from mock_norce.storage.database import Database
from mock_norce.storage.deliveries import DeliveryLog
from mock_norce.storage.enginelock import EngineLock
from mock_norce.storage.runs import RunTable
from mock_norce.storage.schedules import ScheduleTable
from mock_norce.web.sink_log import Sink
from mock_norce.world.model import load_model
from mock_norce.world.query import QueryService
from mock_norce.world.tokens import NorceAuth, TokenIssuer
from mock_norce.world.world import World


@dataclass
class Core:
    """Every moving part, built from the settings; the web layer only calls into it."""

    settings: Settings
    factory: EventFactory
    outbox: Outbox
    library: Library
    runs: RunManager
    schedules: ScheduleService
    sink: Sink
    lock: EngineLock
    world: World
    query: QueryService
    advancer: Advancer
    health: Health = field(default_factory=Health)
    ready: threading.Event = field(default_factory=threading.Event)
    warnings: list[str] = field(default_factory=list)
    auth: NorceAuth = field(default_factory=lambda: NorceAuth(TokenIssuer()))  # Norce's identity server
    config_schedules: list = field(default_factory=list)  # the config file's schedules, as applied at start
    battery: Battery | None = None  # the conformance battery (POST /api/conformance, the UI's page)
    reports: Reports = field(default_factory=Reports)  # its last reports
    _resetting: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)  # one reset at a time

    def start(self) -> None:
        """Take the database's engine lock, then start delivering, playing and scheduling."""
        self.lock.acquire()
        self.world.prepare()
        # What start-up made (schemas, tenant tables, name tables, the model) lives as long as the
        # process: out of the collector's sight, so its full collections, which the world's rows
        # make more frequent, do not walk it while attempts are due (pauses of 50-100 ms).
        gc.freeze()
        self.outbox.start()
        self.runs.start()
        self.schedules.start()
        if self.settings.config_file is not None:
            self.config_schedules = load_config_schedules(self.schedules, self.settings.config_file)
        # The subscriptions as the environment, the config file and `serve` (the built-in
        # sink as the default URL) left them: what a reset goes back to.
        self.outbox.subscriptions.mark_boot()
        self.ready.set()

    def reset(self) -> dict[str, int]:
        """Everything back to the boot state in one call (``POST /api/reset``, as WireMock's
        /__admin/reset); how many deliveries, runs, schedules, sink requests and conformance
        reports went.

        The order matters: first what generates events (schedules, then the runs they may
        start), so that no event is written after the log is cleared; then the log (and the
        world with it, by the outbox's clear listeners); then the attempts already on the wire
        are let finish (their results are dropped), so nothing sent before the reset reaches
        the built-in sink after its clear; last the boot configuration comes back. The
        process-wide totals (/api/stats figures, /metrics counters) are not reset: counters
        must not go back.
        """
        with self._resetting:
            schedules = self.schedules.reset()
            runs = self.runs.reset()
            deliveries = self.outbox.clear()
            self.outbox.dispatcher.settle(self.settings.timeout + 1.0)
            sink = self.sink.clear()
            conformance = self.reports.clear()
            self.outbox.subscriptions.reset()
            if self.config_schedules:
                load_config(self.schedules, self.config_schedules)
        return {"deliveries": deliveries, "runs": runs, "schedules": schedules, "sink": sink,
                "conformance": conformance}

    def stop(self) -> None:
        """Stop generating first, then let attempts in flight finish, then close the database."""
        self.ready.clear()
        self.schedules.stop()
        self.runs.stop()
        self.outbox.stop()
        self.world.database.close()
        self.lock.release()

    def problems(self) -> dict[str, str]:
        """Every part of the engine that is down, with the reason: empty when delivering."""
        if not self.ready.is_set():
            return {}
        down = self.health.down()
        for part, alive in self.outbox.dispatcher.alive().items():
            if not alive:
                down.setdefault(part, f"the {part} thread has stopped")
        if not self.runs.alive():
            down.setdefault("runs", "the runs thread has stopped")
        if not self.schedules.aps.running:
            down.setdefault("scheduler", "the scheduler has stopped")
        return down


def build_factory(settings: Settings) -> EventFactory:
    """The catalogue (built-in + custom schemas) and the tenant named by the settings."""
    catalog = Catalog(settings.fixtures_dir / "schemas", user_dir("MOCK_NORCE_SCHEMAS_DIR", settings.schemas_dir))
    return EventFactory(catalog, load_tenant(settings.tenant_path))


def user_dir(variable: str, path: Path | None) -> Path | None:
    """A directory of the user's (schemas, scenarios), which must exist when it is named.

    A missing one is a SettingsError, not a warning: a volume mounted at the wrong path would
    otherwise start a server without the user's types or scenarios, and the warning scrolls
    past in a container's log while the tests fail later for an unclear reason.
    """
    if path is not None and not path.is_dir():
        why = "is not a directory" if path.exists() else "does not exist"
        raise SettingsError(f"{variable} {path} {why}: create or mount it there, or unset the variable")
    return path


def scenario_dirs(settings: Settings) -> list[Path]:
    """The built-in scenario directory, then the user's (MOCK_NORCE_SCENARIOS_DIR), which must exist."""
    own = user_dir("MOCK_NORCE_SCENARIOS_DIR", settings.scenarios_dir)
    return [settings.builtin_scenarios_dir] + ([own] if own is not None else [])


def build_library(settings: Settings, catalog: Catalog) -> Library:
    """The built-in scenarios, then the user's (MOCK_NORCE_SCENARIOS_DIR)."""
    return Library(catalog, settings.fixtures_dir, scenario_dirs(settings))


def build_outbox(settings: Settings, *, database: str | None = None, clock: Callable[[], float] = time.time,
                 factory: EventFactory | None = None, health: Health | None = None) -> Outbox:
    """Everything delivery needs (not started): subscriptions, the store, the sender, the dispatcher."""
    factory = factory or build_factory(settings)
    health = health or Health()
    subs = build_subscriptions(settings, factory)
    store = DeliveryLog(Database(database or settings.database_path,
                                 on_failure=lambda message: health.report("storage", f"storage unavailable: {message}"),
                                 on_recovery=lambda: health.clear("storage")))
    sender = build_sender(settings)
    dispatcher = Dispatcher(store, sender, clock=clock, per_origin=settings.concurrency,
                            retention_max=settings.retention_max or None,
                            retention_age=settings.retention_age, health=health)
    return Outbox(factory, subs, store, dispatcher, time_scale=settings.time_scale, clock=clock)


def build_world(settings: Settings, outbox: Outbox, *, database: str | None = None, health: Health | None = None,
                clock: Callable[[], float] = time.time) -> tuple[World, QueryService]:
    """The entities behind the ids, in their own SQLite file beside the log; they follow every
    event the outbox records (written just before it), are cleared with the log and pruned
    with it; and the Query API that reads them."""
    model = load_model(settings.fixtures_dir / "query-model.yaml")
    health = health or Health()
    # 8 MB of page cache: a new order writes into a dozen tables and indexes at random keys.
    store = Database(settings.world_path(database),
                     on_failure=lambda message: health.report("storage", f"storage unavailable: {message}"),
                     on_recovery=lambda: health.clear("storage"), log_tables=False, cache_kib=8192)
    world = World(model, outbox.factory.tenant, store, clock)
    if settings.world:
        outbox.recorders.append(world.record)
    outbox.clear_listeners.append(world.clear)

    def follow_retention() -> None:
        oldest = outbox.store.oldest_created()
        if oldest is not None:
            world.prune(oldest)
    outbox.dispatcher.recorder.pruned.append(follow_retention)
    return world, QueryService(model, store.reader)


def build_runs(outbox: Outbox, library: Library, clock: Callable[[], float] = time.time) -> RunManager:
    """Scenario runs over the outbox, their rows in the same database."""
    return RunManager(outbox, library, RunTable(outbox.store.database), clock=clock)


def build_schedules(settings: Settings, outbox: Outbox, library: Library, runs: RunManager, *,
                    clock: Callable[[], float] = time.time, scheduler=None) -> ScheduleService:
    """Schedules over the outbox and the runs (APScheduler's, or the `scheduler` given)."""
    return ScheduleService(outbox, library, runs, ScheduleTable(outbox.store.database), clock=clock,
                           misfire_grace=settings.misfire_grace, max_backlog=settings.max_backlog,
                           scheduler=scheduler)


def build_auth(settings: Settings, clock: Callable[[], float] = time.time) -> NorceAuth:
    """Norce's identity server and the door of its read APIs, as the MOCK_NORCE_QUERY_* settings say."""
    tokens = TokenIssuer(clock=clock, lifetime=settings.query_token_lifetime,
                         clients=settings.query_client_secrets, token_rate_limit=settings.query_token_rate_limit)
    return NorceAuth(tokens, enabled=settings.query_auth, query_rate=settings.query_rate_limit, clock=clock)


def build_sender(settings: Settings) -> Sender:
    """A Sender as the settings say: Norce's deadline, redirect rules and static headers."""
    return Sender(USER_AGENT, timeout=settings.timeout, max_redirects=settings.max_redirects,
                  body_cap=settings.response_body_cap, keep_post_on_redirect=settings.redirect_keep_post,
                  allow_link_local=settings.allow_link_local)


def build_battery(settings: Settings, factory: EventFactory) -> Battery:
    """The conformance battery over its own Sender (the same code as deliveries, its own connections)."""
    sender = build_sender(settings)
    return Battery(sender.post, factory, budget=settings.timeout, parallel=settings.concurrency,
                   burst=settings.concurrency, user_agent=USER_AGENT, allow_link_local=settings.allow_link_local,
                   idle=sender.close, content_type=settings.content_type, redirect_headers=settings.redirect_headers,
                   policy=settings.policy)


def build_subscriptions(settings: Settings, factory: EventFactory) -> Subscriptions:
    """The subscriptions as the environment and the config file set them."""
    types = factory.catalog.names()
    subs = Subscriptions(types, settings.subscriber_url, settings.allow_link_local,
                         Sending(settings.policy, settings.content_type, settings.redirect_headers),
                         {t: (factory.catalog.get(t).fields, factory.catalog.get(t).required) for t in types})
    if settings.config_file is not None:
        subs.load(settings.config_file)
        if settings.subscriber_url:  # the environment wins over the file
            subs.set_default_url(settings.subscriber_url)
    return subs


def build_core(settings: Settings, database: str | None = None) -> Core:
    """Build (but do not start) every part from the settings."""
    factory = build_factory(settings)
    library = build_library(settings, factory.catalog)  # before the databases: a bad setting touches no disk
    health = Health()
    outbox = build_outbox(settings, database=database, factory=factory, health=health)
    world, query = build_world(settings, outbox, database=database, health=health)
    runs = build_runs(outbox, library)
    schedules = build_schedules(settings, outbox, library, runs)
    warnings = [f"skipped custom schema: {p}" for p in factory.catalog.problems]
    warnings += [f"skipped scenario: {p}" for p in library.problems]
    return Core(settings, factory, outbox, library, runs, schedules, Sink(settings.sink_keep),
                EngineLock(database or settings.database_path), world, query, Advancer(world, factory, outbox),
                health=health, warnings=warnings, auth=build_auth(settings), battery=build_battery(settings, factory))


def create_app(settings: Settings | None = None, core: Core | None = None):
    """The Flask app (API, UI, sink) over a core, built from the settings if not given; not
    started. The web layer (Flask) is imported only here, when an app is built."""
    from mock_norce.web.application import create_app as web_app

    settings = settings or (core.settings if core else Settings.from_env())
    return web_app(settings, core or build_core(settings))
