"""An admin erases a report in Chromium: the confirmation form, then the report is gone."""

from __future__ import annotations

import uuid

from playwright.sync_api import Browser, Page, expect

from server.extensions import db
from server.orgs.models import Organisation
from server.reports.models import Report
from tests.browser.conftest import LiveServer
from tests.browser.workspace_support import (  # noqa: F401  (night_fixture is a fixture)
    TIMEOUT_MS,
    Night,
    assert_accessible,
    log_in,
    night_fixture,
)
from tests.support import factories


def test_an_admin_erases_a_report_after_confirming(
    live_server: LiveServer, browser: Browser, page: Page, night: Night
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    with live_server.app.app_context():
        org = db.session.get(Organisation, night.who.person.org_id)
        admin = factories.make_person(org, role="admin", email="admin@staffanstorp.example")
        db.session.remove()
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/workspace/incidents/{night.shelter}")
    reports = page.locator(".report-list > li")
    expect(reports).to_have_count(2)
    assert_accessible(browser, page)
    doomed = reports.first
    doomed_id = (doomed.get_attribute("id") or "").removeprefix("report-")
    form = doomed.locator("form.erase-form")
    expect(form).to_be_hidden()

    doomed.get_by_text("Radera rapporten …").click()
    expect(form).to_be_visible()
    form.get_by_label("Skäl").select_option(label="Begäran om radering (den registrerades rätt)")
    form.get_by_role("button", name="Radera rapporten").click()
    # The browser keeps the form until the confirmation is ticked: nothing was sent.
    expect(reports).to_have_count(2)
    form.get_by_label("Jag förstår att rapporten raderas för gott").check()
    form.get_by_role("button", name="Radera rapporten").click()

    expect(page.get_by_text("Rapporten är raderad.")).to_be_visible()
    expect(reports).to_have_count(1)
    with live_server.app.app_context():
        assert db.session.get(Report, uuid.UUID(doomed_id)) is None
        db.session.remove()
