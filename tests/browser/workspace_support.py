"""Fixtures for the workspace browser tests: last night's reports, and a logged-in page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from server.extensions import db
from server.reports.models import Report
from tests.browser.axe import describe, run_axe, serious
from tests.browser.conftest import LiveServer
from tests.support import factories
from tests.support.workspace import push

TIMEOUT_MS = 15000


@dataclass
class Night:
    """Last night in a small municipality, as the coordinator finds it at 06:00."""

    who: factories.Login
    guard: factories.EnrolledDevice
    walker: factories.EnrolledDevice
    shelter: uuid.UUID  # two guard reports about a smashed bus shelter
    lamp: uuid.UUID  # a dark footpath, reported by the guard
    gathering: uuid.UUID  # youths at the kiosk, reported by the night walkers
    shelter_reports: list[str]
    lamp_report: str
    gathering_report: str


@pytest.fixture(name="night")
def night_fixture(live_server: LiveServer) -> Night:
    """Seed last night's reports through the real push (the grouping runs)."""
    app = live_server.app
    with app.app_context():
        org = factories.make_org("Staffanstorps kommun")
        who = factories.make_person(org, email="samordnare@staffanstorp.example")
        guard = factories.make_device(org, name="Väktarbil 1", kind="vaktare")
        walker = factories.make_device(org, name="Nattvandrarna", kind="nattvandrare")
        client = app.test_client()
        a = factories.night_report(20, 0, description="Krossad ruta i busskuren.")
        b = factories.night_report(20, 40, description="Busskuren igen: mer glas på marken.")
        c = factories.night_report(
            22,
            10,
            category="miljo",
            description="Släckt belysning längs gångvägen.",
            location={"lat": 55.6500, "lon": 13.2300, "accuracy_m": 8.0},
            place="Gångvägen vid skolan",
        )
        d = factories.night_report(
            21,
            30,
            category="samling",
            description="Ett tiotal ungdomar vid kiosken, lugnt.",
            location={"lat": 55.6800, "lon": 13.3000, "accuracy_m": 10.0},
            place="Kiosken på torget",
            people_count=10,
        )
        push(client, guard, a, b, c)
        push(client, walker, d)

        def incident(report: dict) -> uuid.UUID:
            found = db.session.get(Report, uuid.UUID(report["id"])).incident_id
            assert found is not None
            return found

        seeded = Night(
            who=who,
            guard=guard,
            walker=walker,
            shelter=incident(a),
            lamp=incident(c),
            gathering=incident(d),
            shelter_reports=[a["id"], b["id"]],
            lamp_report=c["id"],
            gathering_report=d["id"],
        )
        assert incident(b) == seeded.shelter
        assert len({seeded.shelter, seeded.lamp, seeded.gathering}) == 3
        db.session.remove()
    return seeded


def log_in(page: Page, live_server: LiveServer, who: factories.Login) -> None:
    """Open the workspace, get sent to the login form, and log in with it."""
    page.goto(live_server.url + "/workspace/")
    expect(page.get_by_role("heading", name="Logga in")).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_label("E-post").fill(who.email)
    page.get_by_label("Lösenord").fill(who.password)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", name="Natten", exact=True)).to_be_visible(timeout=TIMEOUT_MS)


def assert_accessible(browser: Browser, page: Page) -> None:
    """Run axe-core on the page's address, as the same logged-in person.

    axe is injected as an inline script, which the workspace's CSP forbids; it runs in a
    second context that ignores the CSP and shares the page's cookies, so the page under
    test keeps its real policy.
    """
    context = browser.new_context(
        locale="sv-SE", bypass_csp=True, storage_state=page.context.storage_state()
    )
    try:
        probe = context.new_page()
        probe.goto(page.url)
        violations = serious(run_axe(probe))
        assert not violations, describe(violations)
    finally:
        context.close()
