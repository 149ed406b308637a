"""The push message of an alert: small and without personal data.

Category, area name, time and links only: never the reports' free text, place texts,
positions, device names or persons' names (docs/alerts.md, "The payload").
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from server.alerts.models import Alert
from server.categories.models import Category
from server.extensions import db
from server.geography.models import Area

LOCAL = ZoneInfo("Europe/Stockholm")


def topic(incident_id: uuid.UUID) -> str:
    """Return the incident's Topic (RFC 8030 §5.4: at most 32 base64url characters)."""
    return incident_id.hex  # 32 hex characters: a newer message replaces a waiting one


def build(alert: Alert) -> dict[str, str]:
    """Return the message for an alert (Swedish, the installation's language)."""
    category = db.session.get(Category, alert.category_code)
    label = category.label_sv if category else alert.category_code
    area = db.session.get(Area, alert.area_id) if alert.area_id is not None else None
    area_name = area.name if area else "Okänt område"
    at: datetime = alert.opened_at.astimezone(LOCAL)
    return {
        "title": f"Brådskande: {label}",
        "body": f"{area_name} · {at:%H:%M}",
        "tag": f"incident-{topic(alert.incident_id)}",
        "url": f"/workspace/alerts/{alert.id}",
        "incident_url": f"/workspace/incidents/{alert.incident_id}",
        "category": alert.category_code,
        "category_label": label,
        "area": area_name,
        "at": at.isoformat(timespec="minutes"),
    }


def encode(message: dict[str, str]) -> bytes:
    """Serialise the message as compact UTF-8 JSON."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
