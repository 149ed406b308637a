"""Engine set-up: durable SQLite settings and explicit write transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server.extensions import db
from server.sqlite_gate import GatedConnection, leave_gate, take_gate

# Alembic's script directory (the app's Flask-Migrate and the ops commands use it).
MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Connection.info key: whether the SQLite transaction in progress began with BEGIN IMMEDIATE.
WRITE_TRANSACTION = "lagesbild_write_transaction"


def is_sqlite() -> bool:
    """Tell whether the bound database is SQLite."""
    return db.engine.dialect.name == "sqlite"


@contextmanager
def phase(kind: str) -> Iterator[None]:
    """Run a block in its own transaction, "read" (deferred) or "write" (immediate).

    The transaction open before the block is committed first, and the block's own one is
    committed at the end, so reads before a write never hold SQLite's write lock, and a
    write never upgrades a read snapshot (which fails at once with "database is locked").
    """
    db.session.commit()
    previous = g.get("db_phase")
    g.db_phase = kind
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        g.db_phase = previous


def _begin_immediate() -> bool:
    """Decide whether the transaction about to start must take SQLite's write lock now.

    A deferred transaction that reads first and writes later cannot wait for the lock
    (SQLITE_BUSY_SNAPSHOT, reported as "database is locked"), so every transaction starts
    with BEGIN IMMEDIATE except in read-only requests and explicit read phases.
    """
    current = g.get("db_phase") if has_app_context() else None
    if current is not None:
        return current == "write"
    if not has_request_context():
        return True
    return request.method not in SAFE_METHODS


def configure_sqlite(app: Flask, engine: Engine) -> None:
    """Install durable pragmas and BEGIN IMMEDIATE handling on a SQLite engine."""
    busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if isinstance(dbapi_conn, GatedConnection):
            dbapi_conn.gate_timeout = busy_ms / 1000  # then on to SQLite's own timeout
        cur.execute("PRAGMA journal_mode = WAL")
        # FULL: an "accepted" answer lets the phone delete its copy, so a commit must
        # survive a power cut, not only a process crash.
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = _begin_immediate()
        conn.info[WRITE_TRANSACTION] = immediate  # for writers that must not be in a read one
        if immediate:
            # Queue for the write lock at the gate, not in SQLite's sleeping busy handler.
            dbapi_connection = conn.connection.dbapi_connection
            take_gate(dbapi_connection)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                leave_gate(dbapi_connection)
                raise
        else:
            conn.exec_driver_sql("BEGIN")


def init_engine(app: Flask) -> None:
    """Apply dialect-specific engine settings."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(app, engine)
