"""Report, comment and tombstone models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow

# Coordinator-owned status of a report (device edits never change it).
REPORT_STATUSES = ("ny", "bedomd", "atgard_pagar", "atgardad", "avslutad", "dubblett")


class Report(db.Model):
    """One field observation, identified by the UUID the phone generated."""

    __tablename__ = "reports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # Indexed by ix_reports_device_seq, whose first column it is.
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    # Device-owned fields (merged field by field by sync.merge).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    utc_offset_min: Mapped[int] = mapped_column(SmallInteger)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    severity: Mapped[int | None] = mapped_column(SmallInteger)
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200), default="")
    people_count: Mapped[int | None]
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A walk observation: the walk it was made on, its stop and the walker's feeling there.
    # Set when the report is created and kept (server.walks.observations).
    walk_id: Mapped[int | None] = mapped_column(ForeignKey("walks.id", ondelete="SET NULL"))
    walk_stop: Mapped[int | None] = mapped_column(SmallInteger)
    feeling: Mapped[str | None] = mapped_column(String(10))
    # A follow-up walk's mark: the original observation re-checked (a report id, no foreign
    # key so the mark outlives the observation's retention) and "atgardat" or "kvarstar".
    follows: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    follow_up: Mapped[str | None] = mapped_column(String(10))
    # When retention cleared the free text and photos (the report's facts stay).
    text_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Merge bookkeeping: per-field (edited_at, revision) registers.
    clocks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Coordinator-owned.
    status: Mapped[str] = mapped_column(String(20), default="ny")
    # The incident it belongs to (None only until the grouping has seen it), whether a
    # coordinator put it there by hand (never regrouped then), its area and named place.
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    incident_pinned: Mapped[bool] = mapped_column(default=False)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("named_places.id", ondelete="SET NULL"))
    # Server bookkeeping.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_reports_org_created", "org_id", "created_at"),
        Index("ix_reports_device_seq", "device_id", "change_seq"),
        # The grouping's queue: reports not yet in an incident.
        Index(
            "ix_reports_ungrouped",
            "org_id",
            sqlite_where=text("incident_id IS NULL"),
            postgresql_where=text("incident_id IS NULL"),
        ),
        # Walk observations only: most reports have no walk, and an index entry per report
        # is a b-tree insert on every push (`walk_id = ?` and IN still use it).
        Index(
            "ix_reports_walk_id",
            "walk_id",
            sqlite_where=text("walk_id IS NOT NULL"),
            postgresql_where=text("walk_id IS NOT NULL"),
        ),
        # Reports without a position: a twin re-key by position asks whether one is near in
        # time (server.incidents.twins), whatever the size of the scene at that second.
        Index(
            "ix_reports_unlocated",
            "org_id",
            "created_at",
            sqlite_where=text("lat IS NULL"),
            postgresql_where=text("lat IS NULL"),
        ),
        # The reports a coordinator placed: the grouping asks whether an incident has one.
        Index(
            "ix_reports_pinned",
            "incident_id",
            sqlite_where=text("incident_pinned = 1"),
            postgresql_where=text("incident_pinned"),
        ),
    )


class ReportComment(db.Model):
    """A coordinator's comment on a report or a whole incident, shown to the reporting devices."""

    __tablename__ = "report_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    # Set for a comment on an incident: every device with a report in it sees the comment.
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Tombstone(db.Model):
    """A deleted report: its id is never accepted again, and pulls announce the deletion."""

    __tablename__ = "tombstones"

    report_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(String(40))
    change_seq: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_tombstones_device_seq", "device_id", "change_seq"),)
