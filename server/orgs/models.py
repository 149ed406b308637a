"""Organisation model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow

ORG_KINDS = ("kommun", "bostadsbolag", "polis", "vaktbolag", "forening", "other")


class Organisation(db.Model):
    """A municipality, housing company, guard company or association."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="kommun")
    # Retention (server.retention): free text and photos, whole reports (their counts by
    # day, category and area survive), the audit log and the digest archive, in days.
    retention_text_days: Mapped[int] = mapped_column(default=90, server_default="90")
    retention_report_days: Mapped[int] = mapped_column(default=730, server_default="730")
    retention_audit_days: Mapped[int] = mapped_column(default=730, server_default="730")
    retention_digest_days: Mapped[int] = mapped_column(default=365, server_default="365")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChangeCounter(db.Model):
    """The organisation's monotonic change sequence behind the pull cursors.

    Writers bump it inside their transaction while holding its row lock, so on every
    database a sequence number becomes visible only after all smaller ones have.
    """

    __tablename__ = "change_counters"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class GroupingEpoch(db.Model):
    """How many transactions have held the organisation's grouping lock (on SQLite).

    A grouping pass on SQLite reads and plans outside the write lock, then writes only if
    this number is what it read (`server.incidents.queue`): any writer that can move a
    report between incidents bumps it. No row: never bumped (0).
    """

    __tablename__ = "grouping_epochs"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int] = mapped_column(BigInteger, default=0)
