"""The app's SQLite connections queue at the write gate for writes, never for reads."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from server.db import phase
from server.extensions import db
from tests.support.gate import gate_is_free


@pytest.fixture
def database(app) -> str:
    """Return the test database's file; skip on PostgreSQL, which has no gate."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the write gate is SQLite's")
    return db.engine.dialect.create_connect_args(db.engine.url)[0][0]


def test_a_write_phase_holds_the_gate_until_it_commits(database):
    with phase("write"):
        db.session.execute(text("SELECT 1"))
        assert not gate_is_free(database)
    assert gate_is_free(database)


def test_a_read_phase_never_takes_the_gate(database):
    with phase("read"):
        db.session.execute(text("SELECT 1"))
        assert gate_is_free(database)


def test_a_write_that_fails_lets_go_of_the_gate(database):
    with pytest.raises(ZeroDivisionError), phase("write"):
        db.session.execute(text("SELECT 1"))
        raise ZeroDivisionError  # any failure inside the transaction: rolled back
    assert gate_is_free(database)


def _short_busy_timeout(dbapi_conn, _record) -> None:
    dbapi_conn.execute("PRAGMA busy_timeout = 100")
    dbapi_conn.gate_timeout = 0.1


def test_a_begin_that_fails_lets_go_of_the_gate(database):
    db.session.remove()
    db.engine.dispose()  # new connections, with a short busy timeout after the app's
    event.listen(db.engine, "connect", _short_busy_timeout)
    other = sqlite3.connect(database, isolation_level=None)  # outside the gate
    other.execute("BEGIN IMMEDIATE")  # SQLite's own write lock, held
    try:
        with pytest.raises(OperationalError, match="locked"), phase("write"):
            db.session.execute(text("SELECT 1"))
        assert gate_is_free(database)
    finally:
        event.remove(db.engine, "connect", _short_busy_timeout)
        other.rollback()
        other.close()
    with phase("write"):  # and the next writer gets in
        db.session.execute(text("SELECT 1"))
