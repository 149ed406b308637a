"""The åtgärdsplan in Chromium: propose from an incident, decide it, find it overdue."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.workspace_support import (  # noqa: F401  (night_fixture is a fixture)
    TIMEOUT_MS,
    Night,
    assert_accessible,
    log_in,
    night_fixture,
)


def test_an_action_from_an_incident_is_decided_and_shown_overdue(
    live_server: LiveServer, browser: Browser, page: Page, night: Night
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, live_server, night.who)
    page.goto(f"{live_server.url}/workspace/incidents/{night.lamp}")
    form = page.locator("#incident-actions-heading").locator("..")
    form.get_by_label("Åtgärd", exact=True).fill("Byt armaturen längs gångvägen")
    form.get_by_label("Ägare (typ)").select_option(value="kommun")
    form.get_by_label("Enhet eller företag").fill("Gatukontoret, belysning")
    form.get_by_label("Klart senast").fill((date.today() - timedelta(days=3)).isoformat())
    form.get_by_role("button", name="Föreslå åtgärd").click()

    expect(page.get_by_role("status").filter(has_text="föreslagen")).to_be_visible()
    expect(page.locator("#action-status")).to_have_text("föreslagen")
    page.get_by_label("Ny status").select_option(value="beslutad")
    page.get_by_role("button", name="Spara status").click()
    expect(page.locator("#action-status")).to_have_text("beslutad")
    expect(page.locator("#action-overdue")).to_be_visible()

    page.get_by_role("link", name="Åtgärdsplan").first.click()
    expect(page.get_by_role("heading", level=1, name="Åtgärdsplan")).to_be_visible()
    expect(page.locator("#overdue-count .card-number")).to_have_text("1")
    row = page.locator("tr.overdue")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Byt armaturen längs gångvägen")
    expect(row).to_contain_text("beslutad")
    assert_accessible(browser, page)
