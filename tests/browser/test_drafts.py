"""Nothing typed is lost: the half-written report is a draft in IndexedDB until Spara or Avbryt.

A real Chromium against the real app; every wait is Playwright's own or a bounded poll in the
page, never a sleep.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from server.extensions import db
from server.reports.models import Report
from tests.browser.conftest import wait_until
from tests.browser.test_report_form import ON_SERVER, TIMEOUT_MS, _enrol, _states

STATIONEN = {"latitude": 55.6405, "longitude": 13.2066, "accuracy": 30}
RESTORED = "Utkast återställt"

# The stored draft as the page's IndexedDB has it (null while there is none, or no store).
_DRAFT = """new Promise((resolve, reject) => {
    const open = indexedDB.open('lagesbild');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains('drafts')) { db.close(); resolve(null); return; }
        const get = db.transaction('drafts').objectStore('drafts').getAll();
        get.onsuccess = () => { db.close(); resolve(get.result[0] ?? null); };
    };
})"""


def _png(path: Path) -> Path:
    Image.new("RGB", (300, 200), (40, 90, 200)).save(path, "PNG")
    return path


def _draft_has(page: Page, condition: str) -> None:
    wait_until(page, f"(async (d) => d !== null && ({condition}))(await {_DRAFT})", TIMEOUT_MS)


def test_a_half_written_report_survives_a_reload_and_is_then_saved_once(
    live_server, browser: Browser, tmp_path
):
    context = browser.new_context(
        locale="sv-SE", permissions=["geolocation"], geolocation=STATIONEN
    )
    page = context.new_page()
    _enrol(live_server, page)
    page.get_by_role("button", name="Otrygg plats").click()
    page.get_by_role("button", name="3 Hög").click()
    page.get_by_label("Beskrivning").fill("Släckt belysning i gången")
    page.get_by_label("Plats").fill("Cykelgaraget")
    page.get_by_label("Antal personer").fill("4")
    page.get_by_label("Ta foto").set_input_files(_png(tmp_path / "lampa.png"))
    page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.locator("#location")).to_have_text("Position: ±30 m", timeout=TIMEOUT_MS)
    _draft_has(page, "d.photos?.length === 1 && d.location !== null && d.people === '4'")

    page.reload()

    expect(page.locator("#report-form")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(RESTORED)).to_be_visible()
    expect(page.locator("#form-category")).to_have_text("Otrygg plats")
    expect(page.get_by_role("button", name="3 Hög")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("Beskrivning")).to_have_value("Släckt belysning i gången")
    expect(page.get_by_label("Plats")).to_have_value("Cykelgaraget")
    expect(page.get_by_label("Antal personer")).to_have_value("4")
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with live_server.app.app_context():
        (row,) = db.session.scalars(select(Report)).all()
        assert (row.category_code, row.severity, row.description, row.place, row.people_count) == (
            "otrygg_plats",
            3,
            "Släckt belysning i gången",
            "Cykelgaraget",
            4,
        )
        assert len(row.photos) == 1 and (row.lat, row.lon) == (55.6405, 13.2066)

    page.reload()  # saved: the draft is gone, the tiles are back
    expect(page.locator("#tiles button").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#report-form")).to_be_hidden()
    assert page.evaluate(_DRAFT) is None
    context.close()


def test_a_reload_right_after_typing_keeps_the_last_words(live_server, page):
    _enrol(live_server, page)
    page.get_by_role("button", name="Otrygg plats").click()
    page.get_by_label("Beskrivning").fill("Direkt omladdning")

    page.reload()  # within the draft's write delay: the unloading page keeps it

    expect(page.get_by_text(RESTORED)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_label("Beskrivning")).to_have_value("Direkt omladdning")
    assert page.evaluate("localStorage.getItem('lagesbild.draftAtUnload')") is None  # moved


def test_a_draft_survives_the_tab_being_discarded_while_the_camera_is_open(live_server, page):
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Beskrivning").fill("Krossad ruta i entrén")
    with page.expect_file_chooser():
        page.get_by_text("Ta foto").click()  # the camera takes the screen
    _draft_has(page, "d.description === 'Krossad ruta i entrén'")
    context = page.context

    page.close()  # the phone discards the tab behind the camera; later the app starts again
    again = context.new_page()
    again.goto(live_server.url + "/")

    expect(again.locator("#report-form")).to_be_visible(timeout=TIMEOUT_MS)
    expect(again.get_by_text(RESTORED)).to_be_visible()
    expect(again.locator("#form-category")).to_have_text("Skadegörelse")
    expect(again.get_by_label("Beskrivning")).to_have_value("Krossad ruta i entrén")


def test_a_half_done_change_to_a_stored_report_survives_a_reload(live_server, page):
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Beskrivning").fill("Klotter")
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Ändra").click()
    page.get_by_label("Beskrivning").fill("Klotter på busskuren, stor tagg")
    _draft_has(page, "d.editId !== null && d.description.endsWith('stor tagg')")

    page.reload()

    expect(page.locator("#new-report-heading")).to_have_text("Ändra rapport", timeout=TIMEOUT_MS)
    expect(page.get_by_label("Beskrivning")).to_have_value("Klotter på busskuren, stor tagg")
    page.get_by_role("button", name="Spara").click()
    sent_again = (
        "(await (await import('/store.js')).listReports())"
        ".every((r) => r.revision === 1 && r.state === 'sent')"
    )
    wait_until(page, sent_again, TIMEOUT_MS)
    with live_server.app.app_context():
        (row,) = db.session.scalars(select(Report)).all()  # the same report, changed
        assert (row.category_code, row.description) == (
            "skadegorelse",
            "Klotter på busskuren, stor tagg",
        )


def test_avbryt_ends_the_draft(live_server, page):
    _enrol(live_server, page)
    page.get_by_role("button", name="Brand").click()
    page.get_by_label("Beskrivning").fill("Papperskorg brann")
    _draft_has(page, "d.description === 'Papperskorg brann'")

    page.get_by_role("button", name="Avbryt").click()
    wait_until(page, f"(await {_DRAFT}) === null", TIMEOUT_MS)
    page.reload()

    expect(page.locator("#tiles button").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#report-form")).to_be_hidden()


# A database as the previous version of the app left it (version 1: reports, photos, meta)
# with one report still queued and its photo.
_VERSION_1 = """async () => {
    const canvas = new OffscreenCanvas(40, 30);
    canvas.getContext('2d').fillRect(0, 0, 20, 15);
    const blob = await canvas.convertToBlob({type: 'image/jpeg'});
    const bytes = await blob.arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    const hex = (b) => b.toString(16).padStart(2, '0');
    const sha256 = Array.from(new Uint8Array(digest), hex).join('');
    const id = crypto.randomUUID();
    const now = new Date().toISOString();
    await new Promise((resolve, reject) => {
        const open = indexedDB.open('lagesbild', 1);
        open.onupgradeneeded = () => {
            const db = open.result;
            db.createObjectStore('reports', {keyPath: 'id'});
            db.createObjectStore('photos', {keyPath: 'sha256'});
            db.createObjectStore('meta');
        };
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['reports', 'photos'], 'readwrite');
            tx.objectStore('photos').put({sha256, type: 'image/jpeg', bytes});
            tx.objectStore('reports').put({
                id, category: 'skadegorelse', severity: 2, description: 'Kö från förra versionen',
                location: null, place: 'Torget', people_count: null, photos: [sha256],
                created_at: now, updated_at: now, revision: 0, state: 'saved', errors: null,
                serverStatus: null, pushStatus: null, version: null, missingPhotos: [],
                comments: [], updatedAt: now,
            });
            tx.oncomplete = () => { db.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    });
    return id;
}"""


def test_the_upgrade_to_drafts_keeps_every_queued_report(live_server, page):
    page.goto(live_server.url + "/manifest.webmanifest")  # the origin, without the app
    queued = page.evaluate(_VERSION_1)

    _enrol(live_server, page)

    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with live_server.app.app_context():
        (row,) = db.session.scalars(select(Report)).all()
        assert (str(row.id), row.description, len(row.photos)) == (
            queued,
            "Kö från förra versionen",
            1,
        )
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
    # Later versions only add stores (3: walks; 4: the guard rounds, pwa/idb.js).
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
