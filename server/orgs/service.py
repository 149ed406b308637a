"""Organisation rules."""

from __future__ import annotations

from sqlalchemy import select

from server.domain_errors import Invalid, NotFound
from server.extensions import db
from server.orgs.models import ORG_KINDS, ChangeCounter, Organisation
from sync.ids import slugify


def create(name: str, kind: str = "kommun") -> Organisation:
    """Create an organisation with its change counter."""
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("invalid_name", "the organisation name must be 1–200 characters")
    if kind not in ORG_KINDS:
        raise Invalid(
            "unknown_kind",
            f"unknown organisation kind {kind!r}; use one of {', '.join(ORG_KINDS)}",
        )
    slug = slugify(name) or "org"
    for clash in db.session.scalars(select(Organisation)):
        if clash.name.casefold() == name.casefold() or clash.slug == slug:
            raise Invalid(
                "exists", f"an organisation named {clash.name!r} (slug {clash.slug}) exists"
            )
    org = Organisation(name=name, slug=slug, kind=kind)
    db.session.add(org)
    db.session.flush()
    db.session.add(ChangeCounter(org_id=org.id, value=0))
    db.session.commit()
    return org


def find(name_or_slug: str) -> Organisation:
    """Find an organisation by its name (any case, Å/Ä/Ö included) or its slug."""
    key = name_or_slug.strip().casefold()
    # Compared in Python: SQLite's lower() folds ASCII only, and organisations are few.
    for org in db.session.scalars(select(Organisation)):
        if key in (org.name.casefold(), org.slug):
            return org
    raise NotFound("not_found", f"no organisation named {name_or_slug!r}")


def all_organisations() -> list[Organisation]:
    """Return every organisation by name."""
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def organisations_by_id(ids: set[int]) -> dict[int, Organisation]:
    """Return the organisations with these ids."""
    if not ids:
        return {}
    rows = db.session.scalars(select(Organisation).where(Organisation.id.in_(sorted(ids))))
    return {o.id: o for o in rows}
