"""The workspace's own questions to the database, so that its views only parse and render.

Queries that belong to a domain live in that domain's service (incidents, photos,
geography); these are the ones only the workspace asks: its audit log, its logins, and the
small checks around a coordinator's decisions, named places and digest runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select

from server.audit import service as audit
from server.audit.service import Actor
from server.auth.models import Person
from server.db import phase
from server.digest.models import DigestRun
from server.extensions import db
from server.geography.models import NamedPlace
from server.incidents.models import Incident
from server.incidents.service import IncidentError
from server.orgs.models import Organisation
from server.reports.models import Report

T = TypeVar("T")

# --- audit log ------------------------------------------------------------------------------


def record_audit(
    org_id: int, person_id: int, action: str, target: str = "", address: str | None = None
) -> None:
    """Write who viewed, exported or changed what, from where, in its own short write."""
    audit.record(org_id, action, target, Actor(person_id, address))


def record_failed_login(email: str, address: str | None) -> None:
    """Log a failed login of an existing account (nothing for an unknown address)."""
    with phase("write"):
        person = person_by_email(email)
        if person is not None:
            audit.add(person.org_id, "login_failed", "", Actor(person.id, address))


# --- persons --------------------------------------------------------------------------------


def person_by_email(email: str) -> Person | None:
    """Return the person with this (normalised) e-mail address, if any."""
    return db.session.scalar(select(Person).where(func.lower(Person.email) == email))


def person_with_org(person_id: int) -> tuple[Person, Organisation] | None:
    """Return a person and their organisation, read afresh (None when either is gone)."""
    person = db.session.get(Person, person_id)
    if person is None:
        return None
    org = db.session.get(Organisation, person.org_id)
    return None if org is None else (person, org)


def emails(person_ids: set[int | None]) -> dict[int, str]:
    """Map person ids to e-mail addresses (coordinators are colleagues, not reporters)."""
    return {pid: email for pid, (email, _org) in people(person_ids).items()}


def people(person_ids: set[int | None]) -> dict[int, tuple[str, int]]:
    """Map person ids to (e-mail address, organisation id)."""
    ids = [i for i in person_ids if i is not None]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Person.id, Person.email, Person.org_id).where(Person.id.in_(ids))
    )
    return {pid: (email, org_id) for pid, email, org_id in rows}


# --- incidents and their reports ------------------------------------------------------------


def incident_of_report(org_id: int, report_id: uuid.UUID) -> uuid.UUID | None:
    """Return the incident an organisation's report belongs to now (None if no such report)."""
    return db.session.scalar(
        select(Report.incident_id).where(Report.id == report_id, Report.org_id == org_id)
    )


def report_in_incident(org_id: int, incident_id: uuid.UUID, report_id: uuid.UUID) -> bool:
    """Tell whether the report is (still) one of this incident's."""
    found = db.session.scalar(
        select(Report.id).where(
            Report.id == report_id, Report.org_id == org_id, Report.incident_id == incident_id
        )
    )
    return found is not None


def incident_exists(org_id: int, incident_id: uuid.UUID) -> bool:
    """Tell whether the organisation's incident still exists (a merge or a move removes one).

    Another organisation's incident counts as missing: an answer must not reveal it.
    """
    found = db.session.scalar(
        select(Incident.id).where(Incident.id == incident_id, Incident.org_id == org_id)
    )
    db.session.commit()
    return found is not None


def decide(action: Callable[[], T]) -> T:
    """Run a coordinator's decision; when it is refused, undo its half-made changes."""
    try:
        return action()
    except (IncidentError, LookupError):
        db.session.rollback()
        raise


# --- named places ---------------------------------------------------------------------------


def named_place_counts(org_id: int, since: datetime) -> dict[int, int]:
    """Count the reports per named place since `since` (bounded by the time index)."""
    rows = db.session.execute(
        select(Report.place_id, func.count())
        .where(
            Report.org_id == org_id,
            Report.created_at >= since,
            Report.place_id.is_not(None),
        )
        .group_by(Report.place_id)
    )
    return {place_id: n for place_id, n in rows}


def place_name_taken(org_id: int, name: str) -> bool:
    """Tell whether the organisation already has a named place with this name."""
    found = db.session.scalar(
        select(NamedPlace.id).where(NamedPlace.org_id == org_id, NamedPlace.name == name)
    )
    return found is not None


# --- digest runs ----------------------------------------------------------------------------


def digest_run(org_id: int, run_id: int) -> DigestRun | None:
    """Return a digest run of the organisation, read afresh (another's is None)."""
    with phase("read"):
        return db.session.scalar(
            select(DigestRun)
            .where(DigestRun.id == run_id, DigestRun.org_id == org_id)
            .execution_options(populate_existing=True)
        )


def digest_archive(org_id: int, limit: int) -> list[DigestRun]:
    """Return the organisation's latest digest runs, newest first."""
    with phase("read"):
        return list(
            db.session.scalars(
                select(DigestRun)
                .where(DigestRun.org_id == org_id)
                .order_by(DigestRun.day.desc(), DigestRun.scheduled_for.desc(), DigestRun.id)
                .limit(limit)
                .execution_options(populate_existing=True)
            )
        )
