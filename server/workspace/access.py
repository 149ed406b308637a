"""Who may open what: one table of every workspace endpoint and method, and its roles.

The blueprint's before-request hook (server.workspace.hooks) asks `allowed()` before any
view runs: a visitor who is not logged in goes to the login page, a logged-in person
without the right gets the 403 page. An endpoint or method missing from the table is
refused for everybody (a new route is closed until it gets a line here), and
tests/api/test_permissions.py fails until it does.

Roles (one organisation; server.auth.models.ROLES):
- admin: everything a coordinator may (the organisation's persons, devices, areas,
  categories and agreements are managed with the `lagesbild` command today);
- coordinator: reads everything of its organisation and decides on its incidents;
- analyst: read-only insight without free text: trends, places, the map and the exports
  (descriptions, comments, the reporters' place texts, summaries and photos left out);
- viewer: read-only night view, incidents, an incident with its photos, and the digest.
"""

from __future__ import annotations

from typing import Final

from server.auth.models import ROLES

# Anybody, logged in or not (the login form, static files of the pages).
PUBLIC: Final = "public"
# Any logged-in role, and a visitor whose session just ended (logging out is harmless).
SESSION: Final = "session"

ALL = frozenset(ROLES)
EDITORS = frozenset({"admin", "coordinator"})
# Roles that may read free text: descriptions, comments, summaries, place texts, photos.
FREE_TEXT = frozenset({"admin", "coordinator", "viewer"})
# The organisation's own administration: agreements and the audit log.
ADMINS = frozenset({"admin"})
# Roles that may use the insight pages (counts, trends, places, map) and the exports.
INSIGHT = frozenset({"admin", "coordinator", "analyst"})

Rule = frozenset[str] | str

ACCESS: Final[dict[tuple[str, str], Rule]] = {
    ("workspace.login", "GET"): PUBLIC,
    ("workspace.login", "POST"): PUBLIC,
    ("workspace.static", "GET"): PUBLIC,
    ("workspace.vendor", "GET"): PUBLIC,
    ("workspace.logout", "POST"): SESSION,
    ("workspace.logout_everywhere", "POST"): SESSION,
    # Pages with free text.
    ("workspace.night", "GET"): FREE_TEXT,
    ("workspace.incident_list", "GET"): FREE_TEXT,
    ("workspace.incident", "GET"): FREE_TEXT,
    ("workspace.photo", "GET"): FREE_TEXT,
    ("workspace.digest", "GET"): FREE_TEXT,
    ("workspace.digest_run", "GET"): FREE_TEXT,
    ("workspace.digest_run_document", "GET"): FREE_TEXT,
    ("workspace.lagesbild", "GET"): FREE_TEXT,
    ("workspace.lagesbild_document", "GET"): FREE_TEXT,
    # Safety walks: the list and the protocol hold free text and photos; planning is an edit.
    ("workspace.walks_page", "GET"): FREE_TEXT,
    ("workspace.walk_protocol", "GET"): FREE_TEXT,
    ("workspace.walk_create", "POST"): EDITORS,
    ("workspace.walk_edit", "GET"): EDITORS,
    ("workspace.walk_update", "POST"): EDITORS,
    ("workspace.walk_status", "POST"): EDITORS,
    ("workspace.walk_follow_up", "GET"): EDITORS,
    # Guard rounds: checkpoints carry their QR tokens, so the lists and labels are the
    # editors'; the week view holds the guards' end reasons (free text).
    ("workspace.rounds_page", "GET"): EDITORS,
    ("workspace.checkpoint_create", "POST"): EDITORS,
    ("workspace.round_create", "POST"): EDITORS,
    ("workspace.checkpoint_edit", "GET"): EDITORS,
    ("workspace.checkpoint_update", "POST"): EDITORS,
    ("workspace.checkpoint_active", "POST"): EDITORS,
    ("workspace.round_edit", "GET"): EDITORS,
    ("workspace.round_update", "POST"): EDITORS,
    ("workspace.round_active", "POST"): EDITORS,
    ("workspace.round_labels", "GET"): EDITORS,
    ("workspace.rounds_week", "GET"): FREE_TEXT,
    # The åtgärdsplan: action texts are free text; changes are the editors'.
    ("workspace.atgardsplan", "GET"): FREE_TEXT,
    ("workspace.action", "GET"): FREE_TEXT,
    ("workspace.actions_csv", "GET"): FREE_TEXT,
    ("workspace.actions_geojson", "GET"): FREE_TEXT,
    ("workspace.action_new", "GET"): EDITORS,
    ("workspace.action_create", "POST"): EDITORS,
    ("workspace.action_status", "POST"): EDITORS,
    ("workspace.action_edit", "POST"): EDITORS,
    # The weekly EST export: counts and rounded positions, no free text.
    ("workspace.est_export", "GET"): INSIGHT,
    # Insight: counts and positions; the map leaves free text out for an analyst.
    ("workspace.map", "GET"): INSIGHT,
    ("workspace.map_data", "GET"): INSIGHT,
    ("workspace.trends", "GET"): INSIGHT,
    ("workspace.places", "GET"): INSIGHT,
    ("workspace.incidents_csv", "GET"): INSIGHT,
    ("workspace.reports_csv", "GET"): INSIGHT,
    ("workspace.incidents_geojson", "GET"): INSIGHT,
    # Decisions.
    ("workspace.set_status", "POST"): EDITORS,
    ("workspace.set_responsible", "POST"): EDITORS,
    ("workspace.comment", "POST"): EDITORS,
    ("workspace.merge", "POST"): EDITORS,
    ("workspace.split", "POST"): EDITORS,
    ("workspace.move", "POST"): EDITORS,
    ("workspace.name_place", "POST"): EDITORS,
    ("workspace.digest_send", "POST"): EDITORS,
    # Administration.
    ("workspace.sharing", "GET"): ADMINS,
    ("workspace.share", "POST"): ADMINS,
    ("workspace.revoke_share", "POST"): ADMINS,
    ("workspace.audit", "GET"): ADMINS,
    ("workspace.audit_csv", "GET"): ADMINS,
    # Urgent alerts (docs/alerts.md): the rota is the editors'; anybody may be on it, so
    # every role turns notifications on for itself and opens an alert. Acknowledging is
    # for editors and persons on the rota: the view checks the rota (403 for the others).
    ("workspace.oncall", "GET"): EDITORS,
    ("workspace.oncall_save", "POST"): EDITORS,
    ("workspace.notifications", "GET"): ALL,
    ("workspace.push_subscribe", "POST"): ALL,
    ("workspace.push_unsubscribe", "POST"): ALL,
    ("workspace.workspace_sw", "GET"): PUBLIC,
    ("workspace.alert_page", "GET"): ALL,
    ("workspace.alert_ack", "POST"): ALL,
    # Erasing a report for good (with its photos and archived copies) is the admins'.
    ("workspace.erase_report", "POST"): ADMINS,
}


def rule(endpoint: str | None, method: str) -> Rule | None:
    """Return the table's rule for an endpoint and method (HEAD as GET), or None."""
    if endpoint is None:
        return None
    return ACCESS.get((endpoint, "GET" if method == "HEAD" else method))


def is_open(endpoint: str | None, method: str) -> bool:
    """Tell whether a visitor who is not logged in may use the endpoint."""
    return rule(endpoint, method) in (PUBLIC, SESSION)


def allowed(role: str | None, endpoint: str | None, method: str) -> bool:
    """Tell whether a person of `role` (None: not logged in) may use the endpoint."""
    found = rule(endpoint, method)
    if found is None:
        return False
    if found in (PUBLIC, SESSION):
        return True
    return role is not None and role in found


# Where a person lands after logging in, or from an error page: the first page their
# role may open.
HOMES = ("workspace.night", "workspace.map", "workspace.sharing")


def home(role: str | None) -> str:
    """Return the endpoint of the role's start page (the night view for most)."""
    return next((e for e in HOMES if allowed(role, e, "GET")), "workspace.night")


def reads_free_text(role: str | None) -> bool:
    """Tell whether the role may see free text (descriptions, comments, place texts)."""
    return role in FREE_TEXT
