"""Device and enrolment code models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow

DEVICE_KINDS = ("vaktare", "faltare", "nattvandrare", "other")


class Device(db.Model):
    """A phone (or shared phone) that pushes reports with a bearer token."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="other")
    # SHA-256 of the token: the token has 256 random bits, so a slow hash adds nothing.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An admin ordered the phone to delete what the server has (the next pull carries it),
    # and when the phone said it had.
    wipe_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    wiped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What the phone said its outbox held (unsent reports) at its last pull, and when:
    # the digest names devices that still hold reports the server has not seen.
    outbox_pending: Mapped[int | None]
    outbox_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EnrolmentCode(db.Model):
    """A one-time, expiring code that turns into a device token."""

    __tablename__ = "enrolment_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
