"""Schedules from the config file (MOCK_NORCE_CONFIG): its ``schedules:`` list, kept by name.

A schedule of the file is identified by its name across restarts: one unchanged is kept as
it is (with its counts), one changed is replaced, one new is created. ``POST /api/reset``
deletes every schedule and applies the list read at start again (``load_config``), so the
file's schedules come back afresh, with zero counts, as on a first start.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from mock_norce.errors import MockNorceError, ScheduleError
from mock_norce.playback.crontab import crontab
from mock_norce.playback.schedule_spec import parse_spec


def load_config_schedules(service, path) -> list:
    """Apply the ``schedules:`` list of the config file (MOCK_NORCE_CONFIG), if it has one;
    returns the list applied (empty without one), which ``load_config`` can apply again."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScheduleError(f"cannot read schedules from {path}: {exc}") from None
    if not isinstance(data, dict) or not data.get("schedules"):
        return []
    try:
        load_config(service, data["schedules"])
    except MockNorceError as exc:
        raise ScheduleError(f"config {path}: {exc.message}") from None
    return data["schedules"]


def load_config(service, specs: list) -> None:
    """Schedules from the config file, by name: kept if unchanged, replaced if changed."""
    if not isinstance(specs, list):
        raise ScheduleError("config 'schedules' must be a list")
    for i, data in enumerate(specs):
        if not isinstance(data, dict) or not data.get("name"):
            raise ScheduleError(f"config schedules[{i}] needs a name (it identifies it across restarts)")
        spec = parse_spec(data, service.outbox.factory, service.library, crontab)
        existing = next((r for r in service.list() if r["name"] == data["name"]), None)
        if existing is not None:
            if existing["spec"] == spec:
                continue
            service.delete(existing["id"])
        service.create(data)
