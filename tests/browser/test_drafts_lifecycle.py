"""Drafts over a report's whole life: Ångra never pours a draft into another report, a draft
of a report that is pruned or wiped goes with it, and a draft restored later keeps the time
(and the place) it was begun at. A real Chromium against the real app; bounded waits only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from server.extensions import db
from server.reports.models import Report
from tests.browser.test_drafts import RESTORED, _draft_has
from tests.browser.test_report_form import ON_SERVER, TIMEOUT_MS, _enrol, _states

STATIONEN = {"latitude": 55.6405, "longitude": 13.2066, "accuracy": 30}
NO_DRAFT = """async () => {
    const db = await (await import('/store.js')).openDb();
    const all = await new Promise((resolve) => {
        const get = db.transaction('drafts').objectStore('drafts').getAll();
        get.onsuccess = () => resolve(get.result);
    });
    return all.length === 0;
}"""


def _rows(app) -> dict[str, tuple[str, str]]:
    """Every report on the server: id -> (category, description)."""
    with app.app_context():
        rows = {
            str(r.id): (r.category_code, r.description) for r in db.session.scalars(select(Report))
        }
        db.session.expunge_all()
        return rows


def _sent_report(page: Page, category: str, text: str) -> None:
    """Log a report and wait until the server has it."""
    page.get_by_role("button", name=category, exact=True).click()
    page.get_by_label("Beskrivning").fill(text)
    page.get_by_role("button", name="Spara").click()
    expect(_states(page).first).to_have_text(ON_SERVER, timeout=TIMEOUT_MS)


def test_angra_after_andra_brings_the_draft_back_as_a_new_report(live_server, page):
    _enrol(live_server, page)
    _sent_report(page, "Skadegörelse", "Klotter på muren")
    page.get_by_role("button", name="Brand", exact=True).click()
    page.get_by_label("Beskrivning").fill("Halvskriven brand")
    _draft_has(page, "d.description === 'Halvskriven brand'")

    page.get_by_role("button", name="Ändra").click()  # discards the Brand draft, with Ångra
    page.locator("#toast").get_by_role("button", name="Ångra").click()

    expect(page.locator("#form-category")).to_have_text("Brand")
    expect(page.get_by_label("Beskrivning")).to_have_value("Halvskriven brand")
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER, ON_SERVER], timeout=TIMEOUT_MS)
    assert sorted(_rows(live_server.app).values()) == [
        ("brand", "Halvskriven brand"),
        ("skadegorelse", "Klotter på muren"),
    ]


def _editing_a_sent_report(page: Page, text: str) -> None:
    """Send a report, open it with Ändra and type `text`; wait until that is the draft."""
    _sent_report(page, "Skadegörelse", "Klotter på muren")
    page.get_by_role("button", name="Ändra").click()
    page.get_by_label("Beskrivning").fill(text)
    _draft_has(page, f"d.editId !== null && d.description === {text!r}")


def test_a_draft_goes_with_the_report_it_changes_when_that_is_pruned_or_wiped(live_server, page):
    _enrol(live_server, page)
    _editing_a_sent_report(page, "Klotter på muren, namn på taggaren")

    # An admin's wipe keeps a draft of a new report but not one changing a wiped report.
    page.evaluate("async () => (await import('/store.js')).wipeAcknowledged()")
    assert page.evaluate(NO_DRAFT)


def test_pruning_drops_a_draft_of_a_pruned_report_and_a_revoked_phone_drops_every_draft(
    live_server, page
):
    _enrol(live_server, page)
    _editing_a_sent_report(page, "Ändrad text")
    # Everything acknowledged is due: as if the phone's keep days had passed.
    page.evaluate("async () => (await import('/store.js')).prune(Date.now() + 1e12)")
    assert page.evaluate(NO_DRAFT)

    page.get_by_role("button", name="Avbryt").press("Enter")
    page.get_by_role("button", name="Brand", exact=True).click()
    page.get_by_label("Beskrivning").fill("Ny halvskriven")
    _draft_has(page, "d.editId === null && d.description === 'Ny halvskriven'")
    page.evaluate("async () => (await import('/store.js')).wipeAcknowledged()")
    assert not page.evaluate(NO_DRAFT)  # an admin's wipe keeps a new report's draft
    page.evaluate("async () => (await import('/prune.js')).wipeRevoked()")
    assert page.evaluate(NO_DRAFT)


def test_a_draft_restored_hours_later_keeps_its_time_and_takes_no_new_position(
    live_server, browser: Browser
):
    context = browser.new_context(
        locale="sv-SE", permissions=["geolocation"], geolocation=STATIONEN
    )
    page = context.new_page()
    _enrol(live_server, page)
    began = datetime.now(UTC) - timedelta(hours=5)
    draft = {
        "id": "0b8a7c3e-6d1f-4f5e-9a3b-2c1d0e9f8a71",
        "editId": None,
        "category": "brand",
        "severity": None,
        "description": "Började vid 02",
        "place": "",
        "people": "",
        "photos": [],
        "location": None,
        "startedAt": began.isoformat().replace("+00:00", "Z"),
        "savedAt": began.isoformat().replace("+00:00", "Z"),
    }
    page.evaluate("async (d) => (await import('/drafts.js')).saveDraft(d)", draft)
    page.reload()
    expect(page.get_by_text(RESTORED)).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)

    with live_server.app.app_context():
        [report] = db.session.scalars(select(Report)).all()
        assert abs((report.created_at - began).total_seconds()) < 1
        assert report.lat is None and report.lon is None  # not where the phone is now
    context.close()


def test_the_toast_stays_while_angra_has_the_focus(stoppable_server, page):
    page.clock.install()
    _enrol(stoppable_server, page)
    stoppable_server.stop()  # the report stays on the phone, so Ångra is offered
    page.get_by_role("button", name="Brand", exact=True).click()
    page.get_by_role("button", name="Spara").click()
    toast = page.locator("#toast")
    undo = toast.get_by_role("button", name="Ångra")
    expect(toast.get_by_role("status")).to_have_text("Sparad: Brand.")
    undo.focus()
    page.clock.run_for(8000)
    expect(undo).to_be_visible()  # a keyboard or switch user still has the time to reach it
    page.get_by_role("button", name="Lugnt pass").focus()
    page.clock.run_for(8000)
    expect(toast).to_be_hidden()
