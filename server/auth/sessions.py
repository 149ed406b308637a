"""Workspace sessions kept on the server, so that logging out really ends them.

The signed cookie holds a random session id; this table holds its SHA-256, the person,
when it started, when it was last used and when (and why) it ended. A cookie copied
before a logout is worthless afterwards, and a person's sessions can all be ended at once
(log out everywhere, deactivation, a new role).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from server.auth.models import WorkspaceSession
from server.db import phase
from server.extensions import db

# last_seen_at is written at most this often, so browsing does not write on every request.
TOUCH_EVERY = timedelta(minutes=1)
# Reasons a session ends, as stored in end_reason.
REASONS = frozenset({"logout", "everywhere", "deactivated", "role"})


def _hash(session_id: str) -> str:
    """Return the stored form of a session id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(person_id: int, now: datetime, lifetime: timedelta) -> str:
    """Record a new session and return its id; delete sessions that are over anyway."""
    session_id = secrets.token_urlsafe(32)
    with phase("write"):
        db.session.execute(
            delete(WorkspaceSession).where(WorkspaceSession.created_at < now - lifetime)
        )
        db.session.add(
            WorkspaceSession(
                id_hash=_hash(session_id), person_id=person_id, created_at=now, last_seen_at=now
            )
        )
    return session_id


def check(
    session_id: str, person_id: int, now: datetime, lifetime: timedelta, idle: timedelta
) -> bool:
    """Tell whether the session is still on (and note that it was used)."""
    row = db.session.get(WorkspaceSession, _hash(session_id), populate_existing=True)
    on = (
        row is not None
        and row.person_id == person_id
        and row.ended_at is None
        and now - row.created_at <= lifetime
        and now - row.last_seen_at <= idle
    )
    if on and row is not None and now - row.last_seen_at >= TOUCH_EVERY:
        with phase("write"):
            db.session.execute(
                update(WorkspaceSession)
                .where(WorkspaceSession.id_hash == row.id_hash)
                .values(last_seen_at=now)
            )
    return on


def end(session_id: str, now: datetime) -> None:
    """End one session (a logout)."""
    with phase("write"):
        db.session.execute(
            update(WorkspaceSession)
            .where(
                WorkspaceSession.id_hash == _hash(session_id), WorkspaceSession.ended_at.is_(None)
            )
            .values(ended_at=now, end_reason="logout")
        )


def end_all(person_id: int, reason: str, now: datetime) -> int:
    """End every open session of a person in the current transaction; return how many."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    ended = db.session.execute(
        update(WorkspaceSession)
        .where(WorkspaceSession.person_id == person_id, WorkspaceSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(ended.rowcount or 0)


def open_count(person_id: int) -> int:
    """Count a person's sessions that have not been ended."""
    return len(
        db.session.scalars(
            select(WorkspaceSession.id_hash).where(
                WorkspaceSession.person_id == person_id, WorkspaceSession.ended_at.is_(None)
            )
        ).all()
    )
