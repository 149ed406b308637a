"""Accessibility of the field app's screens, checked with axe-core in Debian's Chromium.

Every screen a field worker sees is checked in the dark default and in the light theme the
user can switch to for daylight: no violation with impact serious or critical is allowed. A
failure lists each violation with the elements it was found on and axe's advice on the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from server.commands.devices import enrol_url
from server.devices import service as devices
from server.orgs import service as orgs
from tests.browser.axe import describe, run_axe, serious
from tests.support.walks import make_walk, phone_day

TIMEOUT_MS = 10000
ON_SERVER = re.compile(r"^På servern")


@pytest.fixture(params=["dark", "light"])
def themed_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """A Swedish page in the dark default or in the light theme chosen on the phone."""
    context = browser.new_context(
        locale="sv-SE", timezone_id="Europe/Stockholm", color_scheme=request.param
    )
    page = context.new_page()
    if request.param == "light":
        page.add_init_script("localStorage.setItem('lagesbild.theme', 'light')")
    yield page
    context.close()


def _enrol(live_server, page: Page) -> None:
    with live_server.app.app_context():
        org = orgs.create("Staffanstorps kommun")
        link = enrol_url(devices.issue_code(org, "Väktarbil 1", "vaktare", 24).code)
    page.goto(link)
    expect(page.get_by_role("status")).to_contain_text("Registrerad som Väktarbil 1")
    expect(page.locator("#tiles button").first).to_be_visible(timeout=TIMEOUT_MS)


def _assert_accessible(page: Page, screen: str) -> None:
    found = serious(run_axe(page))
    assert not found, f"{screen}: " + describe(found)


def test_the_enrol_page(live_server, themed_page):
    themed_page.goto(live_server.url + "/")
    expect(themed_page.get_by_role("status")).to_contain_text("registreringslänken")

    _assert_accessible(themed_page, "enrol page")


def test_the_new_report_screen(live_server, themed_page):
    _enrol(live_server, themed_page)
    expect(themed_page.get_by_role("button", name="Lugnt pass")).to_be_visible()

    _assert_accessible(themed_page, "new report (tiles)")


def test_the_open_form_of_an_urgent_category(live_server, themed_page):
    _enrol(live_server, themed_page)
    themed_page.get_by_role("button", name="Brand").click()
    expect(themed_page.get_by_role("link", name="Ring 112 vid akut fara")).to_be_visible()
    expect(themed_page.get_by_role("button", name="Spara")).to_be_visible()

    _assert_accessible(themed_page, "report form, urgent category")


def test_mina_rapporter_with_reports_in_every_state(live_server, themed_page):
    page = themed_page
    _enrol(live_server, page)
    page.get_by_role("button", name="Lugnt pass").click()
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Beskrivning").fill("Klotter på tunneln")
    page.get_by_role("button", name="Spara").click()
    states = page.locator("#reports .report-state")
    expect(states).to_have_text([ON_SERVER] * 2, timeout=TIMEOUT_MS)
    # One the server turns down (shown with its reason), one still waiting on the phone.
    page.evaluate("async () => (await import('/store.js')).saveReport({category: 'nope'})")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(states.first).to_contain_text("Avvisad", timeout=TIMEOUT_MS)
    page.context.route("**/api/v1/**", lambda route: route.abort())
    page.get_by_role("button", name="Brand").click()
    page.get_by_role("button", name="Spara").click()
    expect(states.first).to_have_text("Sparad på telefonen", timeout=TIMEOUT_MS)
    expect(states).to_have_count(4)

    _assert_accessible(page, "Mina rapporter")


def test_the_checker_finds_a_planted_violation(live_server, page):
    """Guard against a vacuous pass: axe really runs and reports serious problems."""
    page.goto(live_server.url + "/")
    page.evaluate(
        """() => {
            const b = document.createElement('button');  // no accessible name
            const p = document.createElement('p');
            p.textContent = 'Nästan osynlig text';
            p.style.color = '#1a1f24';  // on the dark background: contrast about 1.1:1
            document.querySelector('main').append(b, p);
        }"""
    )

    found = {v["id"] for v in serious(run_axe(page))}

    assert {"button-name", "color-contrast"} <= found, found


def test_the_light_theme_is_a_choice_that_sticks(live_server, page):
    page.goto(live_server.url + "/")
    root = page.locator("html")
    expect(root).not_to_have_attribute("data-theme", "light")
    dark_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    switch = page.get_by_role("button", name="Ljust läge (för dagsljus)")
    expect(switch).to_have_attribute("aria-pressed", "false")

    switch.click()
    expect(root).to_have_attribute("data-theme", "light")
    expect(switch).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != dark_bg
    page.reload()
    expect(root).to_have_attribute("data-theme", "light")
    _assert_accessible(page, "enrol page, light")

    page.get_by_role("button", name="Ljust läge (för dagsljus)").click()
    expect(root).not_to_have_attribute("data-theme", "light")


def test_the_walk_screen(live_server, themed_page):
    with live_server.app.app_context():
        org = orgs.create("Staffanstorps kommun")
        # The phone lists the walks of its own day (Swedish time): planned for that day,
        # the walk is there whatever the hour of the run.
        make_walk(org, on=phone_day())
        link = enrol_url(devices.issue_code(org, "Nattvandrarna", "nattvandrare", 24).code)
    themed_page.goto(link)
    themed_page.get_by_role("button", name="Trygghetsvandring: Centrum (mörker)").click(
        timeout=TIMEOUT_MS
    )
    themed_page.get_by_role("button", name="Belysning", exact=True).click()
    themed_page.get_by_role("button", name="Otrygg", exact=True).click()
    themed_page.get_by_text("Rutt och stopp").click()
    expect(themed_page.get_by_text("Gångtunneln", exact=True)).to_be_visible()

    _assert_accessible(themed_page, "walk screen")


def test_the_round_screens(live_server, themed_page):
    """The round list, the running round with a rejected scan, the end form and the panel."""
    from tests.browser.rounds_support import (
        enrol_phone,
        no_more_pulls,
        on_server,
        page_syncs_only,
        recode,
    )

    page = themed_page
    page_syncs_only(page)
    enrol_phone(live_server, page)
    # The garage's printed code is changed on the server; the phone, pulling no more, keeps it.
    no_more_pulls(page)
    on_server(live_server, recode(12, "YYYYYY"))
    _assert_accessible(page, "round list")

    page.locator("#round-list .round-item", has_text="Kvällsrond").get_by_role("button").click()
    page.get_by_label("Skriv koden").fill("M2P9WD")
    page.get_by_role("button", name="Registrera").click()
    expect(page.locator("#round-rejected-list li")).to_have_count(1, timeout=TIMEOUT_MS)
    page.get_by_label("Skriv koden").fill("K7F3QX")
    page.get_by_role("button", name="Registrera").click()
    expect(page.locator("#round-checkpoints .checkpoint.done")).to_have_count(1)
    _assert_accessible(page, "running round")

    page.get_by_role("button", name="Avsluta rond").click()
    page.locator("#round-end-form").get_by_role("button", name="Avsluta ronden").click()
    expect(page.locator("#round-end-error")).to_be_visible()
    _assert_accessible(page, "ending a round without a reason")

    page.get_by_label("Skriv koden").fill("ZZZZZZ")
    page.get_by_role("button", name="Registrera").click()
    expect(page.locator("#scan-panel")).to_be_visible()
    _assert_accessible(page, "unknown checkpoint")
    page.locator("#scan-panel").get_by_role("button", name="Avbryt").click()

    page.get_by_role("button", name="Skanna QR-kod").click()  # no camera here: it says so
    expect(page.locator("#scanner-status")).to_contain_text("Kameran kunde inte startas")
    _assert_accessible(page, "camera scanner")
