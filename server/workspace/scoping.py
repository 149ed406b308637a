"""What the logged-in person may read of other organisations, and how shared items are named.

One scope per request (`current_scope`), loaded from the agreements in force now, so a
revocation takes effect on the next page load. Every page that lists, counts or shows
reports or incidents reads with it; `owner_label` names the owner on every shared item.
"""

from __future__ import annotations

from typing import Any

from server.geography.service import list_areas
from server.orgs.service import organisations_by_id
from server.sharing.rules import Scope
from server.sharing.scope import scope_for
from server.workspace.auth import user
from server.workspace.i18n import t
from server.workspace.labels import request_cache


def current_scope() -> Scope:
    """Return what the logged-in person's organisation may read now (cached per request)."""
    cache = request_cache()
    if "scope" not in cache:
        me = user()
        if me is None:
            raise LookupError("no logged-in person")
        cache["scope"] = scope_for(me.org.id, me.role)
    return cache["scope"]


def owner_label(org_id: int) -> str:
    """Name an owning organisation with its kind: "Väktarbolaget Syd (vaktbolag)"."""
    cache = request_cache()
    names: dict[int, str] = cache.setdefault("owner-labels", {})
    if org_id not in names:
        org = organisations_by_id({org_id}).get(org_id)
        names[org_id] = (
            t("shared.owner", name=org.name, kind=t(f"org.kind.{org.kind}")) if org else "?"
        )
    return names[org_id]


def scope_area_names(scope: Scope, wanted: str = "counts", labelled: bool = True) -> dict[int, str]:
    """Map area ids to names: the viewer's own, then the sharing organisations'.

    `labelled` adds the organisation to another's area names, for a choice among all of
    them (a filter); a shared row names its owner already and shows the plain name.
    """
    cache = request_cache()
    key = f"scope-areas-{scope.viewer}-{wanted}-{labelled}"
    if key not in cache:
        names = {a.id: a.name for a in list_areas(scope.viewer)}
        for owner in sorted(scope.owners(wanted) - {scope.viewer}):
            label = organisations_by_id({owner}).get(owner)
            for a in list_areas(owner):
                owner_name = label.name if label else "?"
                names[a.id] = f"{a.name} ({owner_name})" if labelled else a.name
        cache[key] = names
    return cache[key]


def shared_marks(scope: Scope, owner: int, category: str, area_id: int | None) -> dict[str, Any]:
    """Describe an item's ownership for a template: own, or whose and at what detail."""
    detail = scope.detail(owner, category, area_id)
    own = owner == scope.viewer
    return {
        "own": own,
        "detail": detail,
        "owner": "" if own else owner_label(owner),
        "free_text": detail == "full",
    }
