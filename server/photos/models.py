"""Photo model: content-addressed by the SHA-256 of the uploaded bytes, per organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow


class Photo(db.Model):
    """An uploaded photo, stored re-encoded without metadata in several sizes.

    Keyed per organisation so that knowing a hash never opens another organisation's photo.
    """

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    source_format: Mapped[str] = mapped_column(String(10))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    storage_path: Mapped[str] = mapped_column(String(255))
    # The phone blacked out parts of it before sending (the original never left the phone).
    redacted: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("org_id", "sha256", name="uq_photos_org_sha256"),
        # A device's uploads of a day: the photo quota.
        Index("ix_photos_device_created", "uploaded_by_device_id", "created_at"),
    )
