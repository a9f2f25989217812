"""The one place where mock-norce is wired: ``build_core`` makes the parts, ``create_app`` puts
a Flask app on top of them.

    settings -> factory (catalogue + tenant) -> outbox (subscriptions, store, sender,
    dispatcher) -> library (scenarios) -> runs -> schedules -> sink -> Flask app (api, ui)

One process serves the app: a second process on the same database would run a second
dispatcher and deliver every event twice, so ``serve`` runs one waitress process with
threads, never several workers.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from flask import Flask

from .enginelock import EngineLock
from .events import EventFactory, factory_from_settings
from .health import Health
from .outbox import Outbox
from .runs import RunManager
from .scenarios import Library, library_from_settings
from .scheduler import ScheduleService, load_config_schedules
from .settings import Settings
from .sink import Sink


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
    health: Health = field(default_factory=Health)
    ready: threading.Event = field(default_factory=threading.Event)
    warnings: list[str] = field(default_factory=list)

    def start(self) -> None:
        """Take the database's engine lock, then start delivering, playing and scheduling."""
        self.lock.acquire()
        self.outbox.start()
        self.runs.start()
        self.schedules.start()
        if self.settings.config_file is not None:
            load_config_schedules(self.schedules, self.settings.config_file)
        self.ready.set()

    def stop(self) -> None:
        """Stop generating first, then let attempts in flight finish, then close the database."""
        self.ready.clear()
        self.schedules.stop()
        self.runs.stop()
        self.outbox.stop()
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


def build_core(settings: Settings, database: str | None = None) -> Core:
    """Build (but do not start) every part from the settings."""
    factory = factory_from_settings(settings)
    health = Health()
    outbox = Outbox.from_settings(settings, database=database, factory=factory, health=health)
    library = library_from_settings(settings, factory.catalog)
    runs = RunManager(outbox, library)
    schedules = ScheduleService(outbox, library, runs, misfire_grace=settings.misfire_grace, max_backlog=settings.max_backlog)
    warnings = [f"skipped custom schema: {p}" for p in factory.catalog.problems]
    warnings += [f"skipped scenario: {p}" for p in library.problems]
    return Core(settings, factory, outbox, library, runs, schedules, Sink(settings.sink_keep),
                EngineLock(database or settings.database_path), health=health, warnings=warnings)


def create_app(settings: Settings | None = None, core: Core | None = None) -> Flask:
    """The Flask app over a core (built from the settings if not given; not started here)."""
    from . import api, ui, websecurity

    settings = settings or (core.settings if core else Settings.from_env())
    core = core or build_core(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=settings.max_body,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False
    app.extensions["mock_norce"] = core
    websecurity.install(app, settings.api_token)
    app.register_blueprint(api.bp)
    app.register_blueprint(ui.bp)
    return app


def core_of(app: Flask) -> Core:
    return app.extensions["mock_norce"]
