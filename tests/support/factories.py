"""Builders for test data: organisations, enrolled devices and report payloads."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from server.devices import service as devices
from server.devices.models import Device
from server.orgs import service as orgs
from server.orgs.models import Organisation

_counter = itertools.count(1)
STOCKHOLM_WINTER = timezone(timedelta(hours=1))


@dataclass
class EnrolledDevice:
    """A device with its bearer token."""

    device: Device
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Return the Authorization header for this device."""
        return {"Authorization": f"Bearer {self.token}"}


def make_org(name: str | None = None, kind: str = "kommun") -> Organisation:
    """Create an organisation."""
    return orgs.create(name or f"Testkommun {next(_counter)}", kind)


def make_device(
    org: Organisation, name: str | None = None, kind: str = "vaktare"
) -> EnrolledDevice:
    """Create and enrol a device through the real enrolment path."""
    issued = devices.issue_code(org, name or f"Telefon {next(_counter)}", kind, 24)
    device, token = devices.enrol(issued.code)
    return EnrolledDevice(device, token)


def report(**overrides: Any) -> dict[str, Any]:
    """Build a valid push payload (a fresh id, a time ten minutes ago)."""
    when = datetime.now(UTC).astimezone(STOCKHOLM_WINTER) - timedelta(minutes=10)
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "created_at": when.isoformat(timespec="seconds"),
        "category": "skadegorelse",
        "severity": 2,
        "description": "Klotter på busskuren.",
        "location": {"lat": 55.6398, "lon": 13.2083, "accuracy_m": 12.0},
        "place": "Busskuren Malmövägen",
        "people_count": None,
        "photos": [],
    }
    body.update(overrides)
    return body


# --- workspace: persons who log in, and report times in last night's window ----------------

PERSON_PASSWORD = "rätt-häst-batteri-häftklammer"


@dataclass
class Login:
    """A person who can log in to the workspace, with the password in clear."""

    person: Any
    email: str
    password: str


def make_person(
    org: Organisation,
    role: str = "coordinator",
    email: str | None = None,
    password: str = PERSON_PASSWORD,
) -> Login:
    """Create a person (admin, coordinator, analyst or viewer) of the organisation."""
    from server.auth import service as auth

    email = email or f"person{next(_counter)}@example.se"
    return Login(auth.create(org, email, role, password), email, password)


def last_night_at(hour: int, minute: int = 0) -> datetime:
    """Return a local time in last night's window (18:00–06:00, Europe/Stockholm).

    Only evening hours (18–23) are accepted: they lie in the past whatever the time now,
    even while the night is still in progress.
    """
    from analysis.calendar import last_night

    if not 18 <= hour <= 23:
        raise ValueError("use an evening hour (18-23): it is always in the past")
    start, _end = last_night(datetime.now(UTC))
    return start + timedelta(hours=hour - 18, minutes=minute)


def night_report(hour: int, minute: int = 0, **overrides: Any) -> dict[str, Any]:
    """Build a push payload created last night at hour:minute local time."""
    when = last_night_at(hour, minute)
    return report(created_at=when.isoformat(timespec="seconds"), **overrides)
