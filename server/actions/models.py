"""Action models: an action, its sources (reports, incidents) and its timeline."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow

# Stored as ASCII codes, as incident statuses are ("atgard_pagar"); the catalog shows
# the Swedish words (föreslagen, beslutad, pågår, klar, avslagen).
ACTION_STATUSES = ("foreslagen", "beslutad", "pagar", "klar", "avslagen")
# The forward path, one step at a time; avslagen is reachable from any non-final state.
FORWARD = ("foreslagen", "beslutad", "pagar", "klar")
FINAL_STATUSES = frozenset({"klar", "avslagen"})
OWNER_KINDS = ("kommun", "polis", "fastighetsagare", "other")
PRIORITIES = ("hog", "normal", "lag")
MAX_TEXT = 2000
MAX_OWNER_NAME = 200
MAX_REASON = 2000


class Action(db.Model):
    """One action of an organisation's åtgärdsplan: what, who owns it, by when, how far."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    text: Mapped[str] = mapped_column(Text)
    # A unit or a company, never a person (the form says so).
    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_name: Mapped[str] = mapped_column(String(200), default="")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="foreslagen")
    # Why it was turned down (avslagen), required then.
    reason: Mapped[str] = mapped_column(Text, default="")
    done_date: Mapped[date | None] = mapped_column(Date)
    # The after-photo, stored through the photo pipeline (photos.sha256 of this org).
    after_photo: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_actions_org_status_due", "org_id", "status", "due_date"),
        Index("ix_actions_org_created", "org_id", "created_at"),
    )


class ActionReport(db.Model):
    """A report an action was created from (gone with the report, e.g. on erasure)."""

    __tablename__ = "action_reports"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ActionIncident(db.Model):
    """An incident an action was created from (gone with the incident, e.g. a merge's source)."""

    __tablename__ = "action_incidents"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ActionEvent(db.Model):
    """One line of an action's timeline: what changed (from → to), when and by whom."""

    __tablename__ = "action_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
