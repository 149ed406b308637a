"""A shared lägesbild for tests: four organisations, their persons, reports and agreements.

- `kommun` (the viewer of most tests) has its own report and persons of every role;
- `vakt` (vaktbolag) shares everything with the municipality (`full`);
- `hus` (bostadsbolag) shares only damage (`skadegorelse`) without free text (`reports`);
  its environment report (`miljo`) is not shared;
- the municipality gives the housing company the numbers (`counts`);
- `annan` shares nothing with anybody.

Every free text carries its organisation's marker, so a test can tell exactly what leaked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from flask import current_app

from server.extensions import db
from server.orgs.models import Organisation
from server.reports.models import Report
from server.sharing import service as sharing
from server.sharing.models import SharingAgreement
from tests.support import factories
from tests.support.factories import EnrolledDevice, Login
from tests.support.workspace import push

ROLES = ("admin", "coordinator", "analyst", "viewer")
# Free-text markers: each appears only in its organisation's descriptions and place texts.
MARK = {
    "kommun": "KOMMUNTEXT",
    "vakt": "VAKTTEXT",
    "hus": "HUSTEXT",
    "annan": "ANNANTEXT",
}


@dataclass
class Party:
    """One organisation of the scene with its persons, device and incidents by category."""

    org: Organisation
    device: EnrolledDevice
    persons: dict[str, Login]
    incidents: dict[str, uuid.UUID] = field(default_factory=dict)  # category -> incident
    reports: dict[str, str] = field(default_factory=dict)  # category -> report id


@dataclass
class SharedScene:
    """The four organisations and the three agreements between them."""

    kommun: Party
    vakt: Party
    hus: Party
    annan: Party
    agreements: dict[str, SharingAgreement]

    def party(self, name: str) -> Party:
        """Return a party by its short name."""
        return getattr(self, name)


def _party(name: str, kind: str, hour: int, categories: tuple[str, ...]) -> Party:
    """Create an organisation with one person per role, a device and one report per category."""
    org = factories.make_org(f"{name.capitalize()} {uuid.uuid4().hex[:6]}", kind)
    persons = {role: factories.make_person(org, role=role) for role in ROLES}
    device = factories.make_device(org, name=f"{name}-telefon-{uuid.uuid4().hex[:4]}")
    party = Party(org, device, persons)
    client = current_app.test_client()
    for n, category in enumerate(categories):
        body = factories.night_report(
            hour,
            10 * n,
            category=category,
            description=f"{MARK[name]} {category} beskrivning.",
            place=f"{MARK[name]} plats {n}",
            # Far apart: every report is its own incident.
            location={"lat": 55.60 + 0.05 * n, "lon": 13.10 + 0.05 * n, "accuracy_m": 10.0},
        )
        push(client, device, body)
        party.reports[category] = body["id"]
    db.session.expire_all()
    for category, report_id in party.reports.items():
        incident = db.session.get(Report, uuid.UUID(report_id)).incident_id
        assert incident is not None
        party.incidents[category] = incident
    db.session.commit()
    return party


def make_shared_scene() -> SharedScene:
    """Build the scene: reports are pushed through the real protocol and grouping."""
    kommun = _party("kommun", "kommun", 19, ("skadegorelse", "miljo"))
    vakt = _party("vakt", "vaktbolag", 20, ("skadegorelse", "miljo"))
    hus = _party("hus", "bostadsbolag", 21, ("skadegorelse", "miljo"))
    annan = _party("annan", "other", 22, ("skadegorelse", "miljo"))
    agreements = {
        "vakt_full": sharing.share(vakt.org, kommun.org, "full"),
        "hus_reports": sharing.share(hus.org, kommun.org, "reports", categories=["skadegorelse"]),
        "kommun_counts": sharing.share(kommun.org, hus.org, "counts"),
    }
    return SharedScene(kommun, vakt, hus, annan, agreements)
