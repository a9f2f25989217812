"""Fixtures: the model, the small world (world.py) in a session-wide temporary SQLite file,
a QueryService over it, and ``q`` to query it as a URL would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mock_norce.world.model import Model, load_model
from mock_norce.world.query import QueryService
from mock_norce.world.tables import create_tables

from tests.world.world import MODEL_FILE, fill, reader_for


@pytest.fixture(scope="session")
def model() -> Model:
    return load_model(MODEL_FILE)


@pytest.fixture(scope="session")
def world_db(tmp_path_factory, model) -> Path:
    """Read-only for every test, so built once."""
    path = tmp_path_factory.mktemp("world") / "world.db"
    conn = sqlite3.connect(path)
    create_tables(conn, model)
    fill(conn, model)
    conn.close()
    return path


@pytest.fixture
def service(model, world_db) -> QueryService:
    return QueryService(model, reader_for(world_db))


@pytest.fixture
def q(service):
    """q("Orders", "$filter=...") -> the body of GET .../2.0/Orders/Orders?$filter=..."""
    def run(resource: str, query: str = "", *, version: str = "2.0", namespace: str = "Orders"):
        from urllib.parse import parse_qsl
        args = dict(parse_qsl(query, keep_blank_values=True))
        base = f"http://test/commerce/query/{version}/{namespace}"
        return service.handle(version, namespace, resource, args, base)
    return run
