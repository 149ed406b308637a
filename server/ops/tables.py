"""Row counts and schema facts read straight from a database (a live one or a copy)."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text
from sqlalchemy.engine import Connection

# What a freshly migrated installation already holds: the global categories, the epoch
# and Alembic's own bookkeeping. Any other row means the installation is in use.
SEEDED = frozenset({"alembic_version", "categories", "meta"})


def _quoted(name: str) -> str:
    """Quote a table name read from the database's own catalogue."""
    return '"' + name.replace('"', '""') + '"'


def sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Count the rows of every table of a SQLite database."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    # The names come from the database's own catalogue, quoted: nothing from a user.
    sql = "SELECT count(*) FROM {}"
    return {n: conn.execute(sql.format(_quoted(n))).fetchone()[0] for n in names}


def table_names(conn: Connection) -> list[str]:
    """Return the tables of the connected database (SQLite, or PostgreSQL's current schema)."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    return sorted(conn.execute(text(sql)).scalars())


def counts(conn: Connection) -> dict[str, int]:
    """Count the rows of every table over a SQLAlchemy connection."""
    # The names come from the database's own catalogue, quoted: nothing from a user.
    sql = "SELECT count(*) FROM {}"
    return {
        n: int(conn.execute(text(sql.format(_quoted(n)))).scalar_one()) for n in table_names(conn)
    }


def in_use(found: dict[str, int]) -> list[str]:
    """Return the tables holding rows that a fresh installation would not have."""
    return sorted(n for n, c in found.items() if c and n not in SEEDED)


def revision(conn: Connection) -> str | None:
    """Return the Alembic revision the database is at, or None when it was never migrated."""
    if "alembic_version" not in table_names(conn):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def code_heads() -> tuple[str, ...]:
    """Return the migration heads this code knows (normally one)."""
    return tuple(_scripts().get_heads())


def known_revision(rev: str) -> bool:
    """Tell whether this code's migrations contain the revision."""
    from alembic.util import CommandError

    try:
        return _scripts().get_revision(rev) is not None
    except CommandError:
        return False


def _scripts():  # alembic's ScriptDirectory, imported lazily
    """Return Alembic's view of server/migrations."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from server.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    return ScriptDirectory.from_config(config)
