"""The audit log as admins read it: the organisation's entries, filtered, newest first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select

from analysis.calendar import days_window, supported
from server.audit.models import AuditEntry
from server.auth.models import Person
from server.db import phase
from server.domain_errors import Invalid
from server.extensions import db

PAGE_SIZE = 100
# An export holds at most this many entries (the newest); narrow the filter for older ones.
EXPORT_LIMIT = 50_000
FILTER_FIELDS = ("from", "to", "action", "person", "address")


@dataclass(frozen=True)
class AuditFilter:
    """What an admin asked for: local calendar days (inclusive) and exact or partial text."""

    start: datetime | None = None
    end: datetime | None = None  # exclusive: the start of the day after "to"
    action: str = ""
    person: str = ""  # part of an e-mail address; "-" for the command line
    address: str = ""  # the start of a client address
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRow:
    """One entry as the page and the export show it."""

    at: datetime
    email: str | None  # None for the command line
    action: str
    target: str
    client_address: str | None


@dataclass(frozen=True)
class AuditPage:
    """One page of entries and where it sits in the whole."""

    rows: list[AuditRow]
    page: int
    pages: int
    total: int
    actions: list[str]


def _day(text: str, name: str) -> date | None:
    """Read a YYYY-MM-DD day in the years the app works with, or raise Invalid."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not supported(day):
        raise Invalid("invalid_date", f"{name} must be a date (YYYY-MM-DD) in 2000–2100")
    return day


def parse_filter(args: Mapping[str, str]) -> AuditFilter:
    """Read the filter from a query string, or raise Invalid."""
    values = {name: str(args.get(name, "")).strip()[:200] for name in FILTER_FIELDS}
    first = _day(values["from"], "from")
    last = _day(values["to"], "to")
    return AuditFilter(
        start=days_window(first, first)[0] if first else None,
        end=days_window(last, last)[1] if last else None,
        action=values["action"],
        person=values["person"].lower(),
        address=values["address"],
        values=values,
    )


def parse_page(text: str) -> int:
    """Read a page number (1 and up), or raise Invalid."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 1_000_000:
        raise Invalid("invalid_page", "page must be a whole number from 1")
    return int(text)


def _like(text: str) -> str:
    """Escape a LIKE pattern's wildcards, so a filter matches its text literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _query(org_id: int, f: AuditFilter) -> Select[Any]:
    """Select the organisation's entries that match the filter, with the person's e-mail."""
    q = (
        select(AuditEntry, Person.email)
        .outerjoin(Person, Person.id == AuditEntry.person_id)
        .where(AuditEntry.org_id == org_id)
    )
    if f.start is not None:
        q = q.where(AuditEntry.at >= f.start)
    if f.end is not None:
        q = q.where(AuditEntry.at < f.end)
    if f.action:
        q = q.where(AuditEntry.action == f.action)
    if f.person == "-":
        q = q.where(AuditEntry.person_id.is_(None))
    elif f.person:
        q = q.where(func.lower(Person.email).like(f"%{_like(f.person)}%", escape="\\"))
    if f.address:
        q = q.where(AuditEntry.client_address.like(f"{_like(f.address)}%", escape="\\"))
    return q


def _rows(q: Select[Any]) -> list[AuditRow]:
    """Turn selected entries into rows."""
    return [
        AuditRow(e.at, email, e.action, e.target, e.client_address)
        for e, email in db.session.execute(q)
    ]


def audit_page(org_id: int, f: AuditFilter, page: int) -> AuditPage:
    """Return one page of the organisation's matching entries, newest first."""
    with phase("read"):
        q = _query(org_id, f)
        total = db.session.scalar(select(func.count()).select_from(q.subquery())) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(page, pages)
        ordered = q.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        rows = _rows(ordered.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
        actions = db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.org_id == org_id)
            .distinct()
            .order_by(AuditEntry.action)
        ).all()
    return AuditPage(rows, page, pages, total, list(actions))


def audit_export(org_id: int, f: AuditFilter) -> list[AuditRow]:
    """Return the organisation's matching entries for an export, newest first."""
    with phase("read"):
        q = _query(org_id, f).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        return _rows(q.limit(EXPORT_LIMIT))
