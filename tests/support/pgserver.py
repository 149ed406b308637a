"""Start a throwaway PostgreSQL server for the test suite (initdb + pg_ctl, no Docker)."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PG_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """Signal that the throwaway PostgreSQL server could not be started or used."""


def _has_tools(path: Path) -> bool:
    return (path / "initdb").is_file() and (path / "pg_ctl").is_file()


def find_pg_bin() -> Path | None:
    """Return the directory holding initdb and pg_ctl, preferring the newest version."""
    override = os.environ.get("LAGESBILD_PG_BIN")
    if override:  # An explicit setting wins; if it is wrong we do not silently use other binaries.
        return Path(override) if _has_tools(Path(override)) else None
    versions: list[tuple[tuple[int, ...], Path]] = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin"):
        parts = candidate.parent.name.split(".")
        if all(p.isdigit() for p in parts) and _has_tools(candidate):
            versions.append((tuple(int(p) for p in parts), candidate))
    if versions:
        return max(versions)[1]
    on_path = shutil.which("pg_ctl")
    found = Path(on_path).resolve().parent if on_path else None
    return found if found and _has_tools(found) else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _check_name(name: str) -> str:
    if not _DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r} (must match {_DB_NAME.pattern})")
    return name


class PostgresServer:
    """Run a private PostgreSQL cluster in a temp dir on a free 127.0.0.1 port."""

    def __init__(self, bin_dir: Path, base_dir: Path | None = None) -> None:
        self.bin_dir = Path(bin_dir)
        self.base_dir = Path(base_dir) if base_dir is not None else Path("/tmp")
        self.dir: Path | None = None
        self.port: int | None = None
        self._as_root = os.geteuid() == 0

    @property
    def data_dir(self) -> Path:
        """Return the cluster's data directory."""
        assert self.dir is not None, "server not started"
        return self.dir / "data"

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / tool), *args]
        if self._as_root:  # initdb refuses to run as root; drop to the postgres system user.
            cmd = ["runuser", "-u", _PG_USER, "--", *cmd]
        return subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, timeout=120)

    def _log_tail(self, lines: int = 40) -> str:
        log = Path(self.dir or "/nonexistent", "log")
        tail = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
        return "\n".join(["--- server log tail ---", *tail]) if tail else "(no server log)"

    def start(self) -> PostgresServer:
        """Create a fresh cluster, start it and wait until it accepts connections."""
        if self.dir is not None:
            raise PostgresUnavailable("server already started")
        # Default /tmp: as root, the postgres user must be able to traverse base_dir's parents.
        self.dir = Path(tempfile.mkdtemp(prefix="lagesbild-pg-", dir=self.base_dir))
        atexit.register(self.stop)
        try:
            if self._as_root:
                shutil.chown(self.dir, user=_PG_USER, group=_PG_USER)
            self._initdb()
            self._pg_ctl_start()
            self._wait_ready()
        except Exception as exc:
            message = f"could not start PostgreSQL from {self.bin_dir}: {exc}\n{self._log_tail()}"
            self.stop()
            raise PostgresUnavailable(message) from exc
        return self

    def _initdb(self) -> None:
        # --no-sync: nothing in this throwaway cluster has to survive a machine crash.
        args = ["-D", str(self.data_dir), "-U", _PG_USER, "-A", "trust", "-E", "UTF8", "--no-sync"]
        errors = []
        for locale in ("C.UTF-8", "C"):
            result = self._run("initdb", *args, f"--locale={locale}")
            if result.returncode == 0:
                return
            errors.append(result.stdout + result.stderr)
            shutil.rmtree(self.data_dir, ignore_errors=True)
        raise PostgresUnavailable("initdb failed:\n" + "\n".join(errors))

    def _pg_ctl_start(self) -> None:
        for _attempt in range(3):  # someone may grab the free port before postgres binds it
            self.port = _free_port()
            # fsync/synchronous_commit/full_page_writes off: NOT crash safe, which is fine for
            # a throwaway test server whose data is deleted afterwards, and much faster.
            options = (
                f"-p {self.port} -k {shlex.quote(str(self.dir))} -c listen_addresses=127.0.0.1"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                " -c max_connections=200"
            )
            log = str(self.dir / "log")
            result = self._run(
                "pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", log, "-w", "start"
            )
            if result.returncode == 0:
                return
            if "Address already in use" not in self._log_tail(10):
                break
        raise PostgresUnavailable(f"pg_ctl start failed: {result.stdout}{result.stderr}")

    def _wait_ready(self) -> None:
        for _attempt in range(150):  # pg_ctl -w already waited; double-check TCP for up to ~30 s
            with contextlib.suppress(psycopg.OperationalError):
                psycopg.connect(self.dsn(), connect_timeout=2).close()
                return
            time.sleep(0.2)
        raise PostgresUnavailable(f"server on port {self.port} does not accept connections")

    def stop(self) -> None:
        """Stop the server immediately and delete its directory; safe to call repeatedly."""
        atexit.unregister(self.stop)
        if self.dir is None:
            return
        pid_file = self.data_dir / "postmaster.pid"
        with contextlib.suppress(OSError, subprocess.SubprocessError):  # fails if never started
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        if pid_file.exists():  # pg_ctl could not stop it: signal the postmaster ourselves.
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir, self.port = None, None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _live_port(self) -> int:
        if self.port is None or self.dir is None:
            raise PostgresUnavailable("server not started")
        return self.port

    def url(self, dbname: str = "postgres") -> str:
        """Return a SQLAlchemy URL for dbname using the psycopg 3 driver."""
        return f"postgresql+psycopg://{_PG_USER}@127.0.0.1:{self._live_port()}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """Return a libpq conninfo string for psycopg.connect."""
        return make_conninfo(host="127.0.0.1", port=self._live_port(), user=_PG_USER, dbname=dbname)

    def _admin(self, statement: sql.Composable) -> None:
        try:
            with psycopg.connect(self.dsn(), autocommit=True, connect_timeout=10) as conn:
                conn.execute(statement)
        except psycopg.Error as exc:
            raise PostgresUnavailable(f"{exc}\n{self._log_tail(10)}") from exc

    def create_database(self, name: str, template: str | None = None) -> None:
        """Create database name, optionally as a copy of template (which must be idle)."""
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_check_name(name)))
        if template is not None:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(_check_name(template)))
        self._admin(query)

    def drop_database(self, name: str) -> None:
        """Drop database name if it exists, disconnecting any sessions."""
        ident = sql.Identifier(_check_name(name))
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
