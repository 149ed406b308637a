"""Logging a report in the field app: tiles, optional extras, Spara, "Mina rapporter", sync.

A real Chromium against the real app; every wait is Playwright's own (expect, wait_for_*),
bounded by a timeout, never a sleep.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

import server.pwa
from server.commands.devices import enrol_url
from server.devices import service as devices
from server.extensions import db
from server.orgs import service as orgs
from server.pwa_manifest import Precache
from server.reports.models import Report
from tests.browser.conftest import wait_until

TIMEOUT_MS = 10000
ON_SERVER = re.compile(r"^På servern")
CONTROLLED = "navigator.serviceWorker.controller !== null"


def _enrol(server, page: Page, enrolled: str = "Registrerad som Väktarbil 1") -> None:
    """Open the link `lagesbild device enrol` prints and wait for the tiles."""
    with server.app.app_context():
        org = orgs.create("Staffanstorps kommun")
        link = enrol_url(devices.issue_code(org, "Väktarbil 1", "vaktare", 24).code)
    page.goto(link)
    expect(page.get_by_role("status")).to_contain_text(enrolled)
    expect(page.locator("#tiles button").first).to_be_visible(timeout=TIMEOUT_MS)


def _states(page: Page):
    return page.locator("#reports .report-state")


def _local_ids(page: Page) -> list[str]:
    return page.evaluate(
        "async () => (await import('/store.js')).listReports().then((rs) => rs.map((r) => r.id))"
    )


def _server_rows(app) -> list[tuple[str, str]]:
    """(id, category) of every report on the server."""
    with app.app_context():
        rows = [(str(r.id), r.category_code) for r in db.session.scalars(select(Report))]
        db.session.expunge_all()
        return rows


def test_tile_then_spara_saves_a_report_that_reaches_the_server_once(live_server, page):
    _enrol(live_server, page)
    tile = page.get_by_role("button", name="Skadegörelse", exact=True)
    box = tile.bounding_box()
    assert box and box["height"] >= 48 and box["width"] >= 48  # a glove-sized target

    tile.click()  # tap 1
    expect(page.get_by_label("Beskrivning")).to_be_visible()
    assert page.locator("#urgent").is_hidden()  # not an urgent category
    expect(page.locator("#description-hint")).to_contain_text("personnummer")
    page.get_by_role("button", name="Spara").click()  # tap 2

    expect(page.locator("#toast").get_by_role("status")).to_contain_text("Sparad")
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    (report_id,) = _local_ids(page)
    assert _server_rows(live_server.app) == [(report_id, "skadegorelse")]


def test_extras_are_saved_with_the_report(live_server, page):
    _enrol(live_server, page)
    page.get_by_role("button", name="Otrygg plats").click()
    page.get_by_role("button", name="3 Hög").click()
    page.get_by_label("Beskrivning").fill("Släckt belysning")
    page.get_by_label("Plats").fill("Cykelgaraget")
    page.get_by_label("Antal personer").fill("4")
    page.get_by_role("button", name="Spara").click()

    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with live_server.app.app_context():
        (row,) = db.session.scalars(select(Report)).all()
        assert (row.category_code, row.severity, row.description, row.place, row.people_count) == (
            "otrygg_plats",
            3,
            "Släckt belysning",
            "Cykelgaraget",
            4,
        )


def test_an_urgent_category_first_shows_call_112(live_server, page):
    _enrol(live_server, page)

    page.get_by_role("button", name="Brand").click()

    notice = page.get_by_role("link", name="Ring 112 vid akut fara")
    expect(notice).to_be_visible()
    assert notice.get_attribute("href") == "tel:112"
    above = page.evaluate(
        """() => document.getElementById('urgent').compareDocumentPosition(
            document.getElementById('description')) & Node.DOCUMENT_POSITION_FOLLOWING"""
    )
    assert above  # the notice comes before the extras
    page.get_by_role("button", name="Avbryt").click()
    expect(page.get_by_role("button", name="Brand")).to_be_focused()


def test_offline_reports_wait_on_the_phone_and_arrive_once(stoppable_server, page):
    _enrol(stoppable_server, page)
    wait_until(page, CONTROLLED, TIMEOUT_MS)
    stoppable_server.stop()

    page.get_by_role("button", name="Brand").click()
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#toast").get_by_role("status")).to_contain_text("Sparad")
    page.get_by_role("button", name="Narkotika").click()
    page.get_by_role("button", name="Spara").click()

    expect(_states(page)).to_have_text(["Sparad på telefonen"] * 2, timeout=TIMEOUT_MS)
    ids = _local_ids(page)
    assert len(ids) == 2 and _server_rows(stoppable_server.app) == []

    stoppable_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")

    expect(_states(page)).to_have_text([ON_SERVER] * 2, timeout=TIMEOUT_MS)
    rows = _server_rows(stoppable_server.app)
    assert sorted(rows) == sorted(zip(ids, ["brand", "narkotika"], strict=True))
    page.reload()  # a fresh start syncs again: still exactly once each
    expect(_states(page)).to_have_text([ON_SERVER] * 2, timeout=TIMEOUT_MS)
    assert len(_server_rows(stoppable_server.app)) == 2


def test_lugnt_pass_is_one_tap(live_server, page):
    _enrol(live_server, page)

    page.get_by_role("button", name="Lugnt pass").click()

    expect(page.locator("#toast").get_by_role("status")).to_contain_text("Sparad")
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    (report_id,) = _local_ids(page)
    assert uuid.UUID(report_id) and _server_rows(live_server.app) == [(report_id, "lugnt")]


def test_the_form_is_in_english_when_asked(live_server, browser: Browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    _enrol(live_server, page, "Enrolled as Väktarbil 1")

    page.get_by_role("button", name="Fire").click()

    expect(page.get_by_role("button", name="Save")).to_be_visible()
    expect(page.get_by_role("link", name="Call 112 in an emergency")).to_be_visible()
    expect(page.get_by_role("heading", name="My reports")).to_be_visible()
    context.close()


def test_an_update_waits_while_a_report_is_half_written(live_server, page, monkeypatch):
    _enrol(live_server, page)
    wait_until(page, CONTROLLED, TIMEOUT_MS)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Beskrivning").fill("Halvskriven rapport")
    current = server.pwa.precache(server.pwa.PWA_DIR)
    deployed = Precache(version="e" * 64, files=current.files)
    monkeypatch.setattr(server.pwa, "precache", lambda _root: deployed)
    page.evaluate("navigator.serviceWorker.getRegistration().then((reg) => reg.update())")
    banner = page.locator("#update-banner")
    expect(banner).to_contain_text("Ny version finns", timeout=TIMEOUT_MS)

    banner.get_by_role("button", name="Uppdatera").click()

    expect(banner).to_contain_text("Spara eller avbryt rapporten först")
    expect(page.get_by_label("Beskrivning")).to_have_value("Halvskriven rapport")
    waiting = "navigator.serviceWorker.getRegistration().then((reg) => reg.waiting !== null)"
    assert page.evaluate(waiting)  # not applied: the half-written report is still on screen
    page.get_by_role("button", name="Avbryt").click()
    with page.expect_event("load", timeout=TIMEOUT_MS):
        banner.get_by_role("button", name="Uppdatera").click()
    assert not page.evaluate(waiting)
