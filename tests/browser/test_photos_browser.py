"""Photos in the report form: downscaled and re-encoded on the phone, uploaded without EXIF.

A real Chromium against the real app; every wait is Playwright's own, never a sleep.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageFilter
from playwright.sync_api import Page, expect
from sqlalchemy import select

from server.extensions import db
from server.photos import service as photos
from server.photos.models import Photo
from server.photos.storage import VARIANTS
from server.reports.models import Report
from tests.browser.test_report_form import ON_SERVER, TIMEOUT_MS, _enrol, _states

UNREADABLE = "Bilden kunde inte läsas. Välj en JPEG- eller PNG-bild."
ORIENTATION = 0x0112
GPS_IFD = 0x8825


def _camera_jpeg(path: Path) -> Path:
    """A 4000x3000 (12 MP) noisy JPEG as a phone writes it: EXIF with GPS and Orientation=6."""
    noise = Image.effect_noise((4000, 3000), 40).filter(ImageFilter.GaussianBlur(1.5))
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    img = Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient, 0.5)))
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display: shown portrait, 3000x4000
    exif[0x010F] = "Testkamera"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (55.0, 38.0, 0.0), 3: "E", 4: (13.0, 10.0, 0.0)})
    img.save(path, "JPEG", quality=92, exif=exif.tobytes())
    with Image.open(path) as check:  # the fixture really carries what the test claims
        assert check.size == (4000, 3000) and check.getexif()[ORIENTATION] == 6
        assert check.getexif().get_ifd(GPS_IFD)
    return path


def _small_png(path: Path) -> Path:
    Image.new("RGB", (300, 200), (200, 40, 40)).save(path, "PNG")
    return path


def _stored_photo_has_exif(page: Page, sha256: str) -> bool:
    """Whether the bytes the phone keeps (and uploads) for `sha256` hold an EXIF segment."""
    return page.evaluate(
        """async (sha) => {
            const stored = await (await import('/store.js')).photo(sha);
            const text = new TextDecoder('latin1').decode(new Uint8Array(stored.bytes));
            return text.includes('Exif\\u0000');
        }""",
        sha256,
    )


def test_photos_are_downscaled_reencoded_and_uploaded_without_exif(live_server, page, tmp_path):
    camera = _camera_jpeg(tmp_path / "IMG_0001.jpg")
    assert camera.stat().st_size > 1_000_000  # a real 12 MP upload would be megabytes
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    expect(page.get_by_text("Ta foto")).to_be_visible()

    page.get_by_label("Ta foto").set_input_files([camera, _small_png(tmp_path / "skylt.png")])
    for _ in range(2):  # the redaction editor, one photo after the other: kept as they are
        page.get_by_role("dialog").get_by_role("button", name="Klar").click()

    thumbs = page.locator("#photo-list img")
    expect(thumbs).to_have_count(2, timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name="Ta bort")).to_have_count(2)
    assert page.locator("#photo-error").is_hidden()
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    expect(thumbs).to_have_count(0)  # the form is empty for the next report

    with live_server.app.app_context():
        (report,) = db.session.scalars(select(Report)).all()
        assert len(report.photos) == 2
        rows = {p.sha256: p for p in db.session.scalars(select(Photo))}
        assert set(rows) == set(report.photos)
        sizes = sorted((p.width, p.height) for p in rows.values())
        assert sizes == [(300, 200), (1200, 1600)]  # rotated by Orientation=6, long side 1600
        for row in rows.values():
            assert 0 < row.bytes < 500_000, row.bytes
            for variant in VARIANTS:
                data = photos.file_for(row, variant).read_bytes()
                with Image.open(io.BytesIO(data)) as stored:
                    assert not stored.getexif(), variant
                    assert "exif" not in stored.info, variant
                assert b"Exif\x00" not in data
        shas = list(rows)
    for sha in shas:
        assert not _stored_photo_has_exif(page, sha)


def test_a_removed_photo_is_not_sent(live_server, page, tmp_path):
    _enrol(live_server, page)
    page.get_by_role("button", name="Otrygg plats").click()
    page.get_by_label("Ta foto").set_input_files(_small_png(tmp_path / "a.png"))
    # The redaction editor: the photo is kept as it is.
    page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)

    page.get_by_role("button", name="Ta bort").click()

    expect(page.locator("#photo-list img")).to_have_count(0)
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with live_server.app.app_context():
        (report,) = db.session.scalars(select(Report)).all()
        assert report.photos == []


def test_an_unreadable_file_says_so_and_the_report_saves_without_it(live_server, page, tmp_path):
    fake = tmp_path / "IMG_0002.heic"
    fake.write_text("inte en bild, bara text\n", encoding="utf-8")
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()

    page.get_by_label("Ta foto").set_input_files(fake)

    expect(page.get_by_role("alert").filter(has_text=UNREADABLE)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#photo-list img")).to_have_count(0)
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with live_server.app.app_context():
        (report,) = db.session.scalars(select(Report)).all()
        assert report.photos == []
        assert db.session.scalars(select(Photo)).all() == []
    page.get_by_role("button", name="Brand").click()
    assert page.locator("#photo-error").is_hidden()  # a new report starts clean


def test_the_best_fix_is_saved_with_its_accuracy(live_server, browser, tmp_path):
    context = browser.new_context(
        locale="sv-SE",
        permissions=["geolocation"],
        geolocation={"latitude": 55.6405, "longitude": 13.2066, "accuracy": 30},
    )
    page = context.new_page()
    _enrol(live_server, page)
    page.get_by_role("button", name="Otrygg plats").click()
    expect(page.locator("#location")).to_have_text("Position: ±30 m", timeout=TIMEOUT_MS)

    context.set_geolocation({"latitude": 55.6406, "longitude": 13.2067, "accuracy": 8})
    expect(page.locator("#location")).to_have_text("Position: ±8 m", timeout=TIMEOUT_MS)
    context.set_geolocation({"latitude": 55.7, "longitude": 13.3, "accuracy": 120})  # worse
    page.get_by_role("button", name="Spara").click()

    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with live_server.app.app_context():
        (report,) = db.session.scalars(select(Report)).all()
        assert (report.lat, report.lon, report.accuracy_m) == (55.6406, 13.2067, 8)
    context.close()


def test_without_a_fix_the_report_is_saved_without_position(live_server, page):
    _enrol(live_server, page)  # no geolocation permission: never a fix
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    expect(page.locator("#location")).to_have_text("Utan position")

    page.get_by_role("button", name="Spara").click()

    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with live_server.app.app_context():
        (report,) = db.session.scalars(select(Report)).all()
        assert (report.lat, report.lon, report.accuracy_m) == (None, None, None)


# A fake geolocation that first hands out a cached fix from a minute ago (the previous
# report's place, very accurate), then fresh, less accurate fixes at the new place.
_STALE_THEN_FRESH = """
navigator.geolocation.watchPosition = (ok) => {
  const fix = (lat, lon, accuracy, age) => ok({
    coords: {latitude: lat, longitude: lon, accuracy},
    timestamp: Date.now() - age,
  });
  setTimeout(() => fix(55.6398, 13.2083, 5, 60000), 10);
  setTimeout(() => fix(55.6691, 13.1402, 25, 0), 50);
  setTimeout(() => fix(55.6692, 13.1403, 40, 0), 90);
  return 1;
};
navigator.geolocation.clearWatch = () => {};
"""


def test_a_cached_fix_from_before_the_form_opened_gives_way_to_a_fresh_one(live_server, page):
    page.add_init_script(_STALE_THEN_FRESH)
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    expect(page.locator("#location")).to_have_text("Position: ±25 m", timeout=TIMEOUT_MS)
    page.wait_for_timeout(200)  # the worse fresh fix has arrived too, and must not win
    expect(page.locator("#location")).to_have_text("Position: ±25 m")
    page.get_by_role("button", name="Spara").click()

    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with live_server.app.app_context():
        (report,) = db.session.scalars(select(Report)).all()
        assert (report.lat, report.lon, report.accuracy_m) == (55.6691, 13.1402, 25)


def test_a_photo_being_processed_shows_progress_until_it_is_done(live_server, page, tmp_path):
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()

    page.get_by_label("Ta foto").set_input_files(_small_png(tmp_path / "skylt.png"))

    busy = page.locator("#photo-list").get_by_role("progressbar", name="Bearbetar foto…")
    expect(busy).to_be_visible()
    page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(busy).to_have_count(0)
