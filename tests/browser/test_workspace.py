"""The coordinator's morning in Chromium: log in, read the night, decide, export, and the
phones that reported learn the decision on their next pull."""

from __future__ import annotations

import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.workspace_support import (  # noqa: F401  (night_fixture is a fixture)
    TIMEOUT_MS,
    Night,
    assert_accessible,
    log_in,
    night_fixture,
)

BOM = b"\xef\xbb\xbf"
COMMENT = "Fastighetsägaren är kontaktad och byter glaset i dag."


def rows(page: Page):
    return page.locator("tr[data-incident]")


def test_the_coordinators_morning(
    live_server: LiveServer, browser: Browser, page: Page, night: Night
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, live_server, night.who)

    # The night view: last night's three incidents, reporters by kind, never by name.
    expect(rows(page)).to_have_count(3)
    table = page.locator("table.incidents")
    expect(table).to_contain_text("Skadegörelse")
    expect(table).to_contain_text("Brister i miljön")
    expect(table).to_contain_text("Samlingar och ordningsstörning")
    expect(table).to_contain_text("nattvandrare")
    expect(table).not_to_contain_text("Väktarbil")
    expect(page.locator(f'tr[data-incident="{night.shelter}"] td.num')).to_contain_text("2")
    assert_accessible(browser, page)

    # The incident list, filtered to vandalism.
    page.get_by_role("link", name="Händelser", exact=True).click()
    expect(page.get_by_role("heading", name="Händelser", exact=True)).to_be_visible()
    expect(rows(page)).to_have_count(3)
    page.get_by_label("Kategori").select_option(label="Skadegörelse")
    page.get_by_role("button", name="Visa").click()
    expect(rows(page)).to_have_count(1)
    assert "category=skadegorelse" in page.url
    assert_accessible(browser, page)

    # Open it, assess it and tell the guards.
    page.locator(f'tr[data-incident="{night.shelter}"] a').first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Skadegörelse")
    expect(page.locator(".report-list > li")).to_have_count(2)
    assert_accessible(browser, page)
    page.get_by_role("combobox", name="Status", exact=True).select_option(label="Bedömd")
    page.get_by_role("button", name="Spara status").click()
    expect(page.get_by_role("status").filter(has_text="Status sparad.")).to_be_visible()
    expect(page.locator("#current-status")).to_have_text("Bedömd")
    page.get_by_label("Ny kommentar").fill(COMMENT)
    page.get_by_role("button", name="Skicka kommentar").click()
    expect(page.locator(".comment-list")).to_contain_text(COMMENT)
    expect(page.locator(".timeline-list")).to_contain_text("Status ändrad från Ny till Bedömd")

    # The dark footpath was the same round: merge it into this incident.
    page.get_by_label("Välj en händelse från samma tid").select_option(value=str(night.lamp))
    page.get_by_role("button", name="Slå ihop").click()
    # Asked once more, with what the merged incident will be called.
    expect(page.locator("#merge-result")).to_contain_text("Skadegörelse")
    page.get_by_role("button", name="Ja, slå ihop").click()
    expect(page.get_by_role("status").filter(has_text="ihopslagna")).to_be_visible()
    expect(page.locator(".report-list > li")).to_have_count(3)
    expect(page.locator(".timeline-list")).to_contain_text("slogs ihop hit")

    # Export the list for the weekly meeting: a CSV that Swedish Excel opens.
    page.goto(live_server.url + "/workspace/incidents")
    expect(rows(page)).to_have_count(2)
    with page.expect_download() as info:
        page.get_by_role("link", name="Händelser som CSV (Excel)").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    data = open(download.path(), "rb").read()  # noqa: SIM115
    assert data.startswith(BOM)
    text = data[len(BOM) :].decode("utf-8")
    header = text.splitlines()[0]
    assert header.startswith("Händelse-id;")
    assert str(night.shelter) in text and str(night.gathering) in text
    assert str(night.lamp) not in text  # merged away
    assert "Skadegörelse;Bedömd" in text

    # The guard's phone pulls: the new status and the comment arrive on its reports.
    pulled = requests.get(
        live_server.url + "/api/v1/sync/pull", headers=night.guard.headers, timeout=10
    )
    assert pulled.status_code == 200
    states = {r["id"]: r for r in pulled.json()["reports"]}
    for rid in [*night.shelter_reports, night.lamp_report]:
        assert states[rid]["status"] == "bedomd", rid
        assert COMMENT in [c["body"] for c in states[rid]["comments"]], rid
    # The night walkers' report was not part of it.
    walker = requests.get(
        live_server.url + "/api/v1/sync/pull", headers=night.walker.headers, timeout=10
    ).json()
    (gathering,) = walker["reports"]
    assert gathering["status"] == "ny" and gathering["comments"] == []


def test_english_and_logout(live_server: LiveServer, page: Page, night: Night) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, live_server, night.who)
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Night", exact=True)).to_be_visible()
    expect(page.locator("table.incidents")).to_contain_text("Vandalism")
    page.get_by_role("link", name="Incidents", exact=True).click()
    expect(page.get_by_role("heading", name="Incidents", exact=True)).to_be_visible()
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto(live_server.url + "/workspace/incidents")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_a_wrong_password_is_one_generic_message(
    live_server: LiveServer, browser: Browser, page: Page, night: Night
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(live_server.url + "/workspace/login")
    page.get_by_label("E-post").fill(night.who.email)
    page.get_by_label("Lösenord").fill("fel lösenord")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("alert")).to_have_text("Fel e-post eller lösenord")
    expect(page.get_by_label("E-post")).to_have_value(night.who.email)
    assert_accessible(browser, page)
