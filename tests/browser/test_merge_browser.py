"""Merging in Chromium: the coordinator is asked once more and told the merged name."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from server.extensions import db
from server.reports.models import Report
from tests.browser.axe import describe, run_axe, serious
from tests.browser.conftest import LiveServer
from tests.browser.workspace_support import (  # noqa: F401  (night_fixture is a fixture)
    TIMEOUT_MS,
    Night,
    log_in,
    night_fixture,
)
from tests.support import factories
from tests.support.workspace import push


def test_merging_into_a_calm_round_asks_and_keeps_the_real_name(
    live_server: LiveServer, page: Page, night: Night
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    with live_server.app.app_context():
        calm = factories.night_report(
            20, 10, category="lugnt", description="Lugn runda.", place="Stationen"
        )
        push(live_server.app.test_client(), night.guard, calm)
        calm_incident = db.session.get(Report, uuid.UUID(calm["id"])).incident_id
        db.session.remove()
    log_in(page, live_server, night.who)
    page.goto(f"{live_server.url}/workspace/incidents/{calm_incident}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lugnt")

    page.get_by_label("Välj en händelse från samma tid").select_option(value=str(night.shelter))
    page.get_by_role("button", name="Slå ihop", exact=True).click()
    # Nothing merged yet: the page says what the result will be called.
    expect(page.get_by_role("heading", name="Bekräfta sammanslagningen")).to_be_visible()
    expect(page.locator("#merge-result")).to_contain_text("Skadegörelse – Busskuren Malmövägen")
    expect(page.locator("#merge-result")).to_contain_text("3 rapp.")
    # Checked where it stands (the page answers a POST; its address cannot be reopened).
    found = serious(run_axe(page))
    assert not found, describe(found)
    page.get_by_role("button", name="Ja, slå ihop").click()

    expect(page.get_by_role("status").filter(has_text="ihopslagna")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Skadegörelse – Busskuren Malmövägen"
    )
    expect(page.locator(".report-list > li")).to_have_count(3)


def test_cancel_leaves_both_incidents(live_server: LiveServer, page: Page, night: Night) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, live_server, night.who)
    page.goto(f"{live_server.url}/workspace/incidents/{night.shelter}")
    page.get_by_label("Välj en händelse från samma tid").select_option(value=str(night.lamp))
    page.get_by_role("button", name="Slå ihop", exact=True).click()
    page.get_by_role("link", name="Avbryt").click()
    expect(page).to_have_url(f"{live_server.url}/workspace/incidents/{night.shelter}")
    expect(page.locator(".report-list > li")).to_have_count(2)
    page.goto(f"{live_server.url}/workspace/incidents/{night.lamp}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Brister i miljön")
