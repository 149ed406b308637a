"""Urgent alerts in Chromium: the workspace's service worker shows one notification per
incident for pushes delivered through DevTools, permission is asked only after the button,
iOS outside the home screen gets the explanation, and the field app's way out when an urgent
report does not get through (`tel:` and `sms:` with a body of at most 160 characters)."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import unquote

from playwright.sync_api import Browser, Page, expect

from server.alerts import ack, rota
from server.alerts.models import Alert, OnCallMember
from server.alerts.tick import tick
from server.auth.models import Person
from server.commands.devices import enrol_url
from server.db import phase
from server.devices import service as devices
from server.extensions import db
from server.orgs import service as orgs
from server.orgs.models import Organisation
from sync.clock import utcnow
from tests.browser.axe import describe, run_axe, serious
from tests.browser.conftest import LiveServer, wait_until
from tests.browser.workspace_support import assert_accessible, log_in
from tests.support import factories
from tests.support.alerts import configure_vapid

TIMEOUT_MS = 10000
PHONE = "+46701112233"
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


def _coordinator(server: LiveServer) -> factories.Login:
    with server.app.app_context():
        org = orgs.create(f"Jourkommun {uuid.uuid4().hex[:6]}")
        return factories.make_person(org, "coordinator")


# --- the workspace's service worker ------------------------------------------------------------


# The notifications the workspace's service worker shows now (an expression for wait_until).
SHOWN = "(await (await navigator.serviceWorker.getRegistration('/workspace/')).getNotifications())"


def _message(body: str, tag: str, url: str) -> str:
    """A push payload as the server sends it (server.alerts.payload)."""
    return json.dumps({"title": "Brådskande: Brand", "body": body, "tag": tag, "url": url})


def _push(session, origin: str, registration_id: str, payload: str) -> None:
    session.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registration_id, "data": payload},
    )


def _notifications(page: Page) -> list[dict]:
    return page.evaluate(
        """async () => (await (await navigator.serviceWorker.getRegistration('/workspace/'))
            .getNotifications()).map((n) => ({tag: n.tag, title: n.title, body: n.body,
            url: n.data && n.data.url}))"""
    )


def test_a_push_shows_one_notification_per_incident(live_server: LiveServer, browser: Browser):
    configure_vapid(live_server.app)
    who = _coordinator(live_server)
    context = browser.new_context(locale="sv-SE")
    context.grant_permissions(["notifications"], origin=live_server.url)
    page = context.new_page()
    try:
        log_in(page, live_server, who)
        page.goto(live_server.url + "/workspace/notifications")
        wait_until(page, "!!(await navigator.serviceWorker.getRegistration('/workspace/'))?.active")
        session = context.new_cdp_session(page)
        found: list[str] = []
        session.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda e: found.extend(
                r["registrationId"]
                for r in e["registrations"]
                # A registration being replaced is reported too, marked deleted: a push
                # sent to it is never shown.
                if r["scopeURL"].endswith("/workspace/") and not r.get("isDeleted")
            ),
        )
        session.send("ServiceWorker.enable")
        for _ in range(100):  # the registration event arrives with the next protocol messages
            if found:
                break
            session.send("Runtime.evaluate", {"expression": "1"})
        assert found, "no registration for /workspace/"
        first = _message("Centrum · 01:02", "incident-a", "/workspace/alerts/1")
        again = _message("Centrum · 01:07", "incident-a", "/workspace/alerts/1")
        other = _message("Torget · 01:05", "incident-b", "https://evil.example/x")
        _push(session, live_server.url, found[-1], first)
        wait_until(
            page,
            SHOWN + ".length === 1",
        )
        _push(session, live_server.url, found[-1], again)
        wait_until(
            page,
            SHOWN + ".some((n) => n.body.endsWith('01:07'))",
        )
        shown = _notifications(page)
        assert [(n["tag"], n["body"]) for n in shown] == [("incident-a", "Centrum · 01:07")]
        _push(session, live_server.url, found[-1], other)
        wait_until(
            page,
            SHOWN + ".length === 2",
        )
        by_tag = {n["tag"]: n for n in _notifications(page)}
        assert by_tag["incident-a"]["url"] == live_server.url + "/workspace/alerts/1"
        # A payload cannot send the person outside the workspace.
        assert by_tag["incident-b"]["url"] == live_server.url + "/workspace/"
        # Even an empty push (no payload) shows something: a silent push is never allowed.
        _push(session, live_server.url, found[-1], "")
        wait_until(
            page,
            SHOWN + ".length === 3",
        )
    finally:
        context.close()


def test_permission_is_asked_only_after_the_button(live_server: LiveServer, browser: Browser):
    configure_vapid(live_server.app)
    who = _coordinator(live_server)
    context = browser.new_context(locale="sv-SE")
    # Count the asks; answer "denied" so no push service is contacted.
    context.add_init_script(
        """window.__asked = 0;
        Notification.requestPermission = async () => { window.__asked += 1; return 'denied'; };"""
    )
    page = context.new_page()
    try:
        log_in(page, live_server, who)
        page.goto(live_server.url + "/workspace/notifications")
        button = page.get_by_role("button", name="Aktivera notiser på den här enheten")
        expect(button).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#notify-off")).to_be_visible()
        assert page.evaluate("window.__asked") == 0
        button.click()
        expect(page.locator("#notify-denied")).to_be_visible(timeout=TIMEOUT_MS)
        assert page.evaluate("window.__asked") == 1
    finally:
        context.close()


def test_ios_outside_the_home_screen_explains_instead_of_asking(
    live_server: LiveServer, browser: Browser
):
    configure_vapid(live_server.app)
    who = _coordinator(live_server)
    context = browser.new_context(
        locale="sv-SE", user_agent=IPHONE_UA, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        log_in(page, live_server, who)
        page.goto(live_server.url + "/workspace/notifications")
        expect(page.locator("#notify-ios")).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#notify-ios")).to_contain_text("hemskärmen")
        expect(
            page.get_by_role("button", name="Aktivera notiser på den här enheten")
        ).to_be_hidden()
    finally:
        context.close()


# --- the field app -----------------------------------------------------------------------------


def _enrol_with_rota(server: LiveServer, page: Page) -> int:
    """Enrol a phone in an organisation whose rota has a number; wait for the pull to bring it."""
    with server.app.app_context():
        org = orgs.create("Staffanstorps kommun")
        person = factories.make_person(org, "coordinator")
        with phase("write"):
            rota.save(org.id, PHONE, [rota.Level(1, 5, [person.person.id])])
        link = enrol_url(devices.issue_code(org, "Väktarbil 1", "vaktare", 24).code)
        org_id = org.id
    page.goto(link)
    expect(page.locator("#tiles button").first).to_be_visible(timeout=TIMEOUT_MS)
    wait_until(page, f"(await (await import('/store.js')).getMeta('onCall'))?.phone === '{PHONE}'")
    return org_id


def test_an_urgent_report_that_cannot_get_through_offers_tel_and_sms(stoppable_server, page):
    _enrol_with_rota(stoppable_server, page)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    stoppable_server.stop()
    page.get_by_role("button", name="Brand").click()
    page.get_by_role("button", name="Spara").click()
    panel = page.locator("#urgent-fallback")
    expect(panel).to_be_visible(timeout=TIMEOUT_MS)
    expect(panel.get_by_role("link", name="Ring 112")).to_have_attribute("href", "tel:112")
    expect(panel.get_by_role("link", name="Ring jouren")).to_have_attribute("href", f"tel:{PHONE}")
    href = panel.get_by_role("link", name="SMS till jouren").get_attribute("href") or ""
    assert href.startswith(f"sms:{PHONE}?body=")  # Android's form (Chromium is not iOS)
    body = unquote(href.split("body=", 1)[1])
    (report_id,) = page.evaluate(
        "async () => (await import('/store.js')).listReports().then((rs) => rs.map((r) => r.id))"
    )
    assert len(body) <= 160 and body.startswith("BRÅDSKANDE: Brand.")
    assert report_id.replace("-", "")[:8] in body and re.search(r"\d{2}:\d{2}$", body)
    # The report still goes by itself once the server is back.
    stoppable_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#reports .report-state")).to_have_text(
        [re.compile("^På servern")], timeout=TIMEOUT_MS
    )


def test_the_sms_body_fits_one_sms_and_ios_gets_its_own_form(live_server, page):
    page.goto(live_server.url + "/")
    result = page.evaluate(
        """async () => {
            const m = await import('/sms-link.js');
            const words = {urgent: 'BRÅDSKANDE', report: 'Rapport', noPosition: 'position saknas'};
            const at = new Date(2026, 11, 7, 1, 2);
            const id = '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
            const long = m.smsBody({category: 'Ö'.repeat(300), id, lat: 55.639812345,
                                    lon: 13.2083149, at}, words);
            const plain = m.smsBody({category: 'Brand', id, lat: 55.639812345, lon: 13.2083149, at},
                                    words);
            const nowhere = m.smsBody({category: 'Brand', id, lat: null, lon: null, at}, words);
            return {long, plain, nowhere,
                    ios: m.smsHref('+46701112233', plain, true),
                    android: m.smsHref('+46701112233', plain, false),
                    iphone: m.isIos({userAgent: 'iPhone OS 17'}),
                    ipad: m.isIos({userAgent: 'Mac', platform: 'MacIntel', maxTouchPoints: 5}),
                    pixel: m.isIos({userAgent: 'Linux; Android 14; Pixel 8'})};
        }"""
    )
    assert result["plain"] == "BRÅDSKANDE: Brand. Rapport 0f1e2d3c, 55.63981,13.20831, 01:02"
    assert len(result["long"]) == 160 and result["long"].endswith(
        "0f1e2d3c, 55.63981,13.20831, 01:02"
    )
    assert "position saknas" in result["nowhere"]
    assert result["ios"].startswith("sms:+46701112233&body=BR%C3%85DSKANDE")
    assert result["android"].startswith("sms:+46701112233?body=BR%C3%85DSKANDE")
    assert (result["iphone"], result["ipad"], result["pixel"]) == (True, True, False)


def test_the_phone_learns_that_the_on_call_person_has_seen_its_report(live_server, page):
    org_id = _enrol_with_rota(live_server, page)
    page.get_by_role("button", name="Brand").click()
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#reports .report-state")).to_have_text(
        [re.compile("^På servern")], timeout=TIMEOUT_MS
    )
    expect(page.locator("#urgent-fallback")).to_be_hidden()
    with live_server.app.app_context():
        tick(utcnow())
        alert = db.session.query(Alert).filter_by(org_id=org_id).one()
        member = db.session.query(OnCallMember).first()
        acker = db.session.get(Person, member.person_id)
        with phase("write"):
            ack.acknowledge(acker, alert.id, utcnow())
    page.evaluate("window.dispatchEvent(new Event('online'))")  # a sync pass now
    expect(page.get_by_text("Jouren har sett din rapport")).to_be_visible(timeout=TIMEOUT_MS)


# --- accessibility -----------------------------------------------------------------------------


def test_the_alert_pages_are_accessible(live_server: LiveServer, browser: Browser, page: Page):
    configure_vapid(live_server.app)
    who = _coordinator(live_server)
    client = live_server.app.test_client()
    with live_server.app.app_context():
        person = db.session.get(Person, who.person.id)
        with phase("write"):
            rota.save(person.org_id, PHONE, [rota.Level(1, 5, [person.id])])
        org = db.session.get(Organisation, person.org_id)
        dev = factories.make_device(org)
        resp = client.post(
            "/api/v1/sync/push",
            json={"reports": [factories.report(category="brand")]},
            headers=dev.headers,
        )
        assert resp.status_code == 200
        tick(utcnow())
        alert_id = db.session.query(Alert).filter_by(org_id=person.org_id).one().id
    log_in(page, live_server, who)
    for path in ("/workspace/oncall", "/workspace/notifications", f"/workspace/alerts/{alert_id}"):
        page.goto(live_server.url + path)
        assert_accessible(browser, page)
    expect(page.get_by_role("button", name="Kvittera")).to_be_visible()
    # A reader who is not on call sees the alert without the button, and why.
    with live_server.app.app_context():
        reader = factories.make_person(db.session.get(Organisation, person.org_id), "viewer")
    other = browser.new_context(locale="sv-SE").new_page()
    try:
        log_in(other, live_server, reader)
        other.goto(f"{live_server.url}/workspace/alerts/{alert_id}")
        expect(other.locator("#acknowledge-who")).to_have_text(
            "Bara jouren, samordnare och administratörer kan kvittera."
        )
        expect(other.get_by_role("button", name="Kvittera")).to_have_count(0)
        assert_accessible(browser, other)
    finally:
        other.context.close()


def test_the_fallback_panel_is_accessible(stoppable_server, page):
    _enrol_with_rota(stoppable_server, page)
    stoppable_server.stop()
    page.get_by_role("button", name="Brand").click()
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#urgent-fallback")).to_be_visible(timeout=TIMEOUT_MS)
    found = serious(run_axe(page))
    assert not found, describe(found)
