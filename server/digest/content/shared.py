"""What the digest needs to know about the organisations that share with its own.

The digest reads with a `Scope` (server.sharing): its own items in full, and what the
agreements in force grant. This module names the sharing organisations, their areas and
named places, and fingerprints the scope so an archived copy can tell whether it was built
under the agreements in force now (`server.digest.archive`).
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from server.digest.content.model import Owner
from server.extensions import db
from server.geography.models import Area, NamedPlace
from server.orgs.service import organisations_by_id
from server.sharing.rules import Scope, at_least


def owners_of(scope: Scope) -> tuple[Owner, ...]:
    """Return the organisations sharing anything with the viewer, by name."""
    best: dict[int, str] = {}
    for g in scope.grants:
        if g.owner != scope.viewer and (g.owner not in best or at_least(g.detail, best[g.owner])):
            best[g.owner] = g.detail
    orgs = organisations_by_id(set(best))
    return tuple(
        sorted(
            (Owner(o.id, o.name, o.kind, best[o.id]) for o in orgs.values()),
            key=lambda o: (o.name.casefold(), o.id),
        )
    )


def area_names(scope: Scope, owners: tuple[Owner, ...]) -> dict[int, str]:
    """Map area ids to names: the viewer's own as they are, a sharing organisation's named.

    A shared area carries its organisation's name ("Centrum (Väktarbolaget Syd)"): two
    organisations may both have a "Centrum", and the numbers must not be read as one.
    """
    names: dict[int, str] = dict(
        db.session.execute(select(Area.id, Area.name).where(Area.org_id == scope.viewer)).all()
    )
    org_names = {o.id: o.name for o in owners}
    if org_names:
        for area_id, org_id, name in db.session.execute(
            select(Area.id, Area.org_id, Area.name).where(Area.org_id.in_(sorted(org_names)))
        ):
            names[area_id] = f"{name} ({org_names[org_id]})"
    return names


def place_names(scope: Scope) -> dict[int, str]:
    """Map the named places of the viewer and of those sharing incidents with it to names."""
    owners = sorted(scope.owners("reports"))
    return dict(
        db.session.execute(
            select(NamedPlace.id, NamedPlace.name).where(NamedPlace.org_id.in_(owners))
        ).all()
    )


def scope_key(scope: Scope) -> str | None:
    """Fingerprint what the scope grants; None when it reads only its own items."""
    if not scope.shares:
        return None
    grants = sorted(
        json.dumps(
            [
                g.owner,
                g.detail,
                sorted(g.categories) if g.categories is not None else None,
                sorted(g.area_ids) if g.area_ids is not None else None,
            ]
        )
        for g in scope.grants
    )
    canonical = json.dumps([scope.viewer, grants])
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
