"""The demo's åtgärdsplan: a handful of actions in every status, one of them overdue.

Made from the demo municipality's own incidents of the last weeks (a lamp, a bush, a
gathering place), as a coordinator would after the weekly lägesbild meeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from server.actions import service as actions
from server.actions.schemas import action_in, status_in
from server.audit.service import CLI
from server.extensions import db
from server.incidents.models import Incident


@dataclass(frozen=True)
class DemoAction:
    """One demo action: what, whose, due when (days from today) and how far it got."""

    category: str | None  # the category of the incident it is made from (None: no source)
    text: str
    owner_kind: str
    owner_name: str
    priority: str
    due_in_days: int
    path: tuple[str, ...]  # the statuses it moved through after föreslagen
    reason: str = ""


ACTIONS = (
    DemoAction(
        "miljo",
        "Byt trasiga armaturer längs gång- och cykelvägen",
        "kommun",
        "Tekniska förvaltningen, gatubelysning",
        "hog",
        -5,
        ("beslutad",),
    ),
    DemoAction(
        "skadegorelse",
        "Sanera klotter och byt krossat glas i busskuren",
        "fastighetsagare",
        "Staffanstorpshus AB",
        "normal",
        10,
        ("beslutad", "pagar"),
    ),
    DemoAction(
        "otrygg_plats",
        "Beskär buskarna vid stationens cykelparkering så att sikten blir fri",
        "kommun",
        "Park och natur",
        "normal",
        -20,
        ("beslutad", "pagar", "klar"),
    ),
    DemoAction(
        "samling",
        "Extra polispatrull vid torget fredagar 21–24",
        "polis",
        "Lokalpolisområde Lund",
        "normal",
        30,
        ("avslagen",),
        reason="Ersätts av fältarnas närvaro fredagar; följs upp i nästa lägesbild.",
    ),
    DemoAction(
        None,
        "Trygghetsvandring i Hjärup med boende och fastighetsägare i vår",
        "kommun",
        "Trygghetssamordnaren",
        "lag",
        90,
        (),
    ),
)


def seed_actions(org_id: int, today: date) -> int:
    """Create the demo actions of the organisation; return how many were made."""
    made = 0
    for spec in ACTIONS:
        source = _latest_incident(org_id, spec.category) if spec.category else None
        item = action_in(
            spec.text,
            spec.owner_kind,
            spec.owner_name,
            spec.priority,
            (today + timedelta(days=spec.due_in_days)).isoformat(),
            incident_ids=[str(source)] if source else [],
        )
        number = actions.create(org_id, item, CLI).id
        for status in spec.path:
            done = (today - timedelta(days=2)).isoformat() if status == "klar" else ""
            change = status_in(status, reason=spec.reason, done_date=done)
            actions.set_status(org_id, number, change, CLI)
        made += 1
    return made


def _latest_incident(org_id: int, category: str | None) -> object | None:
    """Return the organisation's latest incident of a category, if it has one."""
    return db.session.scalar(
        select(Incident.id)
        .where(Incident.org_id == org_id, Incident.category_code == category)
        .order_by(Incident.first_at.desc())
        .limit(1)
    )
