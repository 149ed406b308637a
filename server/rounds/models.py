"""Checkpoints, rounds and their checkpoints, round runs and checkpoint scans."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow

SCAN_METHODS = ("qr", "code", "nfc")


class Checkpoint(db.Model):
    """A place a guard must visit, labelled with a QR token and a short code."""

    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(120))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[int] = mapped_column(default=50)
    instructions: Mapped[str] = mapped_column(Text, default="")
    # The QR code's secret: random, url-safe, unique across organisations (a scan names it).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # Typed when the label is damaged: unique within the organisation only.
    short_code: Mapped[str] = mapped_column(String(6))
    nfc_serial: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("org_id", "short_code", name="uq_checkpoints_org_short_code"),
    )


class Round(db.Model):
    """A planned round: checkpoints (ordered or not) and a schedule in Europe/Stockholm."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    ordered: Mapped[bool] = mapped_column(default=False)
    # Monday is 0 (date.weekday()); the window that starts on one of these days.
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    window: Mapped[str] = mapped_column(String(11))  # HH:MM-HH:MM, local time
    every_minutes: Mapped[int | None]
    grace_minutes: Mapped[int] = mapped_column(default=15)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoundCheckpoint(db.Model):
    """One checkpoint of a round, at its position, required or not."""

    __tablename__ = "round_checkpoints"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"), index=True)
    required: Mapped[bool] = mapped_column(default=True)


class RoundRun(db.Model):
    """A guard's walk of a round, identified by the phone's UUID."""

    __tablename__ = "round_runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    # The device's times as sent, and corrected by the device's clock skew.
    started_at_device: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at_device: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(Text)
    clock_skew_ms: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_round_runs_round_started", "round_id", "started_at"),)


class CheckpointScan(db.Model):
    """One scan of a checkpoint, identified by the phone's UUID; flagged, never refused."""

    __tablename__ = "checkpoint_scans"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"))
    # The run's phone UUID; no foreign key, as a scan may arrive before its run.
    round_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    scanned_at_device: Mapped[datetime] = mapped_column(UTCDateTime())
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    clock_skew_ms: Mapped[int] = mapped_column(default=0)
    method: Mapped[str | None] = mapped_column(String(4))
    typed: Mapped[bool] = mapped_column(default=False)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_checkpoint_scans_org_scanned", "org_id", "scanned_at"),
        Index("ix_checkpoint_scans_device_checkpoint", "device_id", "checkpoint_id", "scanned_at"),
    )
