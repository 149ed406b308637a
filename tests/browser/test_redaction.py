"""Redaction on the phone: black boxes burned into the only stored copy of a photo, and
personnummer in free text flagged with a one-tap mask.

A real Chromium against the real app. The boxes are drawn with real input: a touch drag
through the DevTools protocol (touch → pointer events) and a mouse drag.
"""

from __future__ import annotations

import base64
import io
import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageStat
from playwright.sync_api import Page, expect
from sqlalchemy import select

from server.extensions import db
from server.orgs.models import Organisation
from server.photos import service as photos
from server.photos.models import Photo
from server.reports.models import Report
from tests.browser.axe import ROOT, describe, run_axe, serious
from tests.browser.conftest import wait_until
from tests.browser.test_report_form import CONTROLLED, ON_SERVER, TIMEOUT_MS, _enrol, _states
from tests.browser.workspace_support import log_in
from tests.support import factories

# The photo: 800x600, bright, so a blacked-out area is unmistakable after JPEG round trips.
SIZE = (800, 600)
COLOUR = (235, 190, 60)
# Boxes as fractions of the photo (left, top, right, bottom).
KEEP = (0.10, 0.15, 0.40, 0.45)  # drawn by touch, kept
UNDONE = (0.55, 0.55, 0.90, 0.90)  # drawn by mouse, then undone


def _photo(path: Path) -> Path:
    """A bright photo with a dark-blue stripe (so it is not one flat colour)."""
    img = Image.new("RGB", SIZE, COLOUR)
    ImageDraw.Draw(img).rectangle((0, 520, 800, 560), fill=(30, 60, 160))
    img.save(path, "PNG")
    return path


def _canvas(page: Page) -> dict[str, float]:
    box = page.locator(".redact-canvas").bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    return box


def _at(box: dict[str, float], fx: float, fy: float) -> tuple[float, float]:
    return box["x"] + box["width"] * fx, box["y"] + box["height"] * fy


def _touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A finger drag: touch events through the DevTools protocol, as a phone sends them."""
    cdp = page.context.new_cdp_session(page)
    steps = 8
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [_pt(start)]})
    for i in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * i / steps
        y = start[1] + (end[1] - start[1]) * i / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [_pt((x, y))]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def _pt(xy: tuple[float, float]) -> dict[str, float]:
    return {"x": xy[0], "y": xy[1], "id": 1, "radiusX": 8, "radiusY": 8, "force": 1}


def _mouse_drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def _draw(page: Page, frac: tuple[float, float, float, float], touch: bool) -> None:
    box = _canvas(page)
    start, end = _at(box, frac[0], frac[1]), _at(box, frac[2], frac[3])
    (_touch_drag if touch else _mouse_drag)(page, start, end)


def _inner(frac: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[int, ...]:
    """The box in pixels of an image of `size`, shrunk by a margin (JPEG edges blur)."""
    w, h = size
    m = 0.03
    return (
        int((frac[0] + m) * w),
        int((frac[1] + m) * h),
        int((frac[2] - m) * w),
        int((frac[3] - m) * h),
    )


def _mean(img: Image.Image, area: tuple[int, ...]) -> list[float]:
    return ImageStat.Stat(img.convert("RGB").crop(area)).mean


def _assert_redacted(img: Image.Image) -> None:
    """KEEP is black; the UNDONE area and the rest still show the photo."""
    assert max(_mean(img, _inner(KEEP, img.size))) < 12, _mean(img, _inner(KEEP, img.size))
    for area in (_inner(UNDONE, img.size), (int(0.5 * img.width), 10, img.width - 10, 60)):
        mean = _mean(img, area)
        assert all(abs(a - b) < 25 for a, b in zip(mean, COLOUR, strict=True)), mean


def _stored_photos(page: Page) -> list[dict]:
    """Every photo in the phone's IndexedDB, bytes as base64."""
    return page.evaluate(
        """async () => {
            const db = await (await import('/store.js')).openDb();
            const all = await new Promise((ok, fail) => {
                const req = db.transaction('photos').objectStore('photos').getAll();
                req.onsuccess = () => ok(req.result);
                req.onerror = () => fail(req.error);
            });
            return all.map((p) => {
                let s = '';
                for (const b of new Uint8Array(p.bytes)) s += String.fromCharCode(b);
                const redacted = p.redacted === true;
                return {sha256: p.sha256, type: p.type, redacted, b64: btoa(s)};
            });
        }"""
    )


def _cached_images(page: Page) -> int:
    """How many images the phone keeps in Cache Storage (the app caches none)."""
    return page.evaluate(
        """async () => {
            let n = 0;
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const req of await cache.keys()) {
                    const resp = await cache.match(req);
                    if ((resp.headers.get('content-type') || '').startsWith('image/jpeg')) n += 1;
                }
            }
            return n;
        }"""
    )


def _decode(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def test_a_box_drawn_with_a_finger_is_in_the_only_copy_on_the_phone_and_on_the_server(
    live_server, browser, tmp_path
):
    context = browser.new_context(
        locale="sv-SE", has_touch=True, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    _enrol(live_server, page)
    page.get_by_role("button", name="Samlingar och ordningsstörning").click()
    page.get_by_label("Ta foto").set_input_files(_photo(tmp_path / "IMG_0042.png"))

    editor = page.get_by_role("dialog", name="Maskera bilden")
    expect(editor).to_be_visible(timeout=TIMEOUT_MS)
    count = page.locator("#redact-count")
    expect(count).to_have_text("Inga svarta rutor")
    undo = editor.get_by_role("button", name="Ångra")
    expect(undo).to_be_disabled()
    for name in ("Ångra", "Avbryt", "Klar"):  # in reach without scrolling, glove-sized
        b = editor.get_by_role("button", name=name).bounding_box()
        assert b and b["height"] >= 56 and b["y"] + b["height"] <= 844, (name, b)

    _draw(page, KEEP, touch=True)
    expect(count).to_have_text("1 svart ruta")
    _draw(page, UNDONE, touch=False)
    expect(count).to_have_text("2 svarta rutor")
    # A tap on a box takes it away; Ångra brings it back, and then takes the last box away.
    page.mouse.click(*_at(_canvas(page), (KEEP[0] + KEEP[2]) / 2, (KEEP[1] + KEEP[3]) / 2))
    expect(count).to_have_text("1 svart ruta")
    undo.click()
    expect(count).to_have_text("2 svarta rutor")
    undo.click()
    expect(count).to_have_text("1 svart ruta")
    editor.get_by_role("button", name="Klar").click()

    expect(editor).to_have_count(0)
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.locator("#photo-list")).to_contain_text("Maskerad")
    # Before anything is sent: the phone holds exactly one photo, the redacted one.
    (stored,) = _stored_photos(page)
    assert stored["redacted"] and stored["type"] == "image/jpeg"
    local = _decode(stored["b64"])
    assert local.size == SIZE
    _assert_redacted(local)
    assert _cached_images(page) == 0

    page.get_by_label("Beskrivning").fill("Ungdomar vid kiosken")
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)

    with live_server.app.app_context():
        (report,) = db.session.scalars(select(Report)).all()
        (row,) = db.session.scalars(select(Photo)).all()
        assert report.photos == [stored["sha256"]] == [row.sha256]
        assert row.redacted is True
        with Image.open(io.BytesIO(photos.file_for(row, "full").read_bytes())) as served:
            _assert_redacted(served)
        incident_id = report.incident_id
        org = db.session.scalars(select(Organisation)).one()
        who = factories.make_person(org, email="samordnare@staffanstorp.example")
    (still,) = _stored_photos(page)  # the sync changed nothing on the phone
    assert still["sha256"] == stored["sha256"]

    # The coordinator sees that the photo was redacted on the phone.
    desk = browser.new_context(locale="sv-SE").new_page()
    log_in(desk, live_server, who)
    desk.goto(f"{live_server.url}/workspace/incidents/{incident_id}")
    expect(desk.locator(".photos li")).to_have_count(1)
    expect(desk.locator(".photos li")).to_contain_text("Maskerad på telefonen")
    desk.context.close()
    context.close()


def test_avbryt_drops_the_photo_and_klar_without_boxes_keeps_it_unredacted(
    live_server, page, tmp_path
):
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Ta foto").set_input_files(
        [_photo(tmp_path / "a.png"), _photo(tmp_path / "b.png")]
    )
    editor = page.get_by_role("dialog", name="Maskera bilden")
    expect(editor).to_be_visible(timeout=TIMEOUT_MS)
    editor.get_by_role("button", name="Avbryt").click()  # the first photo: not wanted
    expect(editor).to_be_visible(timeout=TIMEOUT_MS)  # the second one's turn
    editor.get_by_role("button", name="Klar").click()
    expect(editor).to_have_count(0)
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.locator("#photo-list")).not_to_contain_text("Maskerad")
    (stored,) = _stored_photos(page)
    assert not stored["redacted"]

    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with live_server.app.app_context():
        (row,) = db.session.scalars(select(Photo)).all()
        assert row.redacted is False and row.sha256 == stored["sha256"]


def test_emptying_the_form_closes_an_open_editor_and_stores_nothing(live_server, page, tmp_path):
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Ta foto").set_input_files(_photo(tmp_path / "a.png"))
    expect(page.get_by_role("dialog", name="Maskera bilden")).to_be_visible(timeout=TIMEOUT_MS)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#photo-list img")).to_have_count(0)
    assert _stored_photos(page) == []


# --- personnummer ---------------------------------------------------------------------------

CASES = {
    # flagged: a real date (samordningsnummer: day + 60) and a correct check digit
    "Pojken, 811228-9874, sprang": ["811228-9874"],
    "id 8112289874": ["8112289874"],
    "född 19811228-9874": ["19811228-9874"],
    "198112289874": ["198112289874"],
    "över hundra: 811228+9874": ["811228+9874"],
    "samordningsnummer 701063-2391": ["701063-2391"],
    "20000229-1235 skottdag": ["20000229-1235"],
    "med mellanslag 811228 9874": ["811228 9874"],
    "två: 811228-9874 och 121212-1212": ["811228-9874", "121212-1212"],
    # not flagged
    "811228-9875": [],  # wrong check digit
    "811328-9873": [],  # month 13 (check digit right)
    "810230-9872": [],  # 30 February
    "19000229-1235": [],  # 1900 was no leap year
    "19811228+9874": [],  # "+" only with six date digits
    "8112289874512": [],  # part of a longer digit run
    "Ring 112, kl 23.45, 12 personer, 0701234567": [],
}


def test_the_detector_flags_dates_with_a_check_digit_and_nothing_else(live_server, page):
    page.goto(live_server.url + "/")
    found = page.evaluate(
        """async (cases) => {
            const { findPersonnummer } = await import('/personnummer.js');
            const texts = (c) => findPersonnummer(c).map((f) => f.text);
            return Object.fromEntries(cases.map((c) => [c, texts(c)]));
        }""",
        list(CASES),
    )
    assert found == CASES
    masked = page.evaluate(
        """async () => (await import('/personnummer.js')).maskPersonnummer(
            'Id 811228-9874 och 19701063-2391.', {short: 'ÅÅMMDD-XXXX', long: 'ÅÅÅÅMMDD-XXXX'})"""
    )
    assert masked == "Id ÅÅMMDD-XXXX och ÅÅÅÅMMDD-XXXX."


def test_a_personnummer_in_free_text_is_flagged_and_masked_with_one_tap(live_server, page):
    _enrol(live_server, page)
    page.get_by_role("button", name="Samlingar och ordningsstörning").click()
    description = page.get_by_label("Beskrivning")
    warning = page.locator("#description-pnr")

    description.fill("Pojke med id 811228-9875 sprang")  # Luhn-invalid: no alarm
    expect(warning).to_be_hidden()
    description.fill("Pojke med id 811228-9874 sprang mot stationen")
    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("role", "alert")
    expect(warning).to_contain_text("ser ut som ett personnummer: 811228-9874")
    mask = warning.get_by_role("button", name="Maskera")
    b = mask.bounding_box()
    assert b and b["height"] >= 48
    mask.click()  # one tap
    expect(description).to_have_value("Pojke med id ÅÅMMDD-XXXX sprang mot stationen")
    expect(warning).to_be_hidden()
    expect(description).to_be_focused()

    place = page.get_by_label("Plats")
    place.fill("Hos 19701063-2391")
    expect(page.locator("#place-pnr")).to_contain_text("19701063-2391")
    page.locator("#place-pnr").get_by_role("button", name="Maskera").click()
    expect(place).to_have_value("Hos ÅÅÅÅMMDD-XXXX")

    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with live_server.app.app_context():
        (report,) = db.session.scalars(select(Report)).all()
        assert "811228" not in report.description and "2391" not in report.place
        assert uuid.UUID(str(report.id))


def test_a_number_in_a_report_opened_for_editing_is_flagged(live_server, page):
    _enrol(live_server, page)
    page.get_by_role("button", name="Otrygg plats").click()
    page.get_by_label("Beskrivning").fill("Mörkt, 811228-9874")
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#description-pnr")).to_be_hidden()  # the emptied form: no warning
    expect(_states(page)).to_have_count(1, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Ändra").first.click()
    expect(page.get_by_label("Beskrivning")).to_have_value("Mörkt, 811228-9874")
    expect(page.locator("#description-pnr")).to_be_visible()
    wait_until(page, "document.querySelector('#description-pnr p').textContent.length > 0")


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_editor_and_the_warning_pass_axe_in_both_themes(live_server, browser, tmp_path, theme):
    context = browser.new_context(locale="sv-SE", color_scheme=theme)
    page = context.new_page()
    if theme == "light":
        page.add_init_script("localStorage.setItem('lagesbild.theme', 'light')")
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Beskrivning").fill("Id 811228-9874")
    expect(page.locator("#description-pnr")).to_be_visible()
    found = serious(run_axe(page))
    assert not found, "personnummer warning: " + describe(found)

    page.get_by_label("Ta foto").set_input_files(_photo(tmp_path / "a.png"))
    editor = page.get_by_role("dialog", name="Maskera bilden")
    expect(editor).to_be_visible(timeout=TIMEOUT_MS)
    _draw(page, KEEP, touch=False)
    expect(page.locator("#redact-count")).to_have_text("1 svart ruta")
    expect(editor.get_by_role("heading", name="Maskera bilden")).to_be_focused()
    found = serious(run_axe(page))
    assert not found, "redaction editor: " + describe(found)
    context.close()


# --- face suggestions -----------------------------------------------------------------------

# A photo of three people that ships with the npm package (node_modules, never copied here),
# 1920x1280; the pinned detector finds each face, centred near these fractions of the photo.
GROUP = ROOT / "node_modules" / "@vladmandic" / "face-api" / "demo" / "sample1.jpg"
FACES = [(0.254, 0.403), (0.485, 0.445), (0.819, 0.279)]
VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def _patch(img: Image.Image, centre: tuple[float, float]) -> tuple[int, ...]:
    x, y = int(centre[0] * img.width), int(centre[1] * img.height)
    r = int(0.02 * img.width)
    return (x - r, y - r, x + r, y + r)


def test_face_suggestions_load_from_the_app_and_work_offline_after_the_first_use(
    stoppable_server, browser
):
    context = browser.new_context(locale="sv-SE")
    seen: list[str] = []
    context.expose_binding("reportViolation", lambda _source, text: seen.append(text))
    context.add_init_script(VIOLATIONS)
    page = context.new_page()
    _enrol(stoppable_server, page)
    wait_until(page, CONTROLLED, TIMEOUT_MS)
    page.get_by_role("button", name="Samlingar och ordningsstörning").click()
    page.get_by_label("Ta foto").set_input_files(GROUP)
    editor = page.get_by_role("dialog", name="Maskera bilden")

    editor.get_by_role("button", name="Hitta ansikten").click()

    expect(editor).to_contain_text("3 ansikten fick svarta rutor", timeout=60000)
    expect(page.locator("#redact-count")).to_have_text("3 svarta rutor")
    page.mouse.click(*_at(_canvas(page), *FACES[2]))  # not this one: tapped away
    expect(page.locator("#redact-count")).to_have_text("2 svarta rutor")
    editor.get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    (stored,) = _stored_photos(page)
    img = _decode(stored["b64"]).convert("RGB")
    assert img.size == (1600, 1067)
    for centre in FACES[:2]:
        assert max(_mean(img, _patch(img, centre))) < 12, centre
    assert max(_mean(img, _patch(img, FACES[2]))) > 60
    assert stored["redacted"]
    page.get_by_role("button", name="Avbryt", exact=True).click()

    # No coverage now: the detector comes from the service worker's cache.
    kept = page.evaluate(
        """async () => (await (await caches.open('lagesbild-vendor')).keys())
            .map((r) => new URL(r.url).pathname).sort()"""
    )
    assert kept == [
        "/vendor/face-api/dist/face-api.esm.js",
        "/vendor/face-api/model/tiny_face_detector_model-weights_manifest.json",
        "/vendor/face-api/model/tiny_face_detector_model.bin",
    ]
    stoppable_server.stop()
    page.reload()
    expect(page.locator("#tiles button").first).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Samlingar och ordningsstörning").click()
    page.get_by_label("Ta foto").set_input_files(GROUP)
    editor.get_by_role("button", name="Hitta ansikten").click()
    expect(editor).to_contain_text("3 ansikten fick svarta rutor", timeout=60000)
    # Under the app's policy as it is: nothing is evaluated from strings. The one refusal is
    # the bundled long.js probing for WebAssembly (it then computes in plain JavaScript).
    assert seen and set(seen) == {"script-src wasm-eval"}, seen
    context.close()


def test_without_the_detector_the_editor_says_so_and_manual_boxes_still_work(
    live_server, browser, tmp_path
):
    # No service worker (a route does not see its fetches): the detector's files fail to load.
    page = browser.new_context(locale="sv-SE", service_workers="block").new_page()
    page.route("**/vendor/face-api/**", lambda route: route.abort())
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Ta foto").set_input_files(_photo(tmp_path / "a.png"))
    editor = page.get_by_role("dialog", name="Maskera bilden")
    editor.get_by_role("button", name="Hitta ansikten").click()
    expect(editor).to_contain_text("kunde inte laddas", timeout=TIMEOUT_MS)
    expect(editor.get_by_role("button", name="Hitta ansikten")).to_be_enabled()
    _draw(page, KEEP, touch=False)
    expect(page.locator("#redact-count")).to_have_text("1 svart ruta")
    page.context.close()
