"""The one clock helper: the current time, always an aware UTC datetime."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(moment: datetime, what: str) -> datetime:
    """Return an aware datetime converted to UTC, rejecting naive ones.

    A naive time has no defined instant: guessing a zone would order edits wrongly, reorder
    reports for the grouping, or move them across a window's edge.
    """
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment.astimezone(UTC)
