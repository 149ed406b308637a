"""A follow-up walk marked offline: the earlier walk's open observations, åtgärdat / kvarstår.

A walk three weeks ago left three open observations (pushed through the push API); its
follow-up is planned for today. The phone pulls, loses its network, marks two åtgärdat and
one kvarstår (one of them changed its mind first: the latest mark counts), gets its network
back and syncs each mark exactly once. The follow-up protocol shows 2 / 1 / 0.
Playwright's own bounded waits only; no sleeps.
"""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from server.commands.devices import enrol_url
from server.devices import service as devices
from server.extensions import db
from server.orgs import service as orgs
from server.reports.models import Report
from server.walks import service as walks
from tests.browser.axe import describe, run_axe, serious
from tests.browser.conftest import StoppableServer, wait_until
from tests.browser.workspace_support import assert_accessible, log_in
from tests.support import factories
from tests.support.walks import made_on_walk, make_walk, observation, phone_day, today

TIMEOUT_MS = 15000
COORDINATOR = "zebulon.quarfordt@example.se"
# (stop, category, feeling, note) of the earlier walk: all three stay open.
EARLIER = [
    (1, "vandring_belysning", "unsafe", "Lampan vid stationen är släckt."),
    (2, "vandring_sikt", "neutral", "Häcken skymmer gångtunneln."),
    (3, "vandring_klotter", "unsafe", "Klotter på parkens paviljong."),
]


def test_a_follow_up_walk_marked_offline_syncs_once_and_counts_its_marks(
    stoppable_server: StoppableServer, browser: Browser
) -> None:
    server = stoppable_server
    with server.app.app_context():
        org = orgs.create("Staffanstorps kommun")
        first = make_walk(org, on=today() - timedelta(days=21))
        walker = factories.make_device(org, "Förra vandringens telefon")
        bodies = []
        for n, (stop, code, feeling, note) in enumerate(EARLIER):
            body = observation(first, stop=stop, feeling=feeling, category=code, description=note)
            body["created_at"] = made_on_walk(first, 10 * n)
            bodies.append(body)
        answer = server.app.test_client().post(
            "/api/v1/sync/push", json={"reports": bodies}, headers=walker.headers
        )
        assert [r["status"] for r in answer.get_json()["results"]] == ["created"] * 3
        walks.set_status(org.id, first.id, "done")
        follow_up_id = make_walk(org, on=phone_day(), follows=first.id).id
        first_date = first.walk_date.isoformat()
        link = enrol_url(devices.issue_code(org, "Telefon 2", "nattvandrare", 24).code)
        coordinator = factories.make_person(org, email=COORDINATOR)
        db.session.remove()
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(TIMEOUT_MS)
    # Every push result the phone got back: each mark created once, none rejected.
    results: list[str] = []
    context.on(
        "response",
        lambda r: (
            results.extend(x["status"] for x in r.json()["results"])
            if r.url.endswith("/api/v1/sync/push") and r.ok
            else None
        ),
    )
    page = context.new_page()
    try:
        page.goto(link)
        join = page.get_by_role("button", name="Trygghetsvandring: Centrum (mörker)")
        expect(join).to_be_visible()  # the first pull brought the follow-up and its list
        wait_until(page, "navigator.serviceWorker.controller !== null", TIMEOUT_MS)

        server.stop()
        context.set_offline(True)
        join.click()
        section = page.get_by_role("region", name="Från förra vandringen")
        items = section.locator(".follow-up-item")
        expect(items).to_have_count(3)
        expect(items.locator(".follow-up-text")).to_have_text([note for *_, note in EARLIER])
        counts = page.locator("#walk-follow-up-counts")
        expect(counts).to_have_text("Åtgärdat 0 · Kvarstår 0 · Ej kontrollerade 3")

        items.nth(0).get_by_role("button", name="Åtgärdat").click()
        expect(counts).to_have_text("Åtgärdat 1 · Kvarstår 0 · Ej kontrollerade 2")
        second = items.nth(1)
        second.get_by_role("button", name="Kvarstår").click()
        expect(second.get_by_role("button", name="Kvarstår")).to_have_attribute(
            "aria-pressed", "true"
        )
        second.get_by_role("button", name="Åtgärdat").click()  # changed: the latest counts
        expect(second.locator(".follow-up-state")).to_have_text("Markerad: Åtgärdat")
        items.nth(2).get_by_role("button", name="Kvarstår").click()
        expect(counts).to_have_text("Åtgärdat 2 · Kvarstår 1 · Ej kontrollerade 0")
        box = items.nth(2).get_by_role("button", name="Kvarstår").bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44
        expect(page.locator("#reports .report-state")).to_have_text(["Sparad på telefonen"] * 4)
        assert results == []  # nothing reached the server
        found = serious(run_axe(page))  # the list and its buttons, offline
        assert not found, describe(found)

        server.start()
        context.set_offline(False)
        wait_until(
            page,
            "[...document.querySelectorAll('#reports .report-state')]"
            ".every((el) => el.textContent.startsWith('På servern'))",
            TIMEOUT_MS * 2,
        )
        with server.app.app_context():
            marks = list(db.session.scalars(select(Report).where(Report.walk_id == follow_up_id)))
            assert len(marks) == 4  # each mark once, the changed one twice
            assert sorted(results) == ["created"] * 4
            by_note = {r.description: str(r.id) for r in db.session.scalars(select(Report))}
            assert {str(m.follows) for m in marks} == {by_note[n] for *_, n in EARLIER}
            db.session.remove()

        log_in(page, server, coordinator)
        page.goto(f"{server.url}/workspace/walks/{follow_up_id}/protocol")
        heading = page.get_by_role("heading", name=f"Uppföljning av vandringen {first_date}")
        expect(heading).to_be_visible()
        expect(page.locator("#follow-up-counts")).to_have_text(
            "Åtgärdat 2 · Kvarstår 1 · Ej kontrollerade 0"
        )
        expect(page.locator(".follow-up-list li .mark")).to_have_text(
            ["Åtgärdat", "Åtgärdat", "Kvarstår"]
        )
        assert "Telefon" not in page.content() and COORDINATOR not in page.content()
        assert_accessible(browser, page)
    finally:
        context.close()
