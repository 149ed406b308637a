"""A safety walk on a phone with no network: observations across stops, synced exactly once.

The walk (a route and four stops) is planned on the server; the phone pulls it, loses its
network for real (the server stops listening), makes ten observations (three with a photo)
across the stops in walk mode, gets its network back and syncs. The first push's answer is
lost after the server committed it, so the phone sends the batch again: the server keeps
each observation once. The protocol, on the workspace page and as the CLI's file, lists them
in stop order and names nobody. Playwright's own bounded waits only; no sleeps.
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Route, expect
from sqlalchemy import select

from server.cli import main as lagesbild
from server.commands.devices import enrol_url
from server.devices import service as devices
from server.extensions import db
from server.orgs import service as orgs
from server.photos.models import Photo
from server.reports.models import Report
from tests.browser.conftest import StoppableServer, wait_until
from tests.browser.workspace_support import assert_accessible, log_in
from tests.support import factories
from tests.support.walks import make_walk, phone_day

TIMEOUT_MS = 15000
DEVICE_NAME = "Zebulons vandringstelefon"
COORDINATOR = "zebulon.quarfordt@example.se"
# (stop, tile, feeling, photo): None keeps the preselected stop, "" is "Inget stopp".
PLAN = [
    (None, "Belysning", "Otrygg", True),  # stop 1, preselected at first
    (None, "Skymd sikt / vegetation", "Otrygg", False),  # stop 2, the next one
    ("2", "Nedskräpning", "Neutral", False),
    ("4", "Öde plats", "Otrygg", True),
    ("3", "Tillgänglighet", "Trygg", False),
    ("1", "Klotter / skadegörelse", "Neutral", False),
    ("", "Övrigt (vandring)", "Trygg", False),
    ("3", "Belysning", "Trygg", True),
    ("4", "Trafik", "Neutral", False),
    ("", "Belysning", "Otrygg", False),
]
STOPS = [1, 2, 2, 4, 3, 1, None, 3, 4, None]


class LostAnswer:
    """Push handler: the first answer is lost after the server committed the batch."""

    def __init__(self) -> None:
        self.lost = False

    def __call__(self, route: Route) -> None:
        if self.lost:
            route.continue_()
            return
        answer = route.fetch()
        assert answer.status == 200, answer.text()
        self.lost = True
        route.abort("connectionreset")


def _png(path: Path, shade: int) -> Path:
    Image.new("RGB", (320, 240), (shade, 90, 40)).save(path)
    return path


def test_a_walk_made_offline_syncs_once_and_its_protocol_is_in_stop_order(
    stoppable_server: StoppableServer, browser: Browser, tmp_path: Path
) -> None:
    server = stoppable_server
    with server.app.app_context():
        org = orgs.create("Staffanstorps kommun")
        walk_id = make_walk(org, on=phone_day()).id  # the walk screen lists the phone's day
        link = enrol_url(devices.issue_code(org, DEVICE_NAME, "nattvandrare", 24).code)
        coordinator = factories.make_person(org, email=COORDINATOR)
        db.session.remove()
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/api/v1/sync/push", LostAnswer())
    page = context.new_page()
    try:
        page.goto(link)
        join = page.get_by_role("button", name="Trygghetsvandring: Centrum (mörker)")
        expect(join).to_be_visible()  # the first pull brought the walk
        wait_until(page, "navigator.serviceWorker.controller !== null", TIMEOUT_MS)

        server.stop()
        context.set_offline(True)
        page.reload()  # offline: the shell from the worker, the walk from IndexedDB
        join.click()
        expect(page.get_by_role("heading", name="Trygghetsvandring: Centrum")).to_be_focused()
        expect(page.locator("#walk-stops li")).to_have_text(
            ["Stationen", "Gångtunneln", "Parken", "Torget"]
        )
        expect(page.locator("#new-report")).to_be_hidden()
        # The route drawn to scale with its four numbered stops (no map tiles: offline).
        drawing = page.locator("#walk-drawing svg[aria-label='Rutten med numrerade stopp']")
        expect(drawing.locator("polyline")).to_have_count(1)
        expect(drawing.locator("text")).to_have_text(["1", "2", "3", "4"])

        stop = page.get_by_label("Stopp", exact=True)
        for n, ((choice, tile, feeling, photo), expected) in enumerate(
            zip(PLAN, STOPS, strict=True), start=1
        ):
            if choice is not None:
                stop.select_option(choice)
            expect(stop).to_have_value("" if expected is None else str(expected))
            page.get_by_role("button", name=tile, exact=True).click()
            page.get_by_role("button", name=feeling, exact=True).click()
            if photo:
                page.locator("#walk-photo-input").set_input_files(_png(tmp_path / f"{n}.png", n))
                page.get_by_role("dialog").get_by_role("button", name="Klar").click()
                expect(page.locator("#walk-photo-list img")).to_have_count(1)
            page.get_by_label("Anteckning").fill(f"Iakttagelse {n}")
            page.get_by_role("button", name="Spara iakttagelse").click()
            expect(page.locator("#reports .report-state")).to_have_count(n)
            expect(page.locator("#walk-photo-list img")).to_have_count(0)
        expect(page.locator("#reports .report-state")).to_have_text(["Sparad på telefonen"] * 10)

        server.start()
        context.set_offline(False)  # "online": a pass runs, its first answer is lost
        wait_until(
            page,
            "[...document.querySelectorAll('#reports .report-state')]"
            ".every((el) => el.textContent.startsWith('På servern'))",
            TIMEOUT_MS * 2,
        )
        with server.app.app_context():
            rows = list(db.session.scalars(select(Report).where(Report.walk_id == walk_id)))
            assert len(rows) == 10
            assert len(db.session.scalars(select(Report)).all()) == 10
            by_text = {r.description: r for r in rows}
            assert [by_text[f"Iakttagelse {n}"].walk_stop for n in range(1, 11)] == STOPS
            assert by_text["Iakttagelse 5"].feeling == "safe"
            assert by_text["Iakttagelse 4"].category_code == "vandring_ode"
            with_photos = [r for r in rows if r.photos]
            assert len(with_photos) == 3
            stored = set(db.session.scalars(select(Photo.sha256)))
            assert {p for r in with_photos for p in r.photos} <= stored

            target = tmp_path / "protokoll.html"
            result = server.app.test_cli_runner().invoke(
                lagesbild, ["walk", "protocol", str(walk_id), "--html", str(target)]
            )
            assert result.exit_code == 0, result.output
            db.session.remove()
        html = target.read_text(encoding="utf-8")

        log_in(page, server, coordinator)
        page.goto(f"{server.url}/workspace/walks/{walk_id}/protocol")
        expect(page.locator(".obs li")).to_have_count(10)
        expect(page.locator(".thumbs img")).to_have_count(3)
        shown = page.locator(".obs li p").all_inner_texts()
        # Stop 1, 2, 3, 4 (by time within a stop), then those at no stop.
        order = [1, 6, 2, 3, 5, 8, 4, 9, 7, 10]
        assert shown == [f"Iakttagelse {n}" for n in order]
        assert [html.index(f"Iakttagelse {n}<") for n in order] == sorted(
            html.index(f"Iakttagelse {n}<") for n in order
        )
        for doc in (page.content(), html):
            assert "Zebulon" not in doc and COORDINATOR not in doc and DEVICE_NAME not in doc
        assert html.count("data:image/jpeg;base64,") == 3
        assert_accessible(browser, page)
        page.goto(f"{server.url}/workspace/walks")
        expect(page.get_by_role("link", name="Protokoll")).to_be_visible()
        assert_accessible(browser, page)
    finally:
        context.close()


# A database as the previous version of the app left it (version 2: reports, photos, meta,
# drafts) with one report still queued and a draft.
_VERSION_2 = """async () => {
    const id = crypto.randomUUID();
    const now = new Date().toISOString();
    await new Promise((resolve, reject) => {
        const open = indexedDB.open('lagesbild', 2);
        open.onupgradeneeded = () => {
            const db = open.result;
            db.createObjectStore('reports', {keyPath: 'id'});
            db.createObjectStore('photos', {keyPath: 'sha256'});
            db.createObjectStore('meta');
            db.createObjectStore('drafts');
        };
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['reports', 'drafts'], 'readwrite');
            tx.objectStore('reports').put({
                id, category: 'skadegorelse', severity: 2, description: 'Kö från version 2',
                location: null, place: 'Torget', people_count: null, photos: [],
                created_at: now, updated_at: now, revision: 0, state: 'saved', errors: null,
                serverStatus: null, pushStatus: null, version: null, missingPhotos: [],
                comments: [], updatedAt: now,
            });
            tx.objectStore('drafts').put({
                id: crypto.randomUUID(), editId: null, category: 'brand', severity: null,
                description: 'Halvskriven', place: '', people: '', photos: [], location: null,
                startedAt: now, savedAt: now,
            }, 'current');
            tx.oncomplete = () => { db.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    });
    return id;
}"""


def test_the_upgrade_to_walks_keeps_the_queue_and_the_draft(live_server, page) -> None:
    with live_server.app.app_context():
        org = orgs.create("Staffanstorps kommun")
        link = enrol_url(devices.issue_code(org, "Telefon 1", "vaktare", 24).code)
        db.session.remove()
    page.goto(live_server.url + "/manifest.webmanifest")  # the origin, without the app
    queued = page.evaluate(_VERSION_2)

    page.goto(link)

    expect(page.get_by_label("Beskrivning")).to_have_value("Halvskriven", timeout=TIMEOUT_MS)
    expect(page.locator("#reports .report-state")).to_have_text(
        [re.compile(r"^På servern")], timeout=TIMEOUT_MS
    )
    with live_server.app.app_context():
        (row,) = db.session.scalars(select(Report)).all()
        assert (str(row.id), row.description) == (queued, "Kö från version 2")
        db.session.remove()
    stores = page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open('lagesbild');
            open.onsuccess = () => {
                const db = open.result;
                resolve([db.version, [...db.objectStoreNames].sort()]);
                db.close();
            };
        })"""
    )
    # Later versions only add stores (4: the guard rounds, pwa/idb.js).
    assert stores == [
        4,
        [
            "checkpoints",
            "drafts",
            "meta",
            "photos",
            "reports",
            "round_runs",
            "rounds",
            "scans",
            "walks",
        ],
    ]
