"""Storing a push's new report rows: the plain insert and the all-new fast path."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Dialect

from server.db import is_sqlite
from server.extensions import db
from server.orgs.counter import reserve_counter
from server.reports.models import Report, Tombstone
from server.types import UTCDateTime
from server.upsert import insert_ignore

_REPORTS = Report.__table__
_MISSING = object()
_TOMBSTONES = Tombstone.__table__


class SomeKnown(Exception):
    """Raised when a batch thought new holds a stored or deleted id (the caller rolls back)."""


@dataclass
class NewRows:
    """A batch of new report rows, with SQLite's driver parameters worked out in advance.

    The conversions cost more CPU than the insert itself; done before the write lock is
    taken, they no longer lengthen the time every other writer waits for it.
    """

    rows: list[dict[str, Any]]
    # SQLite: each row's converted values without change_seq, then its tombstone-check id.
    params: list[tuple[Any, ...]] | None


def prepare_new(rows: list[dict[str, Any]]) -> NewRows:
    """Convert the rows for SQLite's driver now (outside any transaction)."""
    if not is_sqlite():
        return NewRows(rows, None)
    convert, tomb_id = _sqlite_plan(db.engine.dialect)[1:]
    converted = convert(rows)
    return NewRows(rows, [(*c, tomb_id(row["id"])) for c, row in zip(converted, rows, strict=True)])


def store_all_new(org_id: int, new: NewRows) -> None:
    """Number and insert rows of reports believed new; raise SomeKnown if any id is known.

    Two statements under the counter lock: the lock and the numbers in one, the insert of
    every row whose id is neither stored nor tombstoned in the other. Fewer rows inserted
    than given means an id was known: the caller rolls the transaction back and merges.
    """
    first = reserve_counter(org_id, len(new.rows))
    for offset, row in enumerate(new.rows):
        row["change_seq"] = first + offset
    if new.params is None:
        inserted = _postgres_insert_unknown(new.rows)
    else:
        sql = _sqlite_plan(db.engine.dialect)[0].unknown
        # change_seq is the statement's last column, before the tombstone check's id.
        params = [(*p[:-1], first + i, p[-1]) for i, p in enumerate(new.params)]
        # sqlite3 sums the rows changed over an executemany.
        inserted = db.session.connection().exec_driver_sql(sql, params).rowcount
    if inserted != len(new.rows):
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
        statements, convert, _ = _sqlite_plan(conn.dialect)
        converted = convert(rows)
        params = [(*c, row["change_seq"]) for c, row in zip(converted, rows, strict=True)]
        conn.exec_driver_sql(statements.plain, params)
        return set()
    stmt = insert_ignore(_REPORTS, ["id"]).returning(_REPORTS.c.id)
    inserted = {str(rid) for rid in db.session.execute(stmt, rows).scalars()}
    return {str(row["id"]) for row in rows} - inserted


def _postgres_insert_unknown(rows: list[dict[str, Any]]) -> int:
    """Insert the rows unless an id is tombstoned or stored; return how many went in."""
    conn = db.session.connection()
    ids = [row["id"] for row in rows]
    tombstoned = select(_TOMBSTONES.c.report_id).where(_TOMBSTONES.c.report_id.in_(ids))
    if conn.execute(tombstoned.limit(1)).first() is not None:
        return 0
    stmt = insert_ignore(_REPORTS, ["id"]).returning(_REPORTS.c.id)
    return len(conn.execute(stmt, rows).all())


@dataclass(frozen=True)
class _Statements:
    """SQLite's plain report INSERT and its insert-if-unknown twin."""

    plain: str
    unknown: str


_Convert = Callable[[list[dict[str, Any]]], list[tuple[Any, ...]]]


@functools.cache
def _sqlite_plan(dialect: Dialect) -> tuple[_Statements, _Convert, Callable[[Any], Any]]:
    """Return SQLite's report INSERTs, the rows' conversion and the tombstone id's conversion.

    The hot path of the push: the driver's executemany with the columns' own SQLAlchemy
    bind processors (UUID, JSON, UTC datetimes) costs a fraction of a Core insert. The
    conversion returns every column but change_seq (numbered under the lock, so it is the
    statements' last column) and calls a processor only where a column has one.
    """
    names = [c.name for c in _REPORTS.columns if c.name != "change_seq"]
    # (position, processor, what it makes of None — JSON makes it 'null' —, a datetime?)
    processed: list[tuple[int, Callable[[Any], Any], Any, bool]] = []
    for index, name in enumerate(names):
        column = _REPORTS.columns[name]
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            # A batch's rows share received_at and updated_at (and often created_at), and
            # a datetime's conversion is the dearest: each distinct value is converted once
            # for all the datetime columns. Equal datetimes are the same instant, so they
            # convert to the same UTC text.
            when = isinstance(column.type, UTCDateTime)
            processed.append((index, process, process(None), when))
    pick = operator.itemgetter(*names)

    def convert(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        seen: dict[Any, Any] = {}  # datetime -> its converted text, for this batch
        out = []
        for row in rows:
            values = list(pick(row))
            for index, process, none, when in processed:
                value = values[index]
                if value is None:
                    values[index] = none
                elif not when:
                    values[index] = process(value)
                else:
                    done = seen.get(value, _MISSING)
                    if done is _MISSING:
                        done = seen[value] = process(value)
                    values[index] = done
            out.append(tuple(values))
        return out

    tomb_column = _TOMBSTONES.c.report_id
    tomb_id = tomb_column.type.dialect_impl(dialect).bind_processor(dialect) or _same
    listed = ", ".join([*names, "change_seq"])
    marks = ", ".join("?" for _ in range(len(names) + 1))
    # Names come from our own table definitions, values travel as parameters.
    plain = f"INSERT INTO {_REPORTS.name} ({listed}) VALUES ({marks})"  # noqa: S608
    unknown = (
        f"INSERT OR IGNORE INTO {_REPORTS.name} ({listed}) SELECT {marks} "  # noqa: S608
        f"WHERE NOT EXISTS (SELECT 1 FROM {_TOMBSTONES.name} WHERE {tomb_column.name} = ?)"
    )
    return _Statements(plain, unknown), convert, tomb_id


def _same(value: Any) -> Any:
    """Pass a value through unchanged (columns without a bind conversion)."""
    return value
