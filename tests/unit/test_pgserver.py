"""Check that the throwaway PostgreSQL server used by the Postgres test lane really works."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.pgserver import PostgresServer, PostgresUnavailable, find_pg_bin


def _pg_bin() -> Path:
    """Return the PostgreSQL bin dir; skip loudly locally, fail in CI when it is missing."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        reason = (
            "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin,"
            " on PATH or in LAGESBILD_PG_BIN"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason} -- the Postgres lane must never be skipped in CI")
        pytest.skip(f"SKIPPING THE POSTGRES LANE: {reason}")
    return bin_dir


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """Start one server for this module and stop it afterwards."""
    srv = PostgresServer(_pg_bin())
    srv.start()
    yield srv
    srv.stop()


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_url_and_dsn(server: PostgresServer) -> None:
    assert server.url("app") == f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/app"
    with psycopg.connect(server.dsn()) as conn:
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
        assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)


def test_create_use_template_and_drop(server: PostgresServer) -> None:
    server.create_database("pgserver_src")
    with psycopg.connect(server.dsn("pgserver_src")) as conn:
        conn.execute("CREATE TABLE report (id serial PRIMARY KEY, title text NOT NULL)")
        conn.execute("INSERT INTO report (title) VALUES (%s)", ("Lägesbild",))
    with psycopg.connect(server.dsn("pgserver_src")) as conn:
        assert conn.execute("SELECT title FROM report").fetchall() == [("Lägesbild",)]

    server.create_database("pgserver_copy", template="pgserver_src")
    with psycopg.connect(server.dsn("pgserver_copy")) as conn:
        assert conn.execute("SELECT title FROM report").fetchall() == [("Lägesbild",)]
        conn.commit()
        # WITH (FORCE) must kick out this still-open session.
        server.drop_database("pgserver_copy")
    server.drop_database("pgserver_copy")  # IF EXISTS: dropping twice is fine
    with pytest.raises(PostgresUnavailable, match="pgserver_copy"):
        server.create_database("pgserver_again", template="pgserver_copy")
    server.drop_database("pgserver_src")


@pytest.mark.parametrize("name", ["Bad", "1db", "x;drop", "a" * 64, ""])
def test_rejects_bad_names(server: PostgresServer, name: str) -> None:
    with pytest.raises(ValueError, match="invalid database name"):
        server.create_database(name)
    with pytest.raises(ValueError, match="invalid database name"):
        server.drop_database(name)


def test_stop_closes_port_and_removes_dir() -> None:
    with PostgresServer(_pg_bin()) as srv:
        port, data = srv.port, srv.dir
        assert port is not None and data is not None
        assert _accepts(port)
    assert not _accepts(port)
    assert not data.exists()
    assert srv.port is None and srv.dir is None
    srv.stop()  # idempotent


def test_start_failure_raises_and_cleans_up() -> None:
    # Not tmp_path: /tmp/pytest-of-root is 0700, so the postgres user could not reach it.
    root = Path(tempfile.mkdtemp(prefix="lagesbild-fakepg-"))
    try:
        root.chmod(0o755)
        bogus, base = root / "bin", root / "base"
        bogus.mkdir()
        base.mkdir()
        for tool in ("initdb", "pg_ctl"):
            (bogus / tool).write_text("#!/bin/sh\necho 'boom from fake tool' >&2\nexit 1\n")
            (bogus / tool).chmod(0o755)
        srv = PostgresServer(bogus, base_dir=base)
        with pytest.raises(PostgresUnavailable, match="boom from fake tool"):
            srv.start()
        assert srv.dir is None
        assert list(base.iterdir()) == []
        srv.stop()  # stopping a server that never started is a no-op
    finally:
        shutil.rmtree(root)
