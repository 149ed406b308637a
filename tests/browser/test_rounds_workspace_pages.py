"""Guard rounds in the workspace, in Chromium: create a checkpoint, print its label, read
the week, each page accessible (axe-core, no serious or critical violation)."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from server.extensions import db
from tests.browser.conftest import LiveServer
from tests.browser.workspace_support import TIMEOUT_MS, assert_accessible, log_in
from tests.support import factories
from tests.support.rounds import four_rounds
from tests.support.walks import area_of


def test_checkpoints_labels_and_the_week(
    live_server: LiveServer, browser: Browser, page: Page
) -> None:
    with live_server.app.app_context():
        org = factories.make_org("Väktarbolaget Syd", "vaktbolag")
        who = factories.make_person(org, email="samordnare@vakt.example")
        four_rounds(org.id, area_of(org).id)
        db.session.remove()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, live_server, who)

    page.get_by_role("link", name="Ronder", exact=True).click()
    expect(page.get_by_role("heading", name="Ronder per vecka")).to_be_visible()
    page.goto(live_server.url + "/workspace/rounds/week?week=2026-W18")
    # Friday 1 May: the fourth night column, one row per round.
    friday = page.locator("tbody tr td:nth-of-type(5)")
    expect(friday.filter(has_text="Missad")).to_contain_text("saknas: Förråd, Gård")
    expect(friday.filter(has_text="Taket var avspärrat.")).to_contain_text("saknas: Tak")
    assert_accessible(browser, page)

    page.get_by_role("link", name="Väktarronder").click()
    page.get_by_label("Namn", exact=True).fill("Grinden mot ån")
    page.get_by_label("Latitud").fill("55,6412")
    page.get_by_label("Longitud").fill("13.2061")
    page.get_by_role("button", name="Spara kontrollpunkten").click()
    expect(page.get_by_role("status").filter(has_text="Kontrollpunkten är sparad.")).to_be_visible()
    expect(page.locator("#checkpoints")).to_contain_text("Grinden mot ån")
    assert_accessible(browser, page)

    page.get_by_role("link", name="QR-etiketter").click()
    expect(page.get_by_role("img", name="Grinden mot ån")).to_be_visible()
    assert page.locator("svg.qr").count() == 9
    assert_accessible(browser, page)


def test_edit_a_round_and_deactivate_it(
    live_server: LiveServer, browser: Browser, page: Page
) -> None:
    with live_server.app.app_context():
        org = factories.make_org("Väktarbolaget Syd", "vaktbolag")
        who = factories.make_person(org, email="samordnare@vakt.example")
        four_rounds(org.id, area_of(org).id)
        db.session.remove()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, live_server, who)
    page.goto(live_server.url + "/workspace/rounds")
    expect(page.get_by_role("checkbox", name="Obligatorisk: Entré")).to_be_checked()

    page.get_by_role("link", name="Ändra Rond Centrum").click()
    expect(page.get_by_role("heading", name="Ändra ronden Rond Centrum")).to_be_visible()
    page.get_by_role("checkbox", name="Obligatorisk: Garage").uncheck()
    assert_accessible(browser, page)
    page.get_by_role("button", name="Spara ronden").click()
    expect(page.locator("#rounds")).to_contain_text("Garage (valfri)")

    page.get_by_role("button", name="Inaktivera Rond Centrum").click()
    expect(page.get_by_role("status").filter(has_text="Ronden är inaktiverad")).to_be_visible()
    expect(page.get_by_role("button", name="Aktivera Rond Centrum")).to_be_visible()
    assert_accessible(browser, page)
