"""The scope a workspace person or a digest reads with, and its SQL filter.

`scope_for(org_id)` loads the agreements in force now (so a revocation takes effect on the
next request) and resolves their area codes to the owner's area ids; `visible(...)` turns
a scope into the WHERE clause of a report or incident query.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select

from server.extensions import db
from server.geography.models import Area
from server.sharing.rules import Grant, Scope
from server.sharing.service import granted_to

# Roles that read what other organisations share (server.auth.models.ROLES): analysts and
# viewers read their own organisation only, so a narrow agreement stays narrow.
SHARED_READERS = frozenset({"admin", "coordinator"})


def scope_for(org_id: int, role: str | None = "coordinator") -> Scope:
    """Return what the organisation (as a person of `role`) may read now."""
    if role not in SHARED_READERS:
        return Scope.own(org_id)
    agreements = granted_to(org_id)
    codes = {(a.from_org, code) for a in agreements for code in a.areas or ()}
    area_ids: dict[tuple[int, str], int] = {}
    if codes:
        owners = {owner for owner, _ in codes}
        for area_id, owner, code in db.session.execute(
            select(Area.id, Area.org_id, Area.code).where(Area.org_id.in_(owners))
        ):
            area_ids[(owner, code)] = area_id
    grants = tuple(
        Grant(
            owner=a.from_org,
            detail=a.detail,
            categories=a.categories,
            # An area code that no longer exists resolves to nothing: the grant narrows.
            area_ids=None if a.areas is None else _resolved(a.from_org, a.areas, area_ids),
        )
        for a in agreements
    )
    return Scope(org_id, grants)


def _resolved(owner: int, codes: frozenset[str], ids: dict[tuple[int, str], int]) -> frozenset[int]:
    """Return the ids of the owner's areas with these codes (unknown codes give nothing)."""
    return frozenset(ids[(owner, c)] for c in codes if (owner, c) in ids)


def visible(
    scope: Scope, org_col: object, category_col: object, area_col: object, wanted: str = "counts"
) -> ColumnElement[bool]:
    """Return the WHERE clause for rows the scope may see at the wanted level or more."""
    clauses: list[ColumnElement[bool]] = [org_col == scope.viewer]  # type: ignore[list-item]
    for g in scope.grants_at_least(wanted):
        parts = [org_col == g.owner]
        if g.categories is not None:
            parts.append(category_col.in_(sorted(g.categories)) if g.categories else false())  # type: ignore[attr-defined]
        if g.area_ids is not None:
            parts.append(area_col.in_(sorted(g.area_ids)) if g.area_ids else false())  # type: ignore[attr-defined]
        clauses.append(and_(*parts))  # type: ignore[arg-type]
    return or_(*clauses)
