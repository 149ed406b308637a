"""The weekly lägesbild page in Chromium: summary on the first screen, lists collapsed."""

from __future__ import annotations

from datetime import datetime

from playwright.sync_api import Browser, Page, expect

from analysis.calendar import STOCKHOLM
from server.extensions import db
from tests.browser.conftest import LiveServer
from tests.browser.workspace_support import TIMEOUT_MS, assert_accessible, log_in
from tests.support import factories
from tests.support.workspace import push


def test_the_weekly_lagesbild_opens_with_its_summary(
    live_server: LiveServer, page: Page, browser: Browser
) -> None:
    with live_server.app.app_context():
        org = factories.make_org("Staffanstorps kommun")
        who = factories.make_person(org)
        device = factories.make_device(org, kind="vaktare")
        push(
            live_server.app.test_client(),
            device,
            *[
                factories.report(
                    created_at=datetime(2026, 11, day, 22, tzinfo=STOCKHOLM).isoformat(),
                    description=f"Klotter {day}",
                )
                for day in (17, 18, 20)
            ],
        )
        db.session.remove()
    log_in(page, live_server, who)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/workspace/lagesbild?kind=week&date=2026-11-23")
    expect(page.locator("nav.main-nav")).to_be_visible(timeout=TIMEOUT_MS)
    cards = page.locator("#lagesbild-summary .summary-cards")
    expect(cards).to_be_in_viewport()
    incidents = page.locator("#lb-incidents")
    expect(incidents.get_by_text("Klotter 17")).to_be_hidden()
    incidents.locator("summary").click()
    expect(incidents.get_by_text("Klotter 17")).to_be_visible()
    assert_accessible(browser, page)
