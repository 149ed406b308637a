"""The field scenario end to end, through the real UI in Debian's Chromium.

A phone is enrolled from the link `lagesbild device enrol` prints, loses its network for real
(the server stops listening, so the service worker's own fetches fail too, and the browser is
told it is offline), is restarted with no network on the same profile, logs three reports
(one with two 12-megapixel camera photos and a GPS fix), is reloaded, and gets its network
back: the server then holds each report exactly once, with its photos (small, no EXIF) and
its position. A second scenario breaks the server in the middle of a sync (a 500, then an
answer lost after the commit): the app retries by itself and nothing is lost or duplicated.

Every wait is Playwright's own, bounded by a timeout; there are no sleeps.
"""

from __future__ import annotations

import io
import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFilter
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlalchemy import func, select

from server.cli import main as lagesbild
from server.extensions import db
from server.photos import service as photos
from server.photos.models import Photo
from server.photos.storage import VARIANTS
from server.reports.models import Report
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, StoppableServer, wait_until

TIMEOUT_MS = 15000
ON_SERVER = re.compile(r"^På servern")
ON_PHONE = "Sparad på telefonen"
CONTROLLED = "navigator.serviceWorker.controller !== null"
ORIENTATION = 0x0112
GPS_IFD = 0x8825
# Two fixes: where the photos are taken, then a little further down the street.
STATIONEN = {"latitude": 55.6405, "longitude": 13.2066, "accuracy": 12}
TORGET = {"latitude": 55.6331, "longitude": 13.2134, "accuracy": 8}


@dataclass
class Phone:
    """A Chromium profile that can be closed and started again, as a phone restarting."""

    browser: Browser
    user_data_dir: Path
    opened: list[BrowserContext]

    def launch(self, *, offline: bool = False) -> tuple[BrowserContext, Page]:
        context = self.browser.browser_type.launch_persistent_context(
            self.user_data_dir,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            locale="sv-SE",
            timezone_id="Europe/Stockholm",
            permissions=["geolocation"],
            geolocation=STATIONEN,
            offline=offline,
        )
        self.opened.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return context, page


@pytest.fixture
def phone(browser: Browser, tmp_path: Path) -> Iterator[Phone]:
    opened: list[BrowserContext] = []
    yield Phone(browser, tmp_path / "profile", opened)
    for context in opened:
        context.close()


def _cli(server: StoppableServer, *args: str) -> str:
    """Run the real `lagesbild` command line against the test server's app."""
    result = server.app.test_cli_runner().invoke(lagesbild, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _printed_enrol_link(server: StoppableServer) -> str:
    """Create an organisation and a device; return the link `lagesbild device enrol` prints."""
    _cli(server, "org", "create", "Staffanstorps kommun", "--kind", "kommun")
    output = _cli(
        server,
        "device", "enrol", "--org", "staffanstorps-kommun",
        "--name", "Väktarbil 1", "--kind", "vaktare", "--no-qr",
    )  # fmt: skip
    match = re.search(r"Open on the phone: (\S+)", output)
    assert match, output
    link = match.group(1)
    assert link.startswith(server.url + "/#enrol="), link
    return link


def _enrol(page: Page, link: str) -> None:
    """Open the printed link; wait for the tiles, the service worker and a first sync."""
    page.goto(link)
    expect(page.get_by_role("status")).to_have_text(
        "Registrerad som Väktarbil 1 i Staffanstorps kommun."
    )
    expect(page.locator("#tiles button").first).to_be_enabled()
    wait_until(page, CONTROLLED, TIMEOUT_MS)
    # The first pull has cached the categories and a cursor: the tiles also open offline.
    wait_until(page, "(await (await import('/store.js')).getMeta('cursor')) != null", TIMEOUT_MS)


def _assert_unreachable(server: StoppableServer) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def _camera_jpeg(path: Path, orientation: int, tint: int) -> Path:
    """A 4000x3000 (12 MP) noisy JPEG as a phone camera writes it, with EXIF GPS/orientation."""
    noise = Image.effect_noise((4000, 3000), 40).filter(ImageFilter.GaussianBlur(1.5))
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    blue = Image.blend(noise, gradient, 0.5).point(lambda v: (v + tint) % 256)
    img = Image.merge("RGB", (noise, gradient, blue))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "Testkamera"
    exif[0x0110] = "Fältmodell 12MP"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (55.0, 38.0, 25.8), 3: "E", 4: (13.0, 12.0, 23.8)})
    img.save(path, "JPEG", quality=92, exif=exif.tobytes())
    with Image.open(path) as check:  # the fixture really carries what the test claims
        assert check.size == (4000, 3000)
        assert check.getexif()[ORIENTATION] == orientation
        assert check.getexif().get_ifd(GPS_IFD)
    assert path.stat().st_size > 1_000_000
    return path


def _states(page: Page):
    return page.locator("#reports .report-state")


def _local(page: Page) -> dict[str, Any]:
    """What the phone's IndexedDB holds: every report, the pending ones, the photo hashes."""
    return page.evaluate(
        """async () => {
            const store = await import('/store.js');
            const reports = await store.listReports();
            const pending = await store.pending();
            const db = await store.openDb();
            const stored = await new Promise((resolve, reject) => {
                const req = db.transaction('photos').objectStore('photos').getAll();
                req.onsuccess = () => resolve(req.result);
                req.onerror = () => reject(req.error);
            });
            // The bytes kept here are the bytes uploaded (the server checks their SHA-256).
            const photos = stored.map((p) => ({
                sha256: p.sha256,
                size: p.bytes.byteLength,
                exif: new TextDecoder('latin1').decode(new Uint8Array(p.bytes))
                    .includes('Exif\u0000'),
            }));
            return {reports, pending: pending.map((r) => r.id), photos};
        }"""
    )


def _server_reports(server: StoppableServer) -> list[Report]:
    with server.app.app_context():
        rows = list(db.session.scalars(select(Report).order_by(Report.created_at)))
        db.session.expunge_all()
        return rows


def _log_with_photos(page: Page, shots: list[Path]) -> None:
    """Report 1: Skadegörelse with two camera photos, a description, a place and a fix."""
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    expect(page.locator("#location")).to_have_text("Position: ±12 m")
    page.get_by_label("Ta foto").set_input_files(shots)
    for _ in shots:  # the redaction editor, one photo after the other: kept as they are
        page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(2, timeout=TIMEOUT_MS)
    page.get_by_label("Beskrivning").fill("Krossad busskurglas")
    page.get_by_label("Plats").fill("Stationen, busshållplatsen")
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#toast").get_by_role("status")).to_have_text("Sparad: Skadegörelse.")


def _log_urgent(context: BrowserContext, page: Page) -> None:
    """Report 2: Brand (urgent: the 112 notice first) with severity, further down the street."""
    context.set_geolocation(TORGET)
    page.get_by_role("button", name="Brand").click()
    expect(page.get_by_role("link", name="Ring 112 vid akut fara")).to_be_visible()
    expect(page.locator("#location")).to_have_text("Position: ±8 m")
    page.get_by_role("button", name="3 Hög").click()
    page.get_by_label("Beskrivning").fill("Brand i papperskorg, släckt")
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#toast").get_by_role("status")).to_have_text("Sparad: Brand.")


def _log_calm(page: Page) -> None:
    """Report 3: Lugnt pass, one tap; it takes the position the phone has (issue 12)."""
    # Aimed anew, near its left end: a tap where Spara was tapped a moment ago would be the
    # second tap of a double tap, which the app ignores.
    page.get_by_role("button", name="Lugnt pass").click(position={"x": 24, "y": 24})
    expect(page.locator("#toast").get_by_role("status")).to_contain_text("Sparad: Lugnt")


def test_an_offline_shift_reaches_the_server_once_with_photos_and_positions(
    stoppable_server: StoppableServer, phone: Phone, tmp_path: Path
):
    shots = [
        _camera_jpeg(tmp_path / "IMG_0001.jpg", orientation=6, tint=0),
        _camera_jpeg(tmp_path / "IMG_0002.jpg", orientation=1, tint=90),
    ]
    link = _printed_enrol_link(stoppable_server)
    context, page = phone.launch()
    _enrol(page, link)
    context.close()

    # No coverage: nothing listens any more, and the browser knows it is offline.
    stoppable_server.stop()
    _assert_unreachable(stoppable_server)
    context, page = phone.launch(offline=True)
    page.goto(stoppable_server.url + "/")
    expect(page.get_by_role("status")).to_contain_text("Registrerad som Väktarbil 1")
    assert page.evaluate(CONTROLLED) and not page.evaluate("navigator.onLine")

    _log_with_photos(page, shots)
    _log_urgent(context, page)
    _log_calm(page)
    expect(_states(page)).to_have_text([ON_PHONE] * 3)

    page.reload()

    expect(_states(page)).to_have_text([ON_PHONE] * 3)
    expect(page.locator("#reports .report-title")).to_have_text(
        [re.compile("^Lugnt"), "Brand", "Skadegörelse"]  # newest first
    )
    local = _local(page)
    assert len(local["reports"]) == 3 and sorted(local["pending"]) == sorted(
        r["id"] for r in local["reports"]
    )
    by_category = {r["category"]: r for r in local["reports"]}
    shas = by_category["skadegorelse"]["photos"]
    assert len(shas) == 2 and sorted(p["sha256"] for p in local["photos"]) == sorted(shas)
    for kept in local["photos"]:  # what will be uploaded: small, and no EXIF (GPS) left in it
        assert 0 < kept["size"] < 500_000 and not kept["exif"], kept
    assert _server_reports(stoppable_server) == []

    # Coverage is back: the server listens again and the browser fires `online`.
    stoppable_server.start()
    context.set_offline(False)

    expect(_states(page)).to_have_text([ON_SERVER] * 3, timeout=30000)
    rows = _server_reports(stoppable_server)
    assert sorted(str(r.id) for r in rows) == sorted(by_category[c]["id"] for c in by_category)
    assert [r.category_code for r in rows] == ["skadegorelse", "brand", "lugnt"]
    photo_row, urgent_row, calm_row = rows
    assert photo_row.photos == shas
    assert (photo_row.description, photo_row.place) == (
        "Krossad busskurglas",
        "Stationen, busshållplatsen",
    )
    assert (photo_row.lat, photo_row.lon, photo_row.accuracy_m) == (55.6405, 13.2066, 12)
    assert (urgent_row.lat, urgent_row.lon, urgent_row.accuracy_m) == (55.6331, 13.2134, 8)
    assert urgent_row.severity == 3
    assert (calm_row.lat, calm_row.lon, calm_row.accuracy_m) == (55.6331, 13.2134, 8)
    _assert_photos_small_and_clean(stoppable_server, shas)

    # A fresh start syncs again: still exactly once each, and nothing left to send.
    page.reload()
    expect(_states(page)).to_have_text([ON_SERVER] * 3)
    wait_until(page, "(await (await import('/store.js')).pending()).length === 0", TIMEOUT_MS)
    with stoppable_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 3


def _assert_photos_small_and_clean(server: StoppableServer, shas: list[str]) -> None:
    """Each upload is under 500 kB, and every stored size (and the upload) has no EXIF."""
    with server.app.app_context():
        stored = {p.sha256: p for p in db.session.scalars(select(Photo))}
        assert sorted(stored) == sorted(shas)
        assert sorted((p.width, p.height) for p in stored.values()) == [(1200, 1600), (1600, 1200)]
        for row in stored.values():
            assert 0 < row.bytes < 500_000, row.bytes
            for variant in VARIANTS:
                data = photos.file_for(row, variant).read_bytes()
                with Image.open(io.BytesIO(data)) as img:
                    assert not img.getexif(), variant
                    assert "exif" not in img.info, variant
                assert b"Exif\x00" not in data and b"Testkamera" not in data


class FlakyPush:
    """Route handler for the push: a 500 first, then a lost answer after the commit, then OK.

    Installed on the browser context, so it sees a push whether the page or the service
    worker sends it.
    """

    def __init__(self, server: StoppableServer) -> None:
        self.server = server
        self.plan = ["fail-500", "drop-after-commit"]
        self.calls: list[str] = []
        self.dropped_ids: list[str] = []
        self.rows_when_dropped: int | None = None

    def __call__(self, route: Route) -> None:
        step = self.plan.pop(0) if self.plan else "pass"
        self.calls.append(step)
        if step == "fail-500":
            route.fulfill(
                status=500,
                content_type="application/json",
                body='{"error": {"code": "internal_error", "message": "Boom"}}',
            )
        elif step == "drop-after-commit":
            answer = route.fetch()  # the server reads, merges and commits the batch
            assert answer.status == 200, answer.text()
            self.dropped_ids = [r["id"] for r in route.request.post_data_json["reports"]]
            with self.server.app.app_context():
                self.rows_when_dropped = db.session.scalar(select(func.count()).select_from(Report))
            route.abort("connectionreset")  # ... and the phone never hears back
        else:
            route.continue_()


def test_a_sync_broken_halfway_is_retried_without_loss_or_duplicates(
    stoppable_server: StoppableServer, phone: Phone, tmp_path: Path
):
    sign = tmp_path / "skylt.png"
    Image.new("RGB", (300, 200), (200, 40, 40)).save(sign, "PNG")
    link = _printed_enrol_link(stoppable_server)
    context, page = phone.launch()
    _enrol(page, link)

    # Log three reports with no network (nothing reaches the server yet).
    stoppable_server.stop()
    context.set_offline(True)
    page.get_by_role("button", name="Otrygg plats").click()
    page.get_by_label("Ta foto").set_input_files(sign)
    # The redaction editor: the photo is kept as it is.
    page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(1)
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#toast").get_by_role("status")).to_have_text("Sparad: Otrygg plats.")
    _log_urgent(context, page)
    _log_calm(page)
    expect(_states(page)).to_have_text([ON_PHONE] * 3)
    ids = sorted(r["id"] for r in _local(page)["reports"])
    # The user reopens the app, still without coverage. (A fresh start also resets the app's
    # backoff, so its own retries below come within seconds and the test stays bounded.)
    page.reload()
    expect(_states(page)).to_have_text([ON_PHONE] * 3)

    # The network returns, but the server breaks twice in the middle of the sync.
    flaky = FlakyPush(stoppable_server)
    context.route("**/api/v1/sync/push", flaky)
    stoppable_server.start()
    context.set_offline(False)

    expect(_states(page)).to_have_text([ON_SERVER] * 3, timeout=40000)
    assert flaky.calls[:2] == ["fail-500", "drop-after-commit"]
    assert set(flaky.calls[2:]) == {"pass"}  # the app retried by itself until it got through
    assert sorted(flaky.dropped_ids) == ids
    assert flaky.rows_when_dropped == 3  # the lost answer really had been committed
    rows = _server_reports(stoppable_server)
    assert sorted(str(r.id) for r in rows) == ids  # each exactly once
    assert all(uuid.UUID(i).version == 4 for i in ids)
    local = {r["id"]: r for r in _local(page)["reports"]}
    assert {r["state"] for r in local.values()} == {"sent"}
    assert {r["pushStatus"] for r in local.values()} == {"duplicate"}  # the resend changed nothing
    with stoppable_server.app.app_context():
        (photo,) = db.session.scalars(select(Photo)).all()
        assert [r.photos for r in rows if r.photos] == [[photo.sha256]]
    expect(page.locator("#reports .state-rejected")).to_have_count(0)
