"""A planned safety walk: area, date, route, numbered stops and participant counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow

WALK_STATUSES = ("planned", "done")
# Who walked, counted by kind: never names (Boverket/Brå: participants are counted).
PARTICIPANT_KINDS = ("residents", "police", "property_owners", "politicians", "officials", "others")
FEELINGS = ("unsafe", "neutral", "safe")
# A follow-up walk's mark on an observation of an earlier walk: ASCII codes, the labels
# ("Åtgärdat", "Kvarstår") come from the catalogs (walk.follow_up.<code>).
FOLLOW_UP_MARKS = ("atgardat", "kvarstar")


class Walk(db.Model):
    """One trygghetsvandring of an organisation; its observations are reports with walk_id."""

    __tablename__ = "walks"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    walk_date: Mapped[date] = mapped_column(Date)
    dark: Mapped[bool] = mapped_column(default=False)
    # A GeoJSON LineString geometry ({"type": "LineString", "coordinates": [[lon, lat], …]}).
    route: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Numbered by position: [{"name": "Stationen", "lat": 55.6, "lon": 13.2}, …] is stop 1, 2 …
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {kind: count} for PARTICIPANT_KINDS.
    participants: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    # The earlier walk of the same organisation and area this one follows up (service.py).
    follows_walk_id: Mapped[int | None] = mapped_column(
        ForeignKey("walks.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_walks_org_date", "org_id", "walk_date"),)
