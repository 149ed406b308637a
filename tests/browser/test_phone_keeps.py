"""What the phone keeps, in a real Chromium against the app (pwa/keep.js, pwa/prune.js).

Acknowledged reports lose their details after the server's number of days, reports the server
deleted leave at once, a wipe ordered with `lagesbild device wipe` reaches the phone on its
next pull, and a revoked phone deletes what the server has at once. Unsent reports and their
photos stay in every case. Time is controlled by the server's setting and by moving a report's
acknowledgement time back in IndexedDB; every wait is bounded, never a sleep.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from server.cli import main
from server.devices import service as devices
from server.devices.models import Device
from server.extensions import db
from server.incidents import feedback
from server.reports.models import Report
from tests.browser.conftest import wait_until
from tests.browser.test_report_form import CONTROLLED, ON_SERVER, TIMEOUT_MS, _enrol, _states

DAY_MS = 24 * 60 * 60 * 1000
# Both object stores as they are, read straight from IndexedDB.
IDB = """async () => {
    const db = await (await import('/store.js')).openDb();
    const all = (name) => new Promise((resolve, reject) => {
        const request = db.transaction(name).objectStore(name).getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    const reports = await all('reports');
    const photos = (await all('photos')).map((p) => p.sha256);
    return { reports: Object.fromEntries(reports.map((r) => [r.id, r])), photos: photos.sort() };
}"""
# Move stored fields of one report back in time by `ms` (its acknowledgement, its last change).
BACKDATE = """async ([id, fields, ms]) => {
    const db = await (await import('/store.js')).openDb();
    await new Promise((resolve, reject) => {
        const tx = db.transaction('reports', 'readwrite');
        const reports = tx.objectStore('reports');
        const request = reports.get(id);
        request.onsuccess = () => {
            const record = request.result;
            for (const field of fields) record[field] = new Date(Date.now() - ms).toISOString();
            reports.put(record);
        };
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
    });
}"""


def _idb(page: Page) -> dict[str, Any]:
    return page.evaluate(IDB)


def _until(page: Page, expression: str) -> None:
    wait_until(page, expression, TIMEOUT_MS)


def _png(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (120, 80), colour).save(path, "PNG")
    return path


def _report(
    page: Page, tile: str, text: str, photo: Path | None = None, place: str = "Stationen"
) -> str:
    """Log a report through the form; return its id (the newest report on the phone)."""
    before = set(_idb(page)["reports"])
    page.get_by_role("button", name=tile, exact=True).click()
    page.get_by_label("Beskrivning").fill(text)
    page.get_by_label("Plats").fill(place)
    if photo is not None:
        page.get_by_label("Ta foto").set_input_files(photo)
        # The redaction editor: keep the photo as it is.
        page.get_by_role("dialog").get_by_role("button", name="Klar").click()
        expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#toast").get_by_role("status")).to_contain_text("Sparad")
    (new,) = set(_idb(page)["reports"]) - before
    return new


def _item(page: Page, report_id: str):
    return page.locator(f'#reports li[data-id="{report_id}"]')


def _device_id(app) -> int:
    with app.app_context():
        return db.session.scalars(
            select(Device.id).where(Device.display_name == "Väktarbil 1")
        ).one()


def _server_report(app, report_id: str) -> Report | None:
    with app.app_context():
        row = db.session.get(Report, uuid.UUID(report_id))
        db.session.expunge_all()
        return row


def _online(page: Page) -> None:
    page.evaluate("window.dispatchEvent(new Event('online'))")


def test_acknowledged_reports_lose_their_details_after_the_servers_days_unsent_ones_never(
    stoppable_server, page, tmp_path
):
    app = stoppable_server.app
    app.config["PHONE_KEEP_DAYS"] = 1
    _enrol(stoppable_server, page)
    sent = _report(page, "Brand", "Bilbrand vid stationen", _png(tmp_path / "a.png", (200, 40, 40)))
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    _until(page, "(await (await import('/store.js')).getMeta('retention'))?.phone_days === 1")
    wait_until(page, CONTROLLED, TIMEOUT_MS)
    stoppable_server.stop()
    unsent = _report(
        page, "Skadegörelse", "Klotter på busskuren", _png(tmp_path / "b.png", (0, 90, 200))
    )
    before = _idb(page)
    (sha_sent,) = before["reports"][sent]["photos"]
    (sha_unsent,) = before["reports"][unsent]["photos"]
    assert before["reports"][sent]["ackedAt"] and before["photos"] == sorted([sha_sent, sha_unsent])
    # The server acknowledged the sent one two days ago; the unsent one is a month old.
    page.evaluate(BACKDATE, [sent, ["ackedAt"], 2 * DAY_MS])
    page.evaluate(BACKDATE, [unsent, ["updatedAt"], 30 * DAY_MS])

    page.reload()  # start-up prunes, with no network at all

    _until(page, f"(await (await import('/store.js')).getReport('{sent}')).prunedAt")
    after = _idb(page)
    kept = after["reports"][sent]
    assert (kept["description"], kept["place"], kept["location"], kept["photos"]) == (
        "",
        "",
        None,
        [],
    )
    assert kept["severity"] is None and kept["people_count"] is None
    assert (kept["category"], kept["created_at"], kept["state"], kept["serverStatus"]) == (
        "brand",
        before["reports"][sent]["created_at"],
        "sent",
        "ny",
    )
    assert after["photos"] == [sha_unsent]  # the blob of the acknowledged photo is gone
    whole = after["reports"][unsent]
    assert (whole["description"], whole["photos"], whole["state"]) == (
        "Klotter på busskuren",
        [sha_unsent],
        "saved",
    )
    expect(_item(page, sent)).to_contain_text("Brand")
    expect(_item(page, sent).locator(".report-state")).to_have_text("På servern: ny")
    expect(_item(page, sent).locator(".report-pruned")).to_have_text(
        "Text, plats och foton är borttagna från telefonen. De finns kvar på servern."
    )
    expect(_item(page, sent).get_by_role("button")).to_have_count(0)  # an edit would erase
    expect(_item(page, unsent).get_by_role("button", name="Ändra")).to_be_visible()
    row = _server_report(app, sent)
    assert row is not None and row.description == "Bilbrand vid stationen"  # the server keeps it
    assert row.photos == [sha_sent]

    stoppable_server.start()
    _online(page)

    expect(_states(page)).to_have_text([ON_SERVER] * 2, timeout=TIMEOUT_MS)
    just_sent = _idb(page)["reports"][unsent]
    assert just_sent["state"] == "sent" and "prunedAt" not in just_sent  # within its day
    assert just_sent["description"] == "Klotter på busskuren"
    assert _idb(page)["photos"] == [sha_unsent]

    app.config["PHONE_KEEP_DAYS"] = 0  # the server now says: let go at once
    _online(page)

    _until(page, f"(await (await import('/store.js')).getReport('{unsent}')).prunedAt")
    assert _idb(page)["photos"] == []
    expect(_item(page, unsent).locator(".report-pruned")).to_be_visible(timeout=TIMEOUT_MS)


def test_a_report_the_server_deleted_leaves_the_phone_at_once_with_its_photo(
    live_server, page, tmp_path
):
    app = live_server.app
    _enrol(live_server, page)
    erased = _report(
        page, "Narkotika", "Sprutor vid lekplatsen", _png(tmp_path / "n.png", (9, 9, 9))
    )
    kept = _report(page, "Otrygg plats", "Mörkt stråk")
    edited = _report(page, "Brand", "Containerbrand")
    expect(_states(page)).to_have_text([ON_SERVER] * 3, timeout=TIMEOUT_MS)
    assert len(_idb(page)["photos"]) == 1
    with app.app_context():
        feedback.delete_report(uuid.UUID(erased), "erasure")

    _online(page)  # the next pull announces it in `deleted`

    _until(page, f"(await (await import('/store.js')).getReport('{erased}')) === undefined")
    state = _idb(page)
    assert sorted(state["reports"]) == sorted([kept, edited]) and state["photos"] == []
    expect(page.locator("#reports li")).to_have_count(2, timeout=TIMEOUT_MS)
    expect(_item(page, erased)).to_have_count(0)

    # An edit of a report the server deleted meanwhile: the push answers "gone" and the phone
    # drops it then and there (the pull is kept away, so it cannot be what removed it).
    with app.app_context():
        feedback.delete_report(uuid.UUID(edited), "erasure")
    page.route("**/api/v1/sync/pull**", lambda route: route.abort())
    summary = page.evaluate(
        """async (id) => {
            const store = await import('/store.js');
            await store.saveReport({ id, description: 'Containerbrand, släckt' });
            const { token } = JSON.parse(localStorage.getItem('lagesbild.device'));
            return (await import('/sync.js')).syncOnce({ token });
        }""",
        edited,
    )

    assert summary["results"] == {"gone": 1} and summary["error"]["kind"] == "network"
    assert sorted(_idb(page)["reports"]) == [kept]

    # A phone updated from a version that kept deleted reports marked "gone" drops them too.
    legacy = str(uuid.uuid4())
    page.evaluate(
        """async ([id, from]) => {
            const store = await import('/store.js');
            const db = await store.openDb();
            const record = { ...(await store.getReport(from)), id, serverStatus: 'gone' };
            await new Promise((resolve, reject) => {
                const tx = db.transaction('reports', 'readwrite');
                tx.objectStore('reports').put(record);
                tx.oncomplete = resolve;
                tx.onerror = () => reject(tx.error);
            });
        }""",
        [legacy, kept],
    )
    page.unroute("**/api/v1/sync/pull**")
    page.reload()
    _until(page, f"(await (await import('/store.js')).getReport('{legacy}')) === undefined")
    assert sorted(_idb(page)["reports"]) == [kept]


@pytest.fixture
def page_without_worker(browser: Browser) -> Iterator[Page]:
    """A page whose service worker never runs: its Background Sync pass would push past the
    page's own routes (page.route does not see a worker's requests)."""
    context = browser.new_context(locale="sv-SE", service_workers="block")
    yield context.new_page()
    context.close()


def test_a_wipe_ordered_by_an_admin_reaches_the_phone_on_its_next_pull(
    live_server, page_without_worker, tmp_path
):
    page = page_without_worker
    app = live_server.app
    _enrol(live_server, page)
    first = _report(page, "Brand", "Bilbrand", _png(tmp_path / "a.png", (200, 40, 40)))
    second = _report(page, "Skadegörelse", "Klotter")
    expect(_states(page)).to_have_text([ON_SERVER] * 2, timeout=TIMEOUT_MS)
    # One more report that does not get through: its push answer is lost on the way.
    page.route(
        "**/api/v1/sync/push",
        lambda route: route.fulfill(status=200, json={"results": [], "server_time": None}),
    )
    unsent = _report(
        page, "Otrygg plats", "Trasig belysning", _png(tmp_path / "c.png", (0, 90, 200))
    )
    _until(page, f"(await (await import('/store.js')).getReport('{unsent}')).state === 'saved'")
    (sha_unsent,) = _idb(page)["reports"][unsent]["photos"]
    assert len(_idb(page)["photos"]) == 2
    device_id = _device_id(app)

    result = app.test_cli_runner().invoke(main, ["device", "wipe", str(device_id), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["wipe"] == "requested"
    _online(page)

    _until(page, f"(await (await import('/store.js')).getReport('{first}')) === undefined")
    state = _idb(page)
    assert sorted(state["reports"]) == [unsent]  # sent ones gone, the unsent one kept
    assert state["photos"] == [sha_unsent]  # with its photo; the sent report's blob is gone
    assert state["reports"][unsent]["description"] == "Trasig belysning"
    notice = page.locator("#wipe-notice")
    expect(notice).to_have_text(
        re.compile(r"^Din samordnare har rensat telefonen\..*: 2\. Osända rapporter finns kvar"),
        timeout=TIMEOUT_MS,
    )
    expect(page.locator("#reports li")).to_have_count(1)
    expect(_item(page, second)).to_have_count(0)
    with app.app_context():
        device = db.session.get(Device, device_id)
        assert device.wiped_at is not None and not devices.wipe_pending(device)
    assert page.evaluate("localStorage.getItem('lagesbild.device')") is not None  # still enrolled

    page.unroute("**/api/v1/sync/push")
    _online(page)  # the phone keeps working; the wipe is done and not repeated

    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    assert sorted(_idb(page)["reports"]) == [unsent]
    assert _idb(page)["photos"] == [sha_unsent]
    row = _server_report(app, unsent)
    assert row is not None and row.description == "Trasig belysning"


def test_a_revoked_phone_deletes_what_the_server_has_and_keeps_the_unsent_for_export(
    stoppable_server, page, tmp_path
):
    app = stoppable_server.app
    _enrol(stoppable_server, page)
    sent = _report(page, "Brand", "Bilbrand", _png(tmp_path / "a.png", (200, 40, 40)))
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    stoppable_server.stop()
    unsent = _report(page, "Narkotika", "Osänd", _png(tmp_path / "b.png", (0, 90, 200)))
    (sha_unsent,) = _idb(page)["reports"][unsent]["photos"]
    assert len(_idb(page)["photos"]) == 2
    with app.app_context():
        devices.revoke(_device_id(app))
    stoppable_server.start()

    _online(page)

    revoked = page.locator("#revoked")
    expect(revoked.get_by_role("heading", name="Telefonen är spärrad")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.locator("#revoked-wiped")).to_have_text(
        "Rapporter som servern redan hade fått är borttagna från telefonen, med sina foton. "
        "Kvar finns bara det som aldrig kom fram."
    )
    state = _idb(page)
    assert sorted(state["reports"]) == [unsent] and state["photos"] == [sha_unsent]
    expect(page.locator("#reports li")).to_have_count(1)
    # Enter, not a tap: the button lies where Spara was tapped well under 700 ms ago, which
    # the double-tap guard takes for the second tap of a double tap (tap-guard.js).
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.get_by_role("button", name="Exportera osända rapporter").press("Enter")
    data = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert [r["id"] for r in data["reports"]] == [unsent]
    assert [p["sha256"] for p in data["photos"]] == [sha_unsent]
    assert _server_report(app, sent) is not None  # the server keeps what it had

    page.reload()  # still revoked and still only the unsent report after a restart

    expect(page.locator("#revoked-wiped")).to_be_visible(timeout=TIMEOUT_MS)
    assert sorted(_idb(page)["reports"]) == [unsent]
