"""Incident and timeline models: what happened, as opposed to what was reported."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, SmallInteger, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.audit.models import AuditEntry as AuditEntry  # re-exported for older imports
from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow

# The status workflow: ny → bedömd → åtgärd pågår → åtgärdad / avslutad utan åtgärd / dubblett.
INCIDENT_STATUSES = ("ny", "bedomd", "atgard_pagar", "atgardad", "avslutad", "dubblett")
# Closed incidents take no new reports and their reports can no longer be edited by devices.
CLOSED_STATUSES = frozenset({"atgardad", "avslutad", "dubblett"})
# Who is responsible for acting on an incident.
RESPONSIBLE = ("kommun", "bostadsbolag", "polis", "other")


class Incident(db.Model):
    """A group of reports about one event, anchored by its seed report."""

    __tablename__ = "incidents"

    # Given once (the first seed's id, or a fresh one for a split) and never changed, so
    # links, digests and comments stay valid when a late, earlier report becomes the seed.
    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # The grouping's key (analysis.grouping): the id of the report that anchors the incident.
    # A re-key changes this one column, not every member's link. A split's incident keeps
    # its own id here: it names no report, so its earliest member anchors it.
    seed_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    status: Mapped[str] = mapped_column(String(20), default="ny")
    responsible: Mapped[str | None] = mapped_column(String(20))
    # A coordinator has decided something about it: its membership is never regrouped.
    frozen: Mapped[bool] = mapped_column(default=False)
    # Summary of the member reports, kept by the grouping (for lists without joins).
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    report_count: Mapped[int] = mapped_column(default=0)
    max_severity: Mapped[int | None] = mapped_column(SmallInteger)
    urgent: Mapped[bool] = mapped_column(default=False)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("named_places.id", ondelete="SET NULL"))
    place: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(String(200), default="")
    device_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_incidents_org_first", "org_id", "first_at"),
        Index("ix_incidents_org_seed", "org_id", "seed_id"),
        Index("ix_incidents_org_last", "org_id", "last_at"),
        Index("ix_incidents_org_status", "org_id", "status"),
        # Follow-ups: open incidents of a bounded period, without the closed history.
        Index("ix_incidents_org_status_first", "org_id", "status", "first_at"),
    )


class IncidentEvent(db.Model):
    """One line of an incident's timeline: what changed, when and by whom."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # None for the automatic grouping.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
