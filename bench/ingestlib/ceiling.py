"""The ceiling: the same rows straight into the database, one committed transaction per batch."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.ingestlib.common import BenchError
from bench.ingestlib.db import Database
from bench.ingestlib.payload import REPORT, STOCKHOLM_WINTER, created_at
from sync.merge import DEVICE_FIELDS  # stdlib-only module

if TYPE_CHECKING:
    from tests.support.pgserver import PostgresServer

# The server's connect-time pragmas (server/db.py::configure_sqlite), as the ceiling sets them.
SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout = 30000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
)
SQLITE_SETTINGS = "WAL, synchronous=FULL, foreign_keys=ON"
INSERT_COLUMNS = (
    "id",
    "org_id",
    "device_id",
    "created_at",
    "utc_offset_min",
    "category_code",
    "severity",
    "description",
    "lat",
    "lon",
    "accuracy_m",
    "place",
    "people_count",
    "photos",
    "clocks",
    "status",
    "received_at",
    "updated_at",
    "version",
    "change_seq",
)


@dataclass
class Ceiling:
    """Rows per second of bare executemany + commit per batch."""

    rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        """Rows per second."""
        return self.rows / self.seconds if self.seconds else 0.0


def _sqlite_dt(moment: datetime) -> str:
    """Render a UTC datetime as SQLAlchemy's SQLite DATETIME stores it."""
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def ceiling_rows(
    n: int, org_id: int, device_ids: list[int], first_seq: int, sqlite: bool
) -> list[tuple[Any, ...]]:
    """Return `n` report rows shaped as server/protocol/push.py::_write writes them."""
    now = datetime.now(UTC)
    created = created_at(now)
    clock = created.astimezone(UTC).isoformat(timespec="microseconds")
    clocks = json.dumps({name: [clock, 0] for name in DEVICE_FIELDS})  # SQLAlchemy's JSON
    created_col: Any = _sqlite_dt(created) if sqlite else created.astimezone(UTC)
    now_col: Any = _sqlite_dt(now) if sqlite else now
    offset_min = STOCKHOLM_WINTER.utcoffset(None) // timedelta(minutes=1)
    loc = REPORT["location"]
    rows = []
    for i in range(n):
        rid = uuid.uuid4()
        rows.append(
            (
                rid.hex if sqlite else rid,  # sa.Uuid on SQLite: CHAR(32) hex
                org_id,
                device_ids[i % len(device_ids)],
                created_col,
                offset_min,
                REPORT["category"],
                REPORT["severity"],
                REPORT["description"],
                loc["lat"],
                loc["lon"],
                loc["accuracy_m"],
                REPORT["place"],
                REPORT["people_count"],
                json.dumps(REPORT["photos"]),
                clocks,
                "ny",
                now_col,
                now_col,
                1,
                first_seq + i + 1,
            )
        )
    return rows


def _insert_sql(marks: list[str]) -> str:
    """Return the INSERT statement for INSERT_COLUMNS with the given placeholders."""
    return f"INSERT INTO reports ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join(marks)})"  # noqa: S608


def _rows_for(db: Database, n: int, last_seq: int, sqlite: bool) -> list[tuple[Any, ...]]:
    """Return `n` fresh rows for the database's organisation and devices."""
    ids = [d["device_id"] for d in db.devices]
    return ceiling_rows(n, db.org_id, ids, last_seq, sqlite=sqlite)


def sqlite_ceiling(path: Path, db: Database, n: int, batch: int) -> Ceiling:
    """Insert `n` rows into a copy of the migrated DB, one BEGIN IMMEDIATE/COMMIT per batch."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in SQLITE_PRAGMAS:
            conn.execute(pragma)
        seq = int(conn.execute("SELECT coalesce(max(change_seq), 0) FROM reports").fetchone()[0])
        rows = _rows_for(db, n, seq, sqlite=True)
        sql = _insert_sql(["?"] * len(INSERT_COLUMNS))
        t = time.perf_counter()
        for i in range(0, n, batch):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows[i : i + batch])
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - t
        stored = int(conn.execute("SELECT count(*) FROM reports").fetchone()[0])
    finally:
        conn.close()
    if stored < n:
        raise BenchError(f"ceiling stored {stored} rows, expected at least {n}")
    return Ceiling(n, elapsed)


def postgres_ceiling(pg: PostgresServer, name: str, db: Database, n: int, batch: int) -> Ceiling:
    """Insert `n` rows into a copy of the migrated PG database, one commit per batch."""
    import psycopg

    with psycopg.connect(pg.dsn(name)) as conn:
        seq = int(conn.execute("SELECT coalesce(max(change_seq), 0) FROM reports").fetchone()[0])
        conn.commit()
        rows = _rows_for(db, n, seq, sqlite=False)
        sql = _insert_sql(
            ["%s::json" if c in ("photos", "clocks") else "%s" for c in INSERT_COLUMNS]
        )
        t = time.perf_counter()
        with conn.cursor() as cur:
            for i in range(0, n, batch):
                cur.executemany(sql, rows[i : i + batch])
                conn.commit()
        elapsed = time.perf_counter() - t
    return Ceiling(n, elapsed)


def shape_check(server_db: Path, ceiling_db: Path) -> str:
    """Compare typeof/length of every column of a server row and a ceiling row."""
    probe = ", ".join(f"typeof({c}) || ':' || coalesce(length({c}), '-')" for c in INSERT_COLUMNS)
    query = f"SELECT {probe} FROM reports ORDER BY change_seq DESC LIMIT 1"  # noqa: S608
    with contextlib.closing(sqlite3.connect(server_db)) as a:
        server_row = a.execute(query).fetchone()
    with contextlib.closing(sqlite3.connect(ceiling_db)) as b:
        ceiling_row = b.execute(query).fetchone()
    if server_row is None or ceiling_row is None:
        return "not checked (no rows)"
    diffs = [
        f"{c}: server {s} vs ceiling {t}"
        for c, s, t in zip(INSERT_COLUMNS, server_row, ceiling_row, strict=True)
        if s != t
    ]
    return "OK (every column has the same type and length)" if not diffs else "; ".join(diffs)
