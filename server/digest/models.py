"""Digest settings per organisation and one row per digest to send (the delivery ledger)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from analysis.calendar import PERIOD_KINDS
from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow

# One digest per calendar period: night, week, month.
DIGEST_KINDS = PERIOD_KINDS
RUN_STATUSES = ("pending", "sending", "sent", "failed")
DIGEST_LANGUAGES = ("sv", "en")


class DigestSettings(db.Model):
    """Who gets an organisation's digests, when, and in which language."""

    __tablename__ = "digest_settings"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=False)
    # Local wall-clock time "HH:MM" in `timezone`; the night digest goes out then every day.
    send_time: Mapped[str] = mapped_column(String(5), default="06:00")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Stockholm")
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    lang: Mapped[str] = mapped_column(String(2), default="sv")
    weekly_enabled: Mapped[bool] = mapped_column(default=True)
    monthly_enabled: Mapped[bool] = mapped_column(default=True)
    # When the digest was last switched on: runs due before it are never caught up, so
    # enabling the digest at 14:00 does not send that morning's digest as a late one.
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DigestRun(db.Model):
    """One digest of one organisation for one day: claimed, sent and archived exactly once.

    The unique (org_id, kind, day) decides which scheduler creates the row; the lease
    (lease_owner, lease_until) decides which one sends it (server.digest.scheduler).
    """

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    # The local date the digest is due on (the morning after the night; the Monday after
    # the week; the first of the month after the month).
    day: Mapped[date] = mapped_column(Date())
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="pending")
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    # Created by a catch-up after the scheduled time had passed (the server was down).
    late: Mapped[bool] = mapped_column(default=False)
    manual: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    # None once the retries are used up: the run stays failed until someone sends it again.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    lang: Mapped[str] = mapped_column(String(2), default="sv")
    message_id: Mapped[str | None] = mapped_column(String(250))
    # Forced resends of a sent run (each gets its own Message-ID).
    resends: Mapped[int] = mapped_column(default=0)
    subject: Mapped[str | None] = mapped_column(String(300))
    html: Mapped[str | None] = mapped_column(Text())
    text: Mapped[str | None] = mapped_column(Text())
    # Who it went to (a snapshot taken at each attempt from the settings).
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("org_id", "kind", "day", name="uq_digest_runs_org_kind_day"),
        Index("ix_digest_runs_org_day", "org_id", "day"),
        Index("ix_digest_runs_status_next", "status", "next_attempt_at"),
    )
