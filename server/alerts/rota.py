"""The on-call rota (jour) of an organisation: ordered levels of persons and a phone number."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import delete, select

from server.alerts.models import OnCallLevel, OnCallMember, OnCallRota
from server.audit import service as audit
from server.audit.service import CLI, Actor
from server.auth.models import Person
from server.domain_errors import Invalid
from server.extensions import db
from sync.clock import utcnow

DEFAULT_MINUTES = 5
MAX_MINUTES = 240
MAX_LEVELS = 5
# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
# [0-9], not \d: \d also matches other scripts' digits ("٦"), which no phone dials.
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# What people type between the digits of a phone number.
_SEPARATORS = re.compile(r"[\s\-().]")


@dataclass
class Level:
    """One level of the rota as the page and the escalation see it."""

    position: int
    minutes: int
    person_ids: list[int] = field(default_factory=list)


@dataclass
class Rota:
    """An organisation's rota: its levels in order and the on-call phone number."""

    org_id: int
    phone: str | None
    levels: list[Level]


def normalise_phone(raw: str) -> str | None:
    """Return the number in E.164 form ("+46701234567"), None when empty; refuse others."""
    text = _SEPARATORS.sub("", raw or "")
    if not text:
        return None
    if text.startswith("00"):  # the international prefix dialled in Sweden
        text = "+" + text[2:]
    if not _E164.match(text):
        raise Invalid(
            "invalid_phone",
            "The on-call number must be written internationally, e.g. +46701234567.",
        )
    return text


def load(org_id: int) -> Rota:
    """Read the organisation's rota (no levels and no phone when none is set)."""
    settings = db.session.get(OnCallRota, org_id)
    levels = list(
        db.session.scalars(
            select(OnCallLevel).where(OnCallLevel.org_id == org_id).order_by(OnCallLevel.position)
        )
    )
    members: dict[int, list[int]] = {lv.id: [] for lv in levels}
    if levels:
        for level_id, person_id in db.session.execute(
            select(OnCallMember.level_id, OnCallMember.person_id)
            .where(OnCallMember.level_id.in_(list(members)))
            .order_by(OnCallMember.person_id)
        ):
            members[level_id].append(person_id)
    return Rota(
        org_id,
        settings.phone if settings else None,
        [Level(lv.position, lv.minutes, members[lv.id]) for lv in levels],
    )


def save(org_id: int, phone: str, levels: list[Level], actor: Actor = CLI) -> Rota:
    """Replace the rota in the open transaction: levels without persons are dropped.

    Persons must be active persons of the organisation; minutes 1..MAX_MINUTES.
    """
    number = normalise_phone(phone)
    kept = [lv for lv in levels if lv.person_ids]
    if len(kept) > MAX_LEVELS:
        raise Invalid("too_many_levels", f"A rota has at most {MAX_LEVELS} levels.")
    allowed = set(
        db.session.scalars(
            select(Person.id).where(Person.org_id == org_id, Person.active.is_(True))
        )
    )
    for lv in kept:
        if not 1 <= lv.minutes <= MAX_MINUTES:
            raise Invalid("invalid_minutes", f"Minutes must be 1 to {MAX_MINUTES}.")
        if not set(lv.person_ids) <= allowed:
            raise Invalid("invalid_person", "Only active persons of the organisation.")
    settings = db.session.get(OnCallRota, org_id)
    if settings is None:
        settings = OnCallRota(org_id=org_id)
        db.session.add(settings)
    settings.phone = number
    settings.updated_at = utcnow()
    db.session.execute(delete(OnCallLevel).where(OnCallLevel.org_id == org_id))
    db.session.flush()
    for position, lv in enumerate(kept, start=1):
        row = OnCallLevel(org_id=org_id, position=position, minutes=lv.minutes)
        db.session.add(row)
        db.session.flush()
        for person_id in sorted(set(lv.person_ids)):
            db.session.add(OnCallMember(level_id=row.id, person_id=person_id))
    audit.add(org_id, "oncall.save", f"{len(kept)} levels", actor)
    db.session.flush()
    return load(org_id)


def is_member(org_id: int, person_id: int) -> bool:
    """Tell whether the person is on any level of the organisation's rota."""
    found = db.session.scalar(
        select(OnCallMember.person_id)
        .join(OnCallLevel, OnCallLevel.id == OnCallMember.level_id)
        .where(OnCallLevel.org_id == org_id, OnCallMember.person_id == person_id)
        .limit(1)
    )
    return found is not None


def in_use(org_id: int | None = None) -> bool:
    """Tell whether an organisation (any, when None) has a rota with at least one level."""
    query = select(OnCallLevel.id).limit(1)
    if org_id is not None:
        query = query.where(OnCallLevel.org_id == org_id)
    return db.session.scalar(query) is not None


def orgs_in_use() -> list[int]:
    """Return the organisations whose rota has levels (only they get alerts)."""
    return list(
        db.session.scalars(select(OnCallLevel.org_id).distinct().order_by(OnCallLevel.org_id))
    )


def on_call_phone(org_id: int) -> str | None:
    """Return the organisation's on-call number for the field app, or None."""
    return db.session.scalar(select(OnCallRota.phone).where(OnCallRota.org_id == org_id))
