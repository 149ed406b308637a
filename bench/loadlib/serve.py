"""The server under load: a database (throwaway PostgreSQL or a given URL), then gunicorn.

Reuses the ingest benchmark's helpers: its throwaway PostgreSQL, its CLI runner and its
gunicorn (deploy/gunicorn.conf.py). The worker count is left to the deploy configuration
(one per core), as production runs it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.ingestlib.db import (
    SERVER_DB,
    Database,
    lagesbild,
    pg_version,
    server_env,
    start_postgres,
)
from bench.ingestlib.machine import cpu_times, tree_cpu
from bench.ingestlib.server import Gunicorn
from bench.loadlib.provision import Provisioned, provision
from bench.loadlib.rss import children

if TYPE_CHECKING:
    from tests.support.pgserver import PostgresServer

# Lines of gunicorn's error log that mean the server misbehaved under load.
BAD_LOG_MARKERS = ("Traceback", "WORKER TIMEOUT", "Internal Server Error", "database is locked")


@dataclass
class Serving:
    """A running server with its enrolled devices."""

    url: str
    database_url: str
    data_dir: Path
    gunicorn: Gunicorn
    setup: Provisioned
    pg: PostgresServer | None
    facts: dict[str, str]

    def workers(self) -> list[int]:
        """Return the pids of gunicorn's workers right now."""
        return children(self.gunicorn.pid)

    def server_cpu(self) -> dict[str, float]:
        """Return CPU-seconds used so far: gunicorn's tree, PostgreSQL's, this load process,
        and every core of the machine (busy), to show what else shared it."""
        used = {"gunicorn": tree_cpu(self.gunicorn.pid)}
        if self.pg is not None:
            postmaster = int((self.pg.data_dir / "postmaster.pid").read_text().split()[0])
            used["postgres"] = tree_cpu(postmaster)
        times = os.times()
        used["load clients"] = times.user + times.system
        busy, _total = cpu_times()
        used["machine (all processes)"] = busy / os.sysconf("SC_CLK_TCK")
        return used

    def log_problems(self) -> list[str]:
        """Return the lines of gunicorn's log that show a crash, a timeout or a 500."""
        return [
            line
            for line in self.gunicorn.log_text().splitlines()
            if any(marker in line for marker in BAD_LOG_MARKERS)
        ]


@contextlib.contextmanager
def serving(
    tmp: Path,
    devices: int,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Serving]:
    """Migrate a database, enrol `devices` devices and a coordinator, start gunicorn."""
    pg = None
    facts: dict[str, str] = {}
    try:
        if database_url is None:
            pg = start_postgres()
            pg.create_database(SERVER_DB)
            database_url = pg.url(SERVER_DB)
            facts["database"] = pg_version(pg) + " (throwaway: fsync=off, synchronous_commit=off)"
        else:
            facts["database"] = database_url.split("://", 1)[0]
        data_dir = tmp / "data"
        env = server_env(database_url, data_dir)
        lagesbild(env, "db", "upgrade")
        setup = provision(env, devices)
        db = Database("postgres" if pg else "given", database_url, env, setup.org_id, [])
        gun = Gunicorn(db, 0, tmp / "gunicorn.log")
        gun.env.pop("LAGESBILD_WORKERS")  # deploy/gunicorn.conf.py decides: one per core
        gun.env.update(extra_env or {})
        gun.start()
        try:
            serving_ = Serving(
                f"http://127.0.0.1:{gun.port}", database_url, data_dir, gun, setup, pg, facts
            )
            facts["gunicorn workers"] = f"{len(serving_.workers())} (deploy/gunicorn.conf.py)"
            yield serving_
        finally:
            gun.stop()
    finally:
        if pg is not None:
            pg.stop()
