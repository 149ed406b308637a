"""The field app's outbox features around the happy path, in a real Chromium against the app.

Clock-skew warning, "Rätta och skicka igen" and editing until the coordinator closes a report,
the export of the unsent queue, storage persistence and the low-storage warning, Background
Sync from the service worker, and a revoked phone. Every wait is bounded and never a sleep:
Playwright's own (expect, wait_for_*), or for IndexedDB state a frame-by-frame poll in the page.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from server.categories.models import Category
from server.devices import service as devices
from server.devices.models import Device
from server.extensions import db
from server.incidents import feedback
from server.reports.models import Report
from tests.browser.conftest import wait_until
from tests.browser.test_outbox import _enrol as _enrol_behind_the_app
from tests.browser.test_outbox import _record, _save, _sync
from tests.browser.test_report_form import CONTROLLED, ON_SERVER, TIMEOUT_MS, _enrol, _states

ENROL_NEEDED = "Öppna registreringslänken från din samordnare för att komma igång."
TOKEN = "JSON.parse(localStorage.getItem('lagesbild.device'))?.token ?? null"
# Stubs for navigator.storage, steered from the test through localStorage.
STORAGE_STUB = """
(() => {
  if (!navigator.storage) return;
  navigator.storage.persist = async () => {
    const calls = Number(localStorage.getItem('test.persistCalls') || 0);
    localStorage.setItem('test.persistCalls', String(calls + 1));
    return true;
  };
  navigator.storage.estimate = async () =>
    JSON.parse(localStorage.getItem('test.estimate') || '{"quota": 10737418240, "usage": 1048576}');
})();
"""
GIB = 1024**3
MIB = 1024**2


def _meta(page: Page, key: str) -> Any:
    return page.evaluate("async (key) => (await import('/store.js')).getMeta(key)", key)


def _until(page: Page, check: str, arg: Any = None) -> None:
    """Poll an async check in the page once a frame until it holds, for at most TIMEOUT_MS.

    Playwright's wait_for_function does not await a promise, and IndexedDB only has async
    reads, so this is the same frame-by-frame polling done in the page itself.
    """
    page.evaluate(
        f"""async ([arg, timeout]) => {{
            const check = {check};
            const end = performance.now() + timeout;
            while (!(await check(arg))) {{
                if (performance.now() > end) throw new Error('timed out waiting');
                await new Promise((resolve) => requestAnimationFrame(resolve));
            }}
        }}""",
        [arg, TIMEOUT_MS],
    )


def _wait_meta(page: Page, key: str) -> None:
    """Wait until the store's meta holds `key` (e.g. the cursor after the first pull)."""
    _until(page, "async (key) => (await (await import('/store.js')).getMeta(key)) != null", key)


def _local_reports(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("async () => (await import('/store.js')).listReports()")


def _server_rows(app) -> list[Report]:
    with app.app_context():
        rows = list(db.session.scalars(select(Report)))
        db.session.expunge_all()
        return rows


def _png(path: Path) -> Path:
    Image.new("RGB", (120, 80), (30, 160, 90)).save(path, "PNG")
    return path


def _item(page: Page, report_id: str):
    return page.locator(f'#reports li[data-id="{report_id}"]')


# 1. Clock skew ----------------------------------------------------------------------------


def test_a_phone_clock_30_minutes_off_is_warned_about_and_a_right_one_is_not(live_server, page):
    page.clock.install(time=datetime.now(UTC) - timedelta(minutes=30))
    _enrol(live_server, page)

    warning = page.locator("#clock-warning")
    expect(warning).to_be_visible(timeout=TIMEOUT_MS)
    expect(warning).to_have_text(re.compile(r"^Telefonens klocka går fel med ungefär 30 minuter\."))
    skew = _meta(page, "clockSkewMs")
    assert 29 * 60_000 < skew < 31 * 60_000  # server time minus phone time, measured on arrival

    page.clock.set_system_time(datetime.now(UTC))  # the user sets the right time
    page.evaluate("window.dispatchEvent(new Event('online'))")  # next pass

    expect(warning).to_be_hidden(timeout=TIMEOUT_MS)
    assert abs(_meta(page, "clockSkewMs")) < 2 * 60_000


def test_a_right_clock_shows_no_warning(live_server, page):
    _enrol(live_server, page)
    _wait_meta(page, "clockSkewMs")

    assert abs(_meta(page, "clockSkewMs")) < 2 * 60_000
    expect(page.locator("#clock-warning")).to_be_hidden()
    shown = page.evaluate(
        """async () => {
            const { showClockSkew, CLOCK_SKEW_LIMIT_MS } = await import('/notices.js');
            const warning = document.getElementById('clock-warning');
            return [CLOCK_SKEW_LIMIT_MS, -CLOCK_SKEW_LIMIT_MS - 1, 3 * 3600 * 1000, null].map(
                (skew) => (showClockSkew(skew), warning.hidden ? null : warning.textContent));
        }"""
    )
    assert shown[0] is None and shown[3] is None  # at the limit, or never measured: silent
    assert shown[1].startswith("Telefonens klocka går fel med ungefär 2 minuter.")
    assert shown[2].startswith("Telefonens klocka går fel med ungefär 3 timmar.")


# 2. Rejected reports and edits ------------------------------------------------------------


def test_a_rejected_report_is_corrected_and_sent_again_once(live_server, page):
    app = live_server.app
    _enrol(live_server, page)
    _wait_meta(page, "cursor")  # the first pull is done: the tiles are what the phone knows
    with app.app_context():  # the coordinator retires a category the phone still offers
        db.session.get(Category, "skadegorelse").active = False
        db.session.commit()
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Beskrivning").fill("Klotter på busskuren")
    page.get_by_label("Plats").fill("Stationen")
    page.get_by_role("button", name="3 Hög").click()
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#toast").get_by_role("status")).to_have_text("Sparad: Skadegörelse.")

    (report_id,) = [r["id"] for r in _local_reports(page)]
    item = _item(page, report_id)
    expect(item.locator(".report-state")).to_have_text(
        "Avvisad: This category is no longer in use. Choose another one.", timeout=TIMEOUT_MS
    )
    assert _server_rows(app) == []
    expect(page.get_by_role("button", name="Skadegörelse", exact=True)).to_have_count(0)

    item.get_by_role("button", name="Rätta och skicka igen").click()

    expect(page.locator("#new-report-heading")).to_have_text("Ändra rapport")
    expect(page.locator("#form-category")).to_have_text("Välj kategori")  # its own is retired
    expect(page.get_by_label("Beskrivning")).to_have_value("Klotter på busskuren")
    expect(page.get_by_label("Plats")).to_have_value("Stationen")
    expect(page.get_by_role("button", name="3 Hög")).to_have_attribute("aria-pressed", "true")
    category = page.get_by_label("Kategori")
    expect(category).to_have_value("")  # the retired one is not offered again
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text("Välj en kategori.")).to_be_visible()  # not saved without one
    assert _record(page, report_id)["state"] == "rejected"

    category.select_option(label="Otrygg plats")
    page.get_by_role("button", name="Spara").click()

    expect(item.locator(".report-state")).to_have_text(ON_SERVER, timeout=TIMEOUT_MS)
    expect(page.locator("#new-report-heading")).to_have_text("Ny rapport")
    record = _record(page, report_id)
    assert record["revision"] == 1 and record["errors"] is None
    assert page.evaluate(
        "([a, b]) => Date.parse(b) > Date.parse(a)", [record["created_at"], record["updated_at"]]
    )
    (row,) = _server_rows(app)
    assert (str(row.id), row.category_code, row.description, row.place, row.severity) == (
        report_id,
        "otrygg_plats",
        "Klotter på busskuren",
        "Stationen",
        3,
    )


def test_a_report_can_be_edited_until_the_coordinator_closes_it(live_server, page):
    app = live_server.app
    _enrol(live_server, page)
    for name in ("Brand", "Narkotika"):
        page.get_by_role("button", name=name, exact=True).click()
        page.get_by_label("Beskrivning").fill(f"{name}, första versionen")
        page.get_by_role("button", name="Spara").click()
        expect(page.locator("#toast").get_by_role("status")).to_contain_text("Sparad")
    expect(_states(page)).to_have_text([ON_SERVER] * 2, timeout=TIMEOUT_MS)
    ids = {r["category"]: r["id"] for r in _local_reports(page)}
    closed, open_ = ids["brand"], ids["narkotika"]
    expect(page.get_by_role("button", name="Ändra")).to_have_count(2)
    with app.app_context():
        feedback.set_status(uuid.UUID(closed), "avslutad", "Klart")
        feedback.set_status(uuid.UUID(open_), "bedomd")

    page.evaluate("window.dispatchEvent(new Event('online'))")

    expect(_item(page, closed).locator(".report-state")).to_have_text(
        "På servern: avslutad", timeout=TIMEOUT_MS
    )
    expect(_item(page, closed).get_by_role("button")).to_have_count(0)
    expect(_item(page, open_).locator(".report-state")).to_have_text("På servern: bedömd")
    _item(page, open_).get_by_role("button", name="Ändra").click()
    expect(page.get_by_label("Kategori")).to_have_value("narkotika")
    page.get_by_label("Beskrivning").fill("Narkotika, rättad")
    page.get_by_role("button", name="Spara").click()

    _until(
        page,
        """async (id) => {
            const r = await (await import('/store.js')).getReport(id);
            return r.state === 'sent' && r.pushStatus === 'updated' && r.revision === 1;
        }""",
        open_,
    )
    expect(_item(page, open_).locator(".report-state")).to_have_text(
        "På servern: bedömd", timeout=TIMEOUT_MS
    )
    rows = {str(r.id): r for r in _server_rows(app)}
    assert len(rows) == 2
    assert rows[open_].description == "Narkotika, rättad" and rows[open_].status == "bedomd"
    assert rows[closed].description == "Brand, första versionen"


# 3. Export --------------------------------------------------------------------------------


def test_the_unsent_queue_downloads_as_json_with_photos_and_stays_queued(
    stoppable_server, page, tmp_path
):
    _enrol(stoppable_server, page)
    page.get_by_role("button", name="Lugnt pass").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    (sent_id,) = [r["id"] for r in _local_reports(page)]
    export = page.get_by_role("button", name="Exportera osända rapporter")
    export.click()  # nothing unsent: no file, it says so (the button stays put, issue 12)
    expect(page.locator("#toast").get_by_role("status")).to_have_text(
        "Allt finns redan på servern. Det finns inget att exportera."
    )
    stoppable_server.stop()
    page.get_by_role("button", name="Brand", exact=True).click()
    page.get_by_label("Beskrivning").fill("Bilbrand, ingen täckning")
    page.get_by_label("Ta foto").set_input_files(_png(tmp_path / "brand.png"))
    # The redaction editor: the photo is kept as it is.
    page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text(["Sparad på telefonen", ON_SERVER], timeout=TIMEOUT_MS)
    box = export.bounding_box()
    assert box and box["height"] >= 48

    with page.expect_download(timeout=TIMEOUT_MS) as info:
        export.click()

    download = info.value
    assert re.fullmatch(
        r"lagesbild-osanda-\d{4}-\d\d-\d\d-\d{4}\.json", download.suggested_filename
    )
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["format"] == "lagesbild-outbox" and data["version"] == 1
    (exported,) = data["reports"]
    assert exported["id"] != sent_id and exported["state"] == "saved"
    assert exported["category"] == "brand" and exported["description"] == "Bilbrand, ingen täckning"
    (photo,) = data["photos"]
    assert exported["photos"] == [photo["sha256"]] and photo["type"] == "image/jpeg"
    jpeg = base64.b64decode(photo["base64"])
    assert hashlib.sha256(jpeg).hexdigest() == photo["sha256"]
    with Image.open(io.BytesIO(jpeg)) as img:
        assert img.format == "JPEG" and img.size == (120, 80)
    # Said in the toast, where the user is looking (the button sits after the list).
    expect(page.locator("#toast").get_by_role("status")).to_have_text(
        "Osända rapporter i filen: 1."
    )
    # Exporting cleared nothing: the report is still queued and is sent once coverage is back.
    pending = page.evaluate("async () => (await import('/store.js')).pending()")
    assert [r["id"] for r in pending] == [exported["id"]]
    stoppable_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(_states(page)).to_have_text([ON_SERVER] * 2, timeout=TIMEOUT_MS)
    assert sorted(str(r.id) for r in _server_rows(stoppable_server.app)) == sorted(
        [sent_id, exported["id"]]
    )


# 4. Storage -------------------------------------------------------------------------------


def test_persistence_is_asked_once_and_low_storage_is_warned_about(live_server, browser):
    context = browser.new_context(locale="sv-SE")
    context.add_init_script(STORAGE_STUB)
    page = context.new_page()
    _enrol(live_server, page)
    warning = page.locator("#storage-warning")

    expect(warning).to_be_hidden()
    wait_until(page, "localStorage.getItem('test.persistCalls') === '1'", TIMEOUT_MS)
    # Less than 50 MB free, then more than 90 % used: each warned about after a save.
    for estimate in (
        {"quota": 200 * MIB, "usage": 160 * MIB},
        {"quota": 10 * GIB, "usage": 9.5 * GIB},
    ):
        page.evaluate("(e) => localStorage.setItem('test.estimate', JSON.stringify(e))", estimate)
        # Enter, not a tap: two calm rounds this close at one spot would be one double tap.
        page.get_by_role("button", name="Lugnt pass").press("Enter")
        expect(warning).to_have_text(
            re.compile(r"^Lagringsutrymmet på telefonen håller på att ta slut"), timeout=TIMEOUT_MS
        )
        page.evaluate("localStorage.removeItem('test.estimate')")
        page.get_by_role("button", name="Lugnt pass").press("Enter")
        expect(warning).to_be_hidden(timeout=TIMEOUT_MS)

    page.evaluate(
        "(e) => localStorage.setItem('test.estimate', JSON.stringify(e))",
        {"quota": 100 * MIB, "usage": 99 * MIB},
    )
    page.reload()  # checked on start too; persistence is not asked again
    expect(warning).to_be_visible(timeout=TIMEOUT_MS)
    assert page.evaluate("localStorage.getItem('test.persistCalls')") == "1"
    assert _meta(page, "persistRequested")["granted"] is True
    limits = page.evaluate(
        """async () => {
            const n = await import('/notices.js');
            const free = n.LOW_STORAGE_FREE_BYTES, ratio = n.LOW_STORAGE_USED_RATIO;
            const small = 10 * free, big = 100 * free;  // where only one limit can bite
            return [free, ratio,
                    n.isLow({ quota: small, usage: small - free - 1 }),
                    n.isLow({ quota: small, usage: small - free + 1 }),
                    n.isLow({ quota: big, usage: big * ratio }),
                    n.isLow({ quota: big, usage: big * ratio + 1 }),
                    n.isLow({})];
        }"""
    )
    context.close()
    assert limits == [50 * MIB, 0.9, False, True, False, True, False]


# 5. Background Sync -----------------------------------------------------------------------


def test_saving_registers_the_outbox_sync_tag_and_shares_the_token(live_server, browser):
    context = browser.new_context(locale="sv-SE")
    context.add_init_script(
        """(() => {
            if (typeof SyncManager === 'undefined') return;
            const register = SyncManager.prototype.register;
            window.__syncTags = [];
            SyncManager.prototype.register = function (tag) {
                window.__syncTags.push(tag);
                return register.call(this, tag);
            };
        })();"""
    )
    page = context.new_page()
    _enrol(live_server, page)
    wait_until(page, CONTROLLED, TIMEOUT_MS)
    assert _meta(page, "token") == page.evaluate(TOKEN)  # where the worker finds it
    assert page.evaluate("window.__syncTags") == []

    page.get_by_role("button", name="Lugnt pass").click()

    wait_until(page, "window.__syncTags.includes('outbox')", TIMEOUT_MS)
    context.close()


def test_the_service_worker_syncs_the_outbox_on_a_sync_event(live_server, page):
    body = _enrol_behind_the_app(live_server.app, page, live_server.url)
    page.reload()  # a phone enrolled before this version starts: it shares its token
    expect(page.get_by_role("status")).to_contain_text("Registrerad som Väktarbil 1")
    wait_until(page, CONTROLLED, TIMEOUT_MS)
    _wait_meta(page, "cursor")  # the page's own first pass is over; it runs again in a minute
    assert _meta(page, "token") == body["token"]
    # Saved behind the page's scheduler: whatever sends it now is the service worker.
    saved = _save(page, {"category": "brand", "description": "Skickad av service workern"})
    assert _server_rows(live_server.app) == []

    result = page.evaluate(
        """async (timeout) => {
            const { requestBackgroundSync, SYNCED_MESSAGE } = await import('/background-sync.js');
            const synced = new Promise((resolve, reject) => {
                navigator.serviceWorker.addEventListener('message', (event) => {
                    if (event.data?.type === SYNCED_MESSAGE) resolve(event.data.summary);
                });
                setTimeout(() => reject(new Error('no sync message from the worker')), timeout);
            });
            const registered = await requestBackgroundSync();
            return { registered, summary: await synced };
        }""",
        TIMEOUT_MS,
    )

    assert result["registered"] is True
    assert result["summary"]["ok"] and result["summary"]["results"] == {"created": 1}
    assert _record(page, saved["id"])["state"] == "sent"
    (row,) = _server_rows(live_server.app)
    assert str(row.id) == saved["id"] and row.description == "Skickad av service workern"


# 6. Revoked phone -------------------------------------------------------------------------


def test_wipe_refuses_on_a_phone_that_is_not_revoked(live_server, page):
    _enrol_behind_the_app(live_server.app, page, live_server.url)
    saved = _save(page, {"category": "brand"})

    error = page.evaluate(
        """async () => {
            const store = await import('/store.js');
            try { await store.wipe(); return null; } catch (e) { return e.constructor.name; }
        }"""
    )

    assert error == "NotRevoked"
    assert _record(page, saved["id"])["state"] == "saved"


def test_a_revoked_phone_shows_its_unsent_reports_then_wipes_on_request(
    stoppable_server, page, tmp_path
):
    app = stoppable_server.app
    _enrol(stoppable_server, page)
    page.get_by_role("button", name="Lugnt pass").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    stoppable_server.stop()
    page.get_by_role("button", name="Brand", exact=True).click()
    page.get_by_label("Beskrivning").fill("Osänd när telefonen spärrades")
    page.get_by_label("Ta foto").set_input_files(_png(tmp_path / "brand.png"))
    # The redaction editor: the photo is kept as it is.
    page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text(["Sparad på telefonen", ON_SERVER], timeout=TIMEOUT_MS)
    unsent_id = _local_reports(page)[-1]["id"]
    with app.app_context():
        device = db.session.scalars(
            select(Device).where(Device.display_name == "Väktarbil 1")
        ).one()
        devices.revoke(device.id)
    stoppable_server.start()

    page.evaluate("window.dispatchEvent(new Event('online'))")

    revoked = page.locator("#revoked")
    expect(revoked.get_by_role("heading", name="Telefonen är spärrad")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.get_by_role("status")).to_have_text(
        "Telefonen är inte längre registrerad. Kontakta din samordnare."
    )
    expect(revoked).to_contain_text("Osända rapporter på telefonen: 1.")
    expect(page.locator("#new-report")).to_be_hidden()
    expect(page.locator("#reports li")).to_have_count(1)  # only what never reached the server
    expect(_item(page, unsent_id)).to_contain_text("Brand")
    expect(_item(page, unsent_id).get_by_role("button")).to_have_count(0)  # cannot be sent
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.get_by_role("button", name="Exportera osända rapporter").click()
    data = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert [r["id"] for r in data["reports"]] == [unsent_id] and len(data["photos"]) == 1

    page.reload()  # still revoked after a restart, before any network

    expect(revoked.get_by_role("heading", name="Telefonen är spärrad")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.locator("#reports li")).to_have_count(1)
    wipe = page.get_by_role("button", name="Radera data på telefonen")
    wipe.click()
    confirm = page.locator("#wipe-confirm")
    expect(confirm).to_contain_text("Osända rapporter som du inte har exporterat går förlorade.")
    confirm.get_by_role("button", name="Avbryt").click()  # changed their mind: nothing gone
    # (only the unsent report: the sent one left at once when the phone learnt it is revoked)
    assert [r["id"] for r in _local_reports(page)] == [unsent_id]
    wipe.click()
    confirm.get_by_role("button", name="Ja, radera allt").click()

    expect(page.get_by_role("status")).to_have_text(ENROL_NEEDED, timeout=TIMEOUT_MS)
    for section in ("#new-report", "#my-reports", "#revoked"):
        expect(page.locator(section)).to_be_hidden()
    left = page.evaluate(
        """async () => {
            const store = await import('/store.js');
            const db = await store.openDb();
            const count = (name) => new Promise((resolve) => {
                const request = db.transaction(name).objectStore(name).count();
                request.onsuccess = () => resolve(request.result);
            });
            return { reports: await count('reports'), photos: await count('photos'),
                     meta: await count('meta'),
                     enrolment: localStorage.getItem('lagesbild.device') };
        }"""
    )
    assert left == {"reports": 0, "photos": 0, "meta": 0, "enrolment": None}
    page.reload()
    expect(page.get_by_role("status")).to_have_text(ENROL_NEEDED, timeout=TIMEOUT_MS)
    assert len(_server_rows(app)) == 1  # the server keeps what it had; the phone is clean


def test_each_pass_tells_the_server_how_many_reports_the_phone_still_holds(live_server, page):
    app = live_server.app
    body = _enrol_behind_the_app(app, page, live_server.url)
    pulls: list[str] = []
    page.on("request", lambda r: pulls.append(r.url) if "/sync/pull" in r.url else None)
    _save(page, {"category": "brand", "severity": 9})  # the server rejects it: still unsent
    _save(page, {"category": "narkotika"})
    summary = _sync(page)
    assert summary["ok"], summary
    with app.app_context():
        device = db.session.get(Device, body["device"]["id"])
        assert device.outbox_pending == 1 and device.outbox_reported_at is not None
    assert sum("pending=" in url for url in pulls) == 1  # once a pass, not once a page
