"""Storing a push's new report rows: the plain insert and the all-new fast path."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Dialect

from server.db import is_sqlite
from server.extensions import db
from server.orgs.counter import reserve_counter
from server.reports.models import Report, Tombstone
from server.upsert import insert_ignore

_REPORTS = Report.__table__
_TOMBSTONES = Tombstone.__table__
_Columns = list[tuple[str, Callable[[Any], Any]]]


class SomeKnown(Exception):
    """Raised when a batch thought new holds a stored or deleted id (the caller rolls back)."""


def store_all_new(org_id: int, rows: list[dict[str, Any]]) -> None:
    """Number and insert rows of reports believed new; raise SomeKnown if any id is known.

    Two statements under the counter lock: the lock and the numbers in one, the insert of
    every row whose id is neither stored nor tombstoned in the other. Fewer rows inserted
    than given means an id was known: the caller rolls the transaction back and merges.
    """
    first = reserve_counter(org_id, len(rows))
    for offset, row in enumerate(rows):
        row["change_seq"] = first + offset
    insert = _sqlite_insert_unknown if is_sqlite() else _postgres_insert_unknown
    if insert(rows) != len(rows):
        raise SomeKnown


def insert_new(rows: list[dict[str, Any]]) -> set[str]:
    """Insert new report rows; return the ids another organisation inserted first.

    On SQLite the whole database has one writer, and the ids were checked under that lock,
    so a plain insert cannot conflict. On PostgreSQL the counter lock serialises only this
    organisation, so another organisation's device may have inserted the same id
    concurrently: that id is not ours.
    """
    if is_sqlite():
        conn = db.session.connection()
        sql, columns = _sqlite_statements(conn.dialect)[0]
        conn.exec_driver_sql(sql, [tuple(f(row[c]) for c, f in columns) for row in rows])
        return set()
    stmt = insert_ignore(_REPORTS, ["id"]).returning(_REPORTS.c.id)
    inserted = {str(rid) for rid in db.session.execute(stmt, rows).scalars()}
    return {str(row["id"]) for row in rows} - inserted


def _sqlite_insert_unknown(rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose id is neither stored nor tombstoned; return how many went in."""
    conn = db.session.connection()
    (_, columns), (sql, tomb_id) = _sqlite_statements(conn.dialect)
    params = []
    for row in rows:
        values = tuple(f(row[c]) for c, f in columns)
        params.append((*values, tomb_id(row["id"])))
    # sqlite3 sums the rows changed over an executemany.
    return conn.exec_driver_sql(sql, params).rowcount


def _postgres_insert_unknown(rows: list[dict[str, Any]]) -> int:
    """Insert the rows unless an id is tombstoned or stored; return how many went in."""
    conn = db.session.connection()
    ids = [row["id"] for row in rows]
    tombstoned = select(_TOMBSTONES.c.report_id).where(_TOMBSTONES.c.report_id.in_(ids))
    if conn.execute(tombstoned.limit(1)).first() is not None:
        return 0
    stmt = insert_ignore(_REPORTS, ["id"]).returning(_REPORTS.c.id)
    return len(conn.execute(stmt, rows).all())


@functools.cache
def _sqlite_statements(
    dialect: Dialect,
) -> tuple[tuple[str, _Columns], tuple[str, Callable[[Any], Any]]]:
    """Return SQLite's plain report INSERT, its insert-if-unknown twin and their conversions.

    The hot path of the push: the driver's executemany with the columns' own SQLAlchemy
    bind processors (UUID, JSON, UTC datetimes) costs a fraction of a Core insert.
    """
    columns: _Columns = []
    for column in _REPORTS.columns:
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        columns.append((column.name, process or _same))
    names = ", ".join(name for name, _ in columns)
    marks = ", ".join("?" for _ in columns)
    tomb_column = _TOMBSTONES.c.report_id
    tomb_id = tomb_column.type.dialect_impl(dialect).bind_processor(dialect) or _same
    # Names come from our own table definitions, values travel as parameters.
    plain = f"INSERT INTO {_REPORTS.name} ({names}) VALUES ({marks})"  # noqa: S608
    unknown = (
        f"INSERT OR IGNORE INTO {_REPORTS.name} ({names}) SELECT {marks} "  # noqa: S608
        f"WHERE NOT EXISTS (SELECT 1 FROM {_TOMBSTONES.name} WHERE {tomb_column.name} = ?)"
    )
    return (plain, columns), (unknown, tomb_id)


def _same(value: Any) -> Any:
    """Pass a value through unchanged (columns without a bind conversion)."""
    return value
