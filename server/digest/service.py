"""Digest settings: who gets an organisation's digests, when, and in which language."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time

from analysis.calendar import NIGHT_END, parse_timezone
from server.db import phase
from server.digest.models import DIGEST_LANGUAGES, DigestSettings
from server.extensions import db
from sync.clock import utcnow

MAX_RECIPIENTS = 50
# Deliberately plain: one @, no spaces or angle brackets, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[^@\s<>,;\"]{1,250}\.[^@\s<>,;\".]{2,63}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_send_time(value: str) -> time:
    """Parse "HH:MM" (24-hour clock)."""
    found = _TIME.match(value.strip())
    if not found:
        raise ValueError(f"the send time must be HH:MM (24-hour clock), got {value!r}")
    return time(int(found.group(1)), int(found.group(2)))


def check_send_time(value: str) -> None:
    """Refuse a send time before the night ends (06:00): the digest would be incomplete."""
    if parse_send_time(value) < NIGHT_END:
        raise ValueError(
            f"the send time must be {NIGHT_END:%H:%M} or later: the night the digest "
            f"describes ends at {NIGHT_END:%H:%M}"
        )


def parse_recipients(values: Iterable[str]) -> list[str]:
    """Normalise a recipient list (comma-separated items allowed); refuse bad addresses."""
    out: list[str] = []
    for value in values:
        for item in value.split(","):
            address = item.strip()
            if not address:
                continue
            if not _EMAIL.match(address):
                raise ValueError(f"not an e-mail address: {address!r}")
            if address.lower() not in (a.lower() for a in out):
                out.append(address)
    if len(out) > MAX_RECIPIENTS:
        raise ValueError(f"at most {MAX_RECIPIENTS} recipients")
    return out


def get(org_id: int, *, fresh: bool = False) -> DigestSettings | None:
    """Return the organisation's settings (None when it never configured the digest).

    `fresh` reloads a row the session already holds (another process may have changed it).
    """
    return db.session.get(DigestSettings, org_id, populate_existing=fresh)


def defaults(org_id: int) -> DigestSettings:
    """Return unsaved default settings (disabled, 06:00 Stockholm, Swedish)."""
    return DigestSettings(
        org_id=org_id,
        enabled=False,
        send_time="06:00",
        timezone="Europe/Stockholm",
        recipients=[],
        lang="sv",
        weekly_enabled=True,
        monthly_enabled=True,
        enabled_at=None,
    )


def configure(
    org_id: int,
    *,
    recipients: list[str] | None = None,
    send_time: str | None = None,
    timezone: str | None = None,
    lang: str | None = None,
    enabled: bool | None = None,
    weekly: bool | None = None,
    monthly: bool | None = None,
    now: datetime | None = None,
) -> DigestSettings:
    """Change the given settings (None leaves one as it is) and save them."""
    now = now or utcnow()
    if send_time is not None:
        check_send_time(send_time)
    if timezone is not None:
        parse_timezone(timezone)
    if lang is not None and lang not in DIGEST_LANGUAGES:
        raise ValueError(f"the language must be one of {', '.join(DIGEST_LANGUAGES)}")
    clean = parse_recipients(recipients) if recipients is not None else None
    with phase("write"):
        row = get(org_id, fresh=True)
        if row is None:
            row = defaults(org_id)
            db.session.add(row)
        if clean is not None:
            row.recipients = clean
        if send_time is not None:
            row.send_time = send_time.strip()
        if timezone is not None:
            row.timezone = timezone
        if lang is not None:
            row.lang = lang
        if weekly is not None:
            row.weekly_enabled = weekly
        if monthly is not None:
            row.monthly_enabled = monthly
        if enabled is not None:
            if enabled and not row.enabled:
                row.enabled_at = now
            row.enabled = enabled
        if row.enabled and not row.recipients:
            raise ValueError("the digest needs at least one recipient before it is enabled")
        row.updated_at = now
    return row


def as_dict(row: DigestSettings) -> dict[str, object]:
    """Return the settings as plain data (CLI --json, templates)."""
    return {
        "org_id": row.org_id,
        "enabled": row.enabled,
        "send_time": row.send_time,
        "timezone": row.timezone,
        "recipients": list(row.recipients or []),
        "lang": row.lang,
        "weekly": row.weekly_enabled,
        "monthly": row.monthly_enabled,
        "enabled_at": row.enabled_at.isoformat() if row.enabled_at else None,
    }
