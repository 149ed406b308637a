"""Make, list and revoke sharing agreements; load the ones that apply to an organisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select

from analysis.calendar import STOCKHOLM, supported, wall_clock
from server.audit import service as audit
from server.audit.service import CLI, Actor
from server.categories.service import category_codes
from server.domain_errors import Invalid, NotFound
from server.extensions import db
from server.geography.service import list_areas
from server.orgs.models import Organisation
from server.orgs.service import all_organisations
from server.sharing.models import SharingAgreement
from server.sharing.rules import DETAILS, Agreement
from sync.clock import utcnow


@dataclass(frozen=True)
class AgreementView:
    """An agreement with its organisations, as lists and the CLI show it."""

    row: SharingAgreement
    from_org: Organisation
    to_org: Organisation

    def as_dict(self, now: datetime) -> dict[str, object]:
        """Describe the agreement for JSON output."""
        r = self.row
        return {
            "id": r.id,
            "from": {
                "id": self.from_org.id,
                "slug": self.from_org.slug,
                "kind": self.from_org.kind,
            },
            "to": {"id": self.to_org.id, "slug": self.to_org.slug, "kind": self.to_org.kind},
            "detail": r.detail,
            "categories": r.categories,
            "areas": r.areas,
            "starts_at": r.starts_at.isoformat(),
            "ends_at": r.ends_at.isoformat() if r.ends_at else None,
            "last_day": last_day(r).isoformat() if r.ends_at else None,
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            "in_force": to_rule(r).in_force(now),
        }


def last_day(row: SharingAgreement) -> date | None:
    """Return the last local day an agreement with an end applies (its end is exclusive)."""
    if row.ends_at is None:
        return None
    return (row.ends_at.astimezone(STOCKHOLM) - timedelta(microseconds=1)).date()


def to_rule(row: SharingAgreement) -> Agreement:
    """Give the pure rule the agreement's facts."""
    return Agreement(
        id=row.id,
        from_org=row.from_org_id,
        to_org=row.to_org_id,
        detail=row.detail,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        revoked_at=row.revoked_at,
        categories=frozenset(row.categories) if row.categories is not None else None,
        areas=frozenset(row.areas) if row.areas is not None else None,
    )


def share(
    from_org: Organisation,
    to_org: Organisation,
    detail: str,
    categories: Sequence[str] | None = None,
    areas: Sequence[str] | None = None,
    until: date | None = None,
    actor: Actor = CLI,
) -> SharingAgreement:
    """Record that `from_org` shares with `to_org`; limits are checked against real codes."""
    if from_org.id == to_org.id:
        raise Invalid("same_organisation", "An organisation always sees its own reports.")
    if detail not in DETAILS:
        raise Invalid(
            "unknown_detail", f"Unknown detail {detail!r}; use one of {', '.join(DETAILS)}."
        )
    now = utcnow()
    chosen_categories = _checked(categories, category_codes()[0], "category")
    area_codes = {a.code for a in list_areas(from_org.id)}
    chosen_areas = _checked(areas, area_codes, f"area of {from_org.name}")
    ends_at = None
    if until is not None:
        if not supported(until):
            raise Invalid("invalid_until", "The end date must lie in 2000–2100.")
        # Through the whole last day, Stockholm time.
        ends_at = wall_clock(until + timedelta(days=1), time(0), STOCKHOLM).astimezone(UTC)
        if ends_at <= now:
            raise Invalid("invalid_until", "The end date has already passed.")
    row = SharingAgreement(
        from_org_id=from_org.id,
        to_org_id=to_org.id,
        detail=detail,
        categories=chosen_categories,
        areas=chosen_areas,
        starts_at=now,
        ends_at=ends_at,
        created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    _audit("sharing.create", row, from_org, to_org, actor)
    db.session.commit()
    return row


def _audit(
    action: str, row: SharingAgreement, from_org: Organisation, to_org: Organisation, actor: Actor
) -> None:
    """Write a share change into both organisations' audit logs (in the open transaction)."""
    target = f"{row.id} {from_org.slug} -> {to_org.slug} {row.detail}"
    audit.add(from_org.id, action, target, actor)
    audit.add(to_org.id, action, target, Actor())  # the receiving side: nobody of theirs acted


def _checked(chosen: Sequence[str] | None, known: set[str], what: str) -> list[str] | None:
    """Return the chosen codes sorted and unique, or None for all; refuse unknown ones."""
    if chosen is None:
        return None
    codes = sorted({c.strip() for c in chosen if c.strip()})
    if not codes:
        raise Invalid("empty_limit", f"Name at least one {what}, or leave the limit out.")
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise Invalid("unknown_code", f"Unknown {what}: {', '.join(unknown)}.")
    return codes


def agreements(org: Organisation | None = None) -> list[AgreementView]:
    """Return the agreements (of one organisation, either side), newest first."""
    query = select(SharingAgreement).order_by(SharingAgreement.id.desc())
    if org is not None:
        query = query.where(
            or_(SharingAgreement.from_org_id == org.id, SharingAgreement.to_org_id == org.id)
        )
    rows = list(db.session.scalars(query))
    orgs = {o.id: o for o in all_organisations()}
    return [AgreementView(r, orgs[r.from_org_id], orgs[r.to_org_id]) for r in rows]


def revoke(agreement_id: int, actor: Actor = CLI) -> AgreementView:
    """Revoke an agreement at once: the next request no longer sees what it shared."""
    row = db.session.get(SharingAgreement, agreement_id)
    if row is None:
        raise NotFound("not_found", f"no agreement with id {agreement_id}")
    view = AgreementView(
        row,
        db.session.get(Organisation, row.from_org_id),
        db.session.get(Organisation, row.to_org_id),
    )
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        _audit("sharing.revoke", row, view.from_org, view.to_org, actor)
        db.session.commit()
    return view


def granted_to(org_id: int) -> list[Agreement]:
    """Return every agreement in force that shares something with the organisation."""
    now = utcnow()
    rows = db.session.scalars(
        select(SharingAgreement).where(
            SharingAgreement.to_org_id == org_id, SharingAgreement.revoked_at.is_(None)
        )
    )
    return [rule for rule in map(to_rule, rows) if rule.in_force(now)]
