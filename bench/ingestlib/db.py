"""Database preparation with the real CLI, the throwaway PostgreSQL server and row counts."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.ingestlib.common import ROOT, BenchError, tool

if TYPE_CHECKING:
    from tests.support.pgserver import PostgresServer

SERVER_DB = "lb_bench"  # the PostgreSQL database the server uses


@dataclass
class Database:
    """A migrated database with one organisation and N devices (enrolment codes unused)."""

    kind: str  # sqlite | postgres
    url: str  # SQLAlchemy URL (DATABASE_URL)
    env: dict[str, str]
    org_id: int
    devices: list[dict[str, Any]]  # CLI output of `device enrol --json` (code, device_id, …)
    sqlite_path: Path | None = None
    pg_name: str | None = None


def server_env(url: str, data_dir: Path) -> dict[str, str]:
    """Return a clean environment for the CLI and gunicorn, bound to one database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LAGESBILD_", "FLASK_")) and k not in ("DATABASE_URL", "SECRET_KEY")
    }
    env.update(
        DATABASE_URL=url,
        LAGESBILD_DATA_DIR=str(data_dir),
        LAGESBILD_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
    )
    return env


def lagesbild(env: dict[str, str], *args: str) -> Any:
    """Run the `lagesbild` CLI; return its JSON output when --json was given."""
    cmd = [*tool("lagesbild", "server.cli"), *args]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise BenchError(f"{shlex.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout) if "--json" in args else None


def prepare_database(kind: str, url: str, data_dir: Path, n_devices: int, **extra: Any) -> Database:
    """Migrate, create one organisation and `n_devices` devices with the real CLI."""
    env = server_env(url, data_dir)
    lagesbild(env, "db", "upgrade")
    org = lagesbild(env, "org", "create", "Benchkommun", "--json")
    devices = [
        lagesbild(
            env, "device", "enrol", "--org", org["slug"], "--name", f"Bench {i + 1}", "--json"
        )
        for i in range(n_devices)
    ]
    return Database(kind, url, env, org["id"], devices, **extra)


def prepare_sqlite(path: Path, data_dir: Path, n_devices: int) -> Database:
    """Prepare a fresh SQLite database file at `path`."""
    return prepare_database("sqlite", f"sqlite:///{path}", data_dir, n_devices, sqlite_path=path)


@contextlib.contextmanager
def server_database(
    kind: str, tmp: Path, n_devices: int, facts: dict[str, str]
) -> Iterator[tuple[Database, PostgresServer | None]]:
    """Yield the fresh server database and, on PostgreSQL, the throwaway server (stopped after)."""
    pg = None
    try:
        if kind == "postgres":
            pg = start_postgres()
            pg.create_database(SERVER_DB)
            db = prepare_database(
                "postgres", pg.url(SERVER_DB), tmp / "data", n_devices, pg_name=SERVER_DB
            )
            facts["postgres"] = pg_version(pg) + " (throwaway: fsync=off, synchronous_commit=off)"
        else:
            db = prepare_sqlite(tmp / "lagesbild.sqlite3", tmp / "data", n_devices)
        yield db, pg
    finally:
        if pg is not None:
            pg.stop()


def sqlite_copy(src: Path, dst: Path) -> None:
    """Copy a SQLite database consistently (backup API), keeping WAL mode."""
    with (
        contextlib.closing(sqlite3.connect(src)) as s,
        contextlib.closing(sqlite3.connect(dst)) as d,
    ):
        s.backup(d)
        d.execute("PRAGMA journal_mode = WAL")


def count_reports(db: Database, pg: PostgresServer | None) -> int:
    """Return the number of rows in the reports table."""
    if db.kind == "sqlite":
        assert db.sqlite_path is not None
        with contextlib.closing(sqlite3.connect(db.sqlite_path)) as conn:
            return int(conn.execute("SELECT count(*) FROM reports").fetchone()[0])
    import psycopg

    assert pg is not None
    with psycopg.connect(pg.dsn(db.pg_name)) as conn:
        return int(conn.execute("SELECT count(*) FROM reports").fetchone()[0])


def start_postgres() -> PostgresServer:
    """Start the throwaway PostgreSQL server of the test suite."""
    from tests.support.pgserver import PostgresServer, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise BenchError("no initdb/pg_ctl found (set LAGESBILD_PG_BIN)")
    return PostgresServer(bin_dir).start()


def pg_version(pg: PostgresServer) -> str:
    """Return the server's version string."""
    import psycopg

    with psycopg.connect(pg.dsn()) as conn:
        return "PostgreSQL " + str(conn.execute("SHOW server_version").fetchone()[0])


def pg_table_stats(pg: PostgresServer, db: Database) -> str:
    """Describe how the reports table was scanned (exposes cached generic plans)."""
    import psycopg

    query = (
        "SELECT seq_scan, seq_tup_read, idx_scan, n_live_tup, last_autoanalyze, last_analyze "
        "FROM pg_stat_user_tables WHERE relname = 'reports'"
    )
    time.sleep(0.6)  # statistics are flushed by backends at most every 0.5 s (PG 15)
    with psycopg.connect(pg.dsn(db.pg_name)) as conn:
        row = conn.execute(query).fetchone()
    if row is None:
        return ""
    seq, seq_read, idx, live, auto, manual = row
    analyzed = auto or manual
    return (
        f"{seq} seq scans reading {seq_read:,} rows, {idx} index scans, {live} live rows, "
        f"analyzed: {analyzed.isoformat(timespec='seconds') if analyzed else 'never'}"
    )
