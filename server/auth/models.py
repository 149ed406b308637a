"""Person model: coordinators and administrators who log in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow

# admin: persons, devices, areas and agreements of its organisation; coordinator: its
# incidents; analyst: trends, counts and exports without free text; viewer: reads.
ROLES = ("admin", "coordinator", "analyst", "viewer")


class Person(db.Model):
    """A person with a password login (argon2id hash)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkspaceSession(db.Model):
    """A workspace login on the server: the cookie holds only its random id.

    The id is stored as its SHA-256, so a copy of the table cannot be replayed as cookies.
    """

    __tablename__ = "workspace_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Why it ended: logout, everywhere, deactivated, role.
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)


class LoginFailures(db.Model):
    """Failed logins for one key (an e-mail address or a client address), shared by workers.

    A row exists for invented addresses too (the answer must not tell them apart); rows
    are deleted once `forget_at` has passed, when their count no longer matters.
    """

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    forget_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
