"""The night view as the coordinator reads it at 06:00: its order, and calm rounds apart."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from playwright.sync_api import Browser, Page, expect

from server.extensions import db
from server.incidents import service as incidents
from server.reports.models import Report
from tests.browser.conftest import LiveServer
from tests.browser.workspace_support import TIMEOUT_MS, assert_accessible, log_in
from tests.support import factories
from tests.support.workspace import push

# What each row of the table shows: closed or open (the status badge), "Brådskande" (the
# badge), the severity in words, and the time.
ROWS = """() => [...document.querySelectorAll('table.incidents tbody tr')].map(tr => ({
  id: tr.dataset.incident,
  category: tr.cells[1].textContent,
  urgent: !!tr.querySelector('.badge-urgent'),
  status: tr.querySelector('[class*="status-"]').className,
  severity: Number((tr.cells[1].textContent.match(/allvarlighetsgrad (\\d)/) || [0, 0])[1]),
  time: tr.cells[0].querySelector('a').textContent.trim(),
}))"""
CLOSED = ("status-atgardad", "status-avslutad", "status-dubblett")


def spot(n: int) -> dict[str, float]:
    """Return a place about a kilometre from the others, so no two reports group."""
    return {"lat": 55.60 + 0.01 * n, "lon": 13.20, "accuracy_m": 5.0}


@dataclass
class Scene:
    """A night of five incidents and two calm rounds."""

    who: factories.Login
    order: list[uuid.UUID]  # the order "Brådskande först" must show


def seed(live_server: LiveServer) -> Scene:
    """Push the night through the real push and close the evening's fire."""
    app = live_server.app
    with app.app_context():
        org = factories.make_org("Staffanstorps kommun")
        who = factories.make_person(org)
        guard = factories.make_device(org, name="Väktarbil", kind="vaktare")
        walker = factories.make_device(org, name="Nattvandrarna", kind="nattvandrare")
        reports = {
            "fire_closed": factories.night_report(20, 0, category="brand", location=spot(0)),
            "minor": factories.night_report(21, 0, severity=1, location=spot(1)),
            "serious": factories.night_report(23, 0, severity=2, location=spot(2)),
            "fire_open": factories.night_report(22, 30, category="brand", location=spot(3)),
            "litter": factories.night_report(19, 0, category="miljo", severity=1, location=spot(4)),
        }
        calm = [
            factories.night_report(
                hour, 0, category="lugnt", severity=None, description="Lugnt", location=spot(5)
            )
            for hour in (18, 23)
        ]
        client = app.test_client()
        push(client, guard, *reports.values())
        push(client, walker, *calm)

        def incident(key: str) -> uuid.UUID:
            found = db.session.get(Report, uuid.UUID(reports[key]["id"])).incident_id
            assert found is not None
            return found

        incidents.set_status(org.id, incident("fire_closed"), "atgardad", None)
        db.session.commit()
        order = [incident(k) for k in ("fire_open", "serious", "litter", "minor", "fire_closed")]
        db.session.remove()
    return Scene(who=who, order=order)


def test_urgent_first_sorts_by_what_the_table_shows(live_server: LiveServer, page: Page) -> None:
    scene = seed(live_server)
    log_in(page, live_server, scene.who)
    expect(page.locator("table.incidents tbody tr")).to_have_count(5, timeout=TIMEOUT_MS)
    rows = page.evaluate(ROWS)
    shown = [
        (r["status"].split()[-1] in CLOSED, not r["urgent"], -r["severity"], r["time"])
        for r in rows
    ]
    assert shown == sorted(shown), rows
    assert [r["id"] for r in rows] == [str(i) for i in scene.order]


def test_calm_rounds_are_presence_not_incidents(
    live_server: LiveServer, page: Page, browser: Browser
) -> None:
    scene = seed(live_server)
    log_in(page, live_server, scene.who)
    rows = page.locator("table.incidents tbody tr")
    expect(rows).to_have_count(5, timeout=TIMEOUT_MS)
    expect(rows.filter(has_text="Lugnt")).to_have_count(0)
    cards = page.locator(".summary-cards")
    assert cards.get_attribute("data-incidents") == "5"
    assert cards.get_attribute("data-action") == "1"  # the open fire; the closed one is done
    assert cards.get_attribute("data-calm") == "2"
    expect(page.get_by_text("5 händelser (5 rapporter) · 2 lugna pass.")).to_be_visible()
    presence = page.get_by_role("region", name="Lugna pass: patrullen var ute")
    expect(presence).to_contain_text("nattvandrare: 2 lugna pass")
    expect(presence).to_contain_text("Första 18:00, sista 23:00")
    assert_accessible(browser, page)
