"""The push message of an alert: small and without personal data.

Category, area name, time and links only: never the reports' free text, place texts,
positions, device names or persons' names (docs/alerts.md, "The payload"). Its words are
in the organisation's language: the one its digest is set to (Swedish by default).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from server.alerts.models import Alert
from server.categories.models import Category
from server.digest import service as digest_settings
from server.extensions import db
from server.geography.models import Area
from server.translations import DEFAULT_LANGUAGE, translations

LOCAL = ZoneInfo("Europe/Stockholm")


def topic(incident_id: uuid.UUID) -> str:
    """Return the incident's Topic (RFC 8030 §5.4: at most 32 base64url characters)."""
    return incident_id.hex  # 32 hex characters: a newer message replaces a waiting one


def language(org_id: int) -> str:
    """Return the organisation's language: its digest's, else the default (Swedish)."""
    settings = digest_settings.get(org_id)
    return settings.lang if settings is not None else DEFAULT_LANGUAGE


def build(alert: Alert, lang: str | None = None) -> dict[str, str]:
    """Return the message for an alert in `lang` (default: the organisation's language)."""
    lang = lang or language(alert.org_id)
    words = translations(lang)
    category = db.session.get(Category, alert.category_code)
    if category is None:
        label = alert.category_code
    else:
        label = category.label_en if lang == "en" else category.label_sv
    area = db.session.get(Area, alert.area_id) if alert.area_id is not None else None
    area_name = area.name if area else words.gettext("alert.push.unknown_area")
    at: datetime = alert.opened_at.astimezone(LOCAL)
    return {
        "title": words.gettext("alert.push.title").format(category=label),
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
