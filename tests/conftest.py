"""Shared fixtures: an app per test on a fresh database (SQLite and PostgreSQL lanes)."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade

from server.app import create_app
from server.extensions import db
from tests.support import factories
from tests.support.pgserver import PostgresServer, find_pg_bin

BACKENDS = ("sqlite", "postgres")
_db_numbers = itertools.count(1)


def _base_config(url: str, data_dir: Path) -> dict[str, object]:
    """Return the test configuration for one database."""
    return {
        "TESTING": True,
        "LAGESBILD_ENV": "testing",
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "DATA_DIR": str(data_dir),
    }


def _migrate(url: str, data_dir: Path) -> None:
    """Build a database from the migrations, as production does."""
    app = create_app(_base_config(url, data_dir))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL server for the whole session."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries are missing; the Postgres lane must run in CI.")
        pytest.skip("SKIPPING THE POSTGRES LANE: no initdb/pg_ctl under /usr/lib/postgresql/*/bin")
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Create the migrated template database once."""
    pg_server.create_database("lb_template")
    _migrate(pg_server.url("lb_template"), tmp_path_factory.mktemp("pgtemplate-data"))
    return "lb_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Create the migrated template SQLite file once."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    _migrate(f"sqlite:///{path}", folder / "data")
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a fresh, migrated database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    template_name: str = request.getfixturevalue("pg_template")
    name = f"lb_test_{os.getpid()}_{next(_db_numbers)}"
    server.create_database(name, template=template_name)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Yield an app bound to a fresh database, inside an app context."""
    application = create_app(_base_config(database_url, tmp_path / "data"))

    @application.teardown_request
    def _end_transaction(_exc: BaseException | None) -> None:
        # The test holds one app context open, so requests share its session; end each
        # request's transaction as a real request's own context would (no stale locks).
        db.session.rollback()

    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Return a CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def org(app: Flask):
    """Create an organisation."""
    return factories.make_org()


@pytest.fixture
def device(org) -> factories.EnrolledDevice:
    """Create an enrolled device in `org`."""
    return factories.make_device(org)
