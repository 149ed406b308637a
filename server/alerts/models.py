"""On-call rota, push subscriptions, alerts and their deliveries (docs/alerts.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow


class OnCallRota(db.Model):
    """An organisation's on-call settings besides its levels: the phone's fallback number."""

    __tablename__ = "oncall_rotas"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    # E.164 ("+46701234567") or None: the field app then shows only "Ring 112".
    phone: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OnCallLevel(db.Model):
    """One level of the rota: its persons are told first, the next level after `minutes`."""

    __tablename__ = "oncall_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)  # 1 is told first
    minutes: Mapped[int] = mapped_column(SmallInteger, default=5)

    __table_args__ = (UniqueConstraint("org_id", "position", name="uq_oncall_levels_org_pos"),)


class OnCallMember(db.Model):
    """A person on one level of the rota."""

    __tablename__ = "oncall_members"

    level_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_levels.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )


class PushSubscription(db.Model):
    """A browser's Web Push subscription (RFC 8030) of one workspace person."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(Text)
    # SHA-256 of the endpoint: unique (one browser, one row) without indexing long text.
    endpoint_hash: Mapped[str] = mapped_column(String(64), unique=True)
    p256dh: Mapped[str] = mapped_column(String(120))
    auth: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the push service answered 404/410 or the person removed it.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Alert(db.Model):
    """One urgency episode of an incident: who was told, escalation and acknowledgement.

    Unique on (incident_id, episode): every worker may try to open the alert, one insert wins.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    incident_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("incidents.id", ondelete="CASCADE")
    )
    episode: Mapped[int] = mapped_column(SmallInteger, default=1)
    category_code: Mapped[str] = mapped_column(String(40))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The highest rota level told so far, and when the next one is due (None: no more).
    level: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL")
    )
    # The incident stopped being urgent (or was closed): a later urgency is a new episode.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last level's e-mail: none | pending | sent | failed, under its own lease.
    mail_state: Mapped[str] = mapped_column(String(10), default="none")
    mail_owner: Mapped[str | None] = mapped_column(String(200))
    mail_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mail_attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    mail_error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        UniqueConstraint("incident_id", "episode", name="uq_alerts_incident_episode"),
        Index("ix_alerts_next_at", "next_at"),
        Index("ix_alerts_org_opened", "org_id", "opened_at"),
    )


class AlertDelivery(db.Model):
    """One push of one alert to one subscription: unique, so nobody is told twice."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int] = mapped_column(SmallInteger)
    # pending → sent; gone (404/410), skipped (acknowledged first), failed (gave up).
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        UniqueConstraint("alert_id", "subscription_id", name="uq_alert_deliveries_alert_sub"),
        Index("ix_alert_deliveries_status_next", "status", "next_try_at"),
    )
