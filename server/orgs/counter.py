"""The per-organisation change counter behind the pull cursors."""

from __future__ import annotations

from sqlalchemy import func, select, update

from server.db import WRITE_TRANSACTION
from server.extensions import db
from server.orgs.models import ChangeCounter, GroupingEpoch

_COUNTERS = ChangeCounter.__table__
_EPOCHS = GroupingEpoch.__table__
# The grouping lock's namespace in PostgreSQL's advisory lock space ("LB"); the
# organisation's id is the second key.
_GROUPING_LOCK = 0x4C42


def lock_grouping(org_id: int) -> None:
    """Take the organisation's grouping lock for this transaction.

    Every writer that can change which incident a stored report is in (a grouping pass,
    a coordinator decision, an edit, a purge) holds it, so their reads and writes never
    interleave. A push of new reports does not: it only inserts rows the grouping queue
    will pick up, so on PostgreSQL a long grouping pass no longer holds up the pushes.
    On SQLite the single write lock already serialises every writer; there the holder
    bumps the grouping epoch instead, which tells a pass that planned outside the write
    lock whether what it read still holds (`server.incidents.queue`).
    """
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_GROUPING_LOCK, org_id)))
        return
    if not conn.info.get(WRITE_TRANSACTION, True):
        # A read transaction cannot take the write lock once it has read: the bump would
        # fail as "database is locked" whenever another writer committed meanwhile.
        raise RuntimeError("lock_grouping needs a write transaction (phase('write'), a POST)")
    bumped = conn.execute(
        update(_EPOCHS).where(_EPOCHS.c.org_id == org_id).values(value=_EPOCHS.c.value + 1)
    )
    if bumped.rowcount == 0:
        conn.execute(_EPOCHS.insert().values(org_id=org_id, value=1))


def grouping_epoch(org_id: int) -> int:
    """Return the organisation's grouping epoch (SQLite; 0 before the first bump)."""
    value = (
        db.session.connection()
        .execute(select(_EPOCHS.c.value).where(_EPOCHS.c.org_id == org_id))
        .scalar()
    )
    return int(value or 0)


def lock_counter(org_id: int) -> int:
    """Lock the organisation's change counter for this transaction and return its value.

    Every writer that hands out change numbers takes this lock first and holds it until
    commit, so the organisation's writers are serialised, merges never race, and numbers
    become visible in order (a pull cursor never skips a change that commits late).
    The grouping lock comes first (always in that order, so two writers never deadlock).
    """
    lock_grouping(org_id)
    conn = db.session.connection()  # Core on the session's connection: no ORM overhead
    value = conn.execute(
        select(_COUNTERS.c.value).where(_COUNTERS.c.org_id == org_id).with_for_update()
    ).scalar()
    if value is None:
        conn.execute(_COUNTERS.insert().values(org_id=org_id, value=0))
        return 0
    return int(value)


def set_counter(org_id: int, value: int) -> None:
    """Store the last change number used (the lock is already held)."""
    db.session.connection().execute(
        update(_COUNTERS).where(_COUNTERS.c.org_id == org_id).values(value=value)
    )


def reserve_counter(org_id: int, count: int) -> int:
    """Lock the counter and take `count` consecutive numbers in one statement; return the first.

    The same lock as `lock_counter`, for a writer that knows beforehand how many numbers it
    needs (a push of new reports): one round trip instead of a read and a write. It does
    not take the grouping lock: new rows wait in the queue whatever a pass is doing.
    """
    conn = db.session.connection()
    if not conn.dialect.update_returning:  # SQLite before 3.35 has no RETURNING
        return take_seqs(org_id, count)
    last = conn.execute(
        update(_COUNTERS)
        .where(_COUNTERS.c.org_id == org_id)
        .values(value=_COUNTERS.c.value + count)
        .returning(_COUNTERS.c.value)
    ).scalar()
    if last is None:  # an organisation made without its counter row (older data)
        conn.execute(_COUNTERS.insert().values(org_id=org_id, value=count))
        last = count
    return int(last) - count + 1


def take_seqs(org_id: int, count: int) -> int:
    """Reserve `count` consecutive change numbers and return the first."""
    first = lock_counter(org_id) + 1
    set_counter(org_id, first + count - 1)
    return first
