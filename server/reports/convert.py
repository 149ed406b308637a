"""Conversions between report rows and the merge engine's field values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any


def created_at_value(when: datetime) -> str:
    """Render the device time canonically, keeping its UTC offset."""
    return when.isoformat()


def values_from_input(data: dict[str, Any]) -> dict[str, Any]:
    """Turn a validated ReportIn payload into merge values."""
    loc = data.get("location")
    return {
        "created_at": created_at_value(data["created_at"]),
        "category": data["category"],
        "severity": data.get("severity"),
        "description": data.get("description") or "",
        "location": None
        if loc is None
        else {"lat": loc["lat"], "lon": loc["lon"], "accuracy_m": loc.get("accuracy_m")},
        "place": data.get("place") or "",
        "people_count": data.get("people_count"),
        "photos": list(data.get("photos") or []),
    }


def values_from_row(row: Any) -> dict[str, Any]:
    """Read merge values back from a report row (ORM object or Core row)."""
    offset = timezone(timedelta(minutes=row.utc_offset_min))
    return {
        "created_at": created_at_value(row.created_at.astimezone(offset)),
        "category": row.category_code,
        "severity": row.severity,
        "description": row.description,
        "location": None
        if row.lat is None
        else {"lat": row.lat, "lon": row.lon, "accuracy_m": row.accuracy_m},
        "place": row.place,
        "people_count": row.people_count,
        "photos": list(row.photos or []),
    }


def columns_from_values(values: dict[str, Any]) -> dict[str, Any]:
    """Map merge values onto report columns."""
    when = datetime.fromisoformat(values["created_at"])
    offset = when.utcoffset() or timedelta(0)
    loc = values["location"]
    return {
        "created_at": when.astimezone(UTC),
        "utc_offset_min": int(offset.total_seconds() // 60),
        "category_code": values["category"],
        "severity": values["severity"],
        "description": values["description"],
        "lat": None if loc is None else loc["lat"],
        "lon": None if loc is None else loc["lon"],
        "accuracy_m": None if loc is None else loc["accuracy_m"],
        "place": values["place"],
        "people_count": values["people_count"],
        "photos": values["photos"],
    }
