"""Find PostgreSQL's client programs and run them against the configured database."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

PG_ROOT = Path("/usr/lib/postgresql")
# A dump or restore of a large store takes a while; a hung server must not hang the admin.
TIMEOUT_SECONDS = 6 * 3600


class PgToolError(RuntimeError):
    """Raised when a PostgreSQL client program is missing or fails."""


def find_tool(name: str) -> Path:
    """Return pg_dump or pg_restore: the newest Debian-packaged one, else the one on PATH.

    The newest wins because pg_dump refuses a server newer than itself.
    """
    versions: list[tuple[tuple[int, ...], Path]] = []
    for candidate in PG_ROOT.glob(f"*/bin/{name}"):
        parts = candidate.parent.parent.name.split(".")
        if all(p.isdigit() for p in parts) and candidate.is_file():
            versions.append((tuple(int(p) for p in parts), candidate))
    if versions:
        return max(versions)[1]
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    raise PgToolError(
        f"{name} not found (looked in {PG_ROOT}/*/bin and on PATH); install the PostgreSQL"
        " client programs (Debian: apt install postgresql-client)"
    )


def conninfo_and_env(database_url: str) -> tuple[str, dict[str, str]]:
    """Split a SQLAlchemy URL into a libpq conninfo and an environment holding the password.

    The password goes through PGPASSWORD, never the command line (`ps` shows that to all).
    """
    url = make_url(database_url)
    params = {k: v for k, v in url.query.items() if isinstance(v, str)}
    parts = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    info = make_conninfo(**{k: str(v) for k, v in parts.items() if v}, **params)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return info, env


def run(tool: str, args: list[str], database_url: str) -> None:
    """Run a client program against the database; raise PgToolError with its message."""
    program = find_tool(tool)
    info, env = conninfo_and_env(database_url)
    try:
        result = subprocess.run(
            [str(program), f"--dbname={info}", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PgToolError(f"{tool} failed: {exc}") from exc
    if result.returncode != 0:
        message = " ".join((result.stderr or result.stdout).split())[:500]
        raise PgToolError(f"{tool} failed (exit {result.returncode}): {message}")
