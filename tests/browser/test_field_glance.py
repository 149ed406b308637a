"""What the field app shows at a glance: connection and unsent reports, "Mina rapporter".

The sticky indicator (offline/online and the unsent count), a saved report that looks unlike a
sent one, an export button that does not come and go around a save, and list entries that can
be told apart (place and first words), older ones behind "Visa äldre". Every wait is bounded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import wait_until
from tests.browser.test_report_form import ON_SERVER, TIMEOUT_MS, _enrol, _states

NET = "#net-text"
GPS_ONLY = {"latitude": 55.60049, "longitude": 13.18112, "accuracy": 12}


@pytest.fixture
def gps_page(browser: Browser) -> Iterator[Page]:
    """A Swedish phone-sized page with a position fix."""
    context = browser.new_context(
        locale="sv-SE",
        viewport={"width": 390, "height": 844},
        permissions=["geolocation"],
        geolocation=GPS_ONLY,
    )
    yield context.new_page()
    context.close()


def _first_row_top(page: Page) -> float:
    """The first entry's top in the document, measured in one go once it is laid out (a
    redraw of the list between a lookup and a measurement would give no box)."""
    wait_until(
        page,
        "(() => { const li = document.querySelector('#reports li');"
        " return li !== null && li.getBoundingClientRect().height > 0; })()",
        TIMEOUT_MS,
    )
    return page.evaluate(
        "() => document.querySelector('#reports li').getBoundingClientRect().top + scrollY"
    )


def test_the_indicator_shows_connection_and_unsent_count_and_stays_in_view(
    stoppable_server, gps_page
):
    page = gps_page
    _enrol(stoppable_server, page)
    net = page.locator(NET)
    expect(net).to_have_text("Online · allt skickat", timeout=TIMEOUT_MS)
    stoppable_server.stop()

    page.get_by_role("button", name="Brand", exact=True).click()
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text(["Sparad på telefonen"], timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Lugnt pass").click()

    expect(net).to_have_text("Offline · 2 ej skickade", timeout=TIMEOUT_MS)
    # Down to "Mina rapporter": the indicator stays at the top.
    assert page.evaluate("window.scrollTo(0, document.body.scrollHeight), window.scrollY") > 200
    box = page.locator("#net").bounding_box()
    assert box and box["y"] == 0 and box["height"] <= 56
    page.context.set_offline(True)  # the browser itself says so too
    expect(net).to_have_text("Offline · 2 ej skickade")

    stoppable_server.start()
    page.context.set_offline(False)  # fires "online": a pass runs
    expect(net).to_have_text("Online · allt skickat", timeout=TIMEOUT_MS)


def test_saved_on_the_phone_looks_different_from_on_the_server(stoppable_server, page):
    _enrol(stoppable_server, page)
    page.get_by_role("button", name="Lugnt pass").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    stoppable_server.stop()
    page.get_by_role("button", name="Brand", exact=True).click()
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text(["Sparad på telefonen", ON_SERVER], timeout=TIMEOUT_MS)

    looks = page.evaluate(
        """() => [...document.querySelectorAll('#reports .report-badge')].map((badge) => {
            const style = getComputedStyle(badge);
            const icon = badge.querySelector('.state-icon');
            return {icon: icon?.textContent ?? '', hidden: icon?.getAttribute('aria-hidden'),
                    border: style.borderColor, style: style.borderStyle};
        })"""
    )

    saved, sent = looks
    assert saved["icon"] and sent["icon"] and saved["icon"] != sent["icon"]  # not colour alone
    assert saved["hidden"] == sent["hidden"] == "true"  # the words say it to a screen reader
    assert saved["border"] != sent["border"] and saved["style"] != sent["style"]


def test_the_export_button_stays_put_across_a_save_and_a_sync(stoppable_server, page):
    _enrol(stoppable_server, page)
    page.get_by_role("button", name="Lugnt pass").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    export = page.get_by_role("button", name="Exportera osända rapporter")
    page.evaluate(
        """() => {
            const button = document.getElementById('export');
            window.exportToggles = 0;
            new MutationObserver((records) => {
                for (const r of records) {
                    if ((r.oldValue === null) === !button.hasAttribute('hidden')) continue;
                    window.exportToggles += 1;
                }
            }).observe(button, {attributes: true, attributeFilter: ['hidden'],
                                attributeOldValue: true});
        }"""
    )
    expect(export).to_be_visible()
    before = _first_row_top(page)
    stoppable_server.stop()

    page.get_by_role("button", name="Brand", exact=True).click()
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text(["Sparad på telefonen", ON_SERVER], timeout=TIMEOUT_MS)
    saved = _first_row_top(page)
    stoppable_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(_states(page)).to_have_text([ON_SERVER] * 2, timeout=TIMEOUT_MS)

    assert (before, saved) == (_first_row_top(page), _first_row_top(page))
    assert page.evaluate("window.exportToggles") == 0
    expect(export).to_be_visible()
    export.click()  # nothing unsent: it says so, in view, instead of an empty file
    expect(page.locator("#toast").get_by_role("status")).to_have_text(
        "Allt finns redan på servern. Det finns inget att exportera."
    )


def test_entries_show_place_and_first_words(live_server, gps_page):
    page = gps_page
    _enrol(live_server, page)
    vandalism = page.get_by_role("button", name="Skadegörelse", exact=True)
    vandalism.click()
    page.get_by_label("Beskrivning").fill(
        "Klotter på tunneln vid cykelgaraget, en stor tagg i rött och svart över hela väggen"
    )
    page.get_by_label("Plats").fill("Cykelgaraget")
    page.get_by_role("button", name="Spara").click()
    vandalism.click()
    page.get_by_label("Beskrivning").fill("Krossad ruta")
    expect(page.locator("#location")).to_contain_text("±12 m", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Spara").click()

    expect(_states(page)).to_have_text([ON_SERVER] * 2, timeout=TIMEOUT_MS)
    gps, typed = page.locator("#reports li").all()
    expect(gps.locator(".report-where")).to_have_text("Nära 55.600, 13.181")
    expect(gps.locator(".report-text")).to_have_text("Krossad ruta")
    expect(typed.locator(".report-where")).to_have_text("Cykelgaraget")
    expect(typed.locator(".report-text")).to_have_text(
        "Klotter på tunneln vid cykelgaraget, en stor tagg …"
    )


def test_older_reports_collapse_behind_visa_aldre(live_server, page):
    _enrol(live_server, page)
    page.evaluate(
        """async () => {
            const store = await import('/store.js');
            for (let i = 0; i < 23; i += 1) {
                const minute = String(i).padStart(2, '0');
                await store.saveReport({category: 'ovrigt', description: `Rapport ${i}`,
                                        created_at: `2026-01-10T23:${minute}:00.000+01:00`});
            }
        }"""
    )
    page.reload()
    items = page.locator("#reports li")
    expect(_states(page)).to_have_text([ON_SERVER] * 10, timeout=TIMEOUT_MS)  # the pass is done
    expect(items.first.locator(".report-text")).to_have_text("Rapport 22")  # newest first
    more = page.locator("#reports-more")
    expect(more).to_have_text("Visa äldre (13)")

    more.click()

    expect(items).to_have_count(20)
    expect(more).to_be_focused()
    expect(more).to_have_text("Visa äldre (3)")
    more.click()
    expect(items).to_have_count(23)
    expect(more).to_be_hidden()
    expect(items.nth(20)).to_be_focused()  # the first one just revealed, not the page's top
    page.get_by_role("button", name="Lugnt pass").click()  # the list is drawn again
    expect(items).to_have_count(24, timeout=TIMEOUT_MS)  # and stays open
