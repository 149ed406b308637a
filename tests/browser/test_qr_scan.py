"""The in-app QR scanner (issue 16): a QR code made in the test, read by the app offline.

Chromium gets a fake camera that films a y4m file made here from the QR's PNG (Pillow), the
browser's BarcodeDetector is taken away so the app uses jsQR from npm (served from the app's
own origin and precached by the service worker), and the server is stopped before the scan:
the decoder can only come from the cache. Playwright's bounded waits only; no sleeps.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import qrcode
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, StoppableServer
from tests.browser.rounds_support import (
    CHECKPOINTS,
    TIMEOUT_MS,
    enrol_phone,
    idb_all,
)

PORT_A, GARAGE, _ = CHECKPOINTS
# Taken away before any script of the page runs: the app must fall back to jsQR.
NO_BARCODE_DETECTOR = "delete window.BarcodeDetector;"
FRAME = (640, 480)


def _qr_png(text: str) -> Image.Image:
    """A QR code of `text`, black on white with its quiet zone, as a label would print it."""
    image = qrcode.make(text, box_size=8, border=4).get_image().convert("RGB")
    canvas = Image.new("RGB", FRAME, "white")
    canvas.paste(image, ((FRAME[0] - image.width) // 2, (FRAME[1] - image.height) // 2))
    return canvas


def _y4m(image: Image.Image, path: Path, frames: int = 5) -> Path:
    """Write `image` as a few frames of 4:2:0 y4m, the fake camera's file format."""
    width, height = image.size
    y, cb, cr = image.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)
    return path


@pytest.fixture
def camera_page(
    browser: Browser, stoppable_server: StoppableServer, tmp_path: Path
) -> Iterator[Page]:
    """A page in a Chromium whose camera films the garage checkpoint's QR label."""
    label = _qr_png(f"{stoppable_server.url}/#scan={GARAGE['token']}")
    video = _y4m(label, tmp_path / "camera.y4m")
    camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    context: BrowserContext = camera.new_context(locale="sv-SE")
    context.add_init_script(NO_BARCODE_DETECTOR)
    try:
        yield context.new_page()
    finally:
        context.close()
        camera.close()


def test_the_camera_reads_a_checkpoint_qr_offline_with_the_npm_decoder(
    stoppable_server: StoppableServer, camera_page: Page
):
    page = camera_page
    enrol_phone(stoppable_server, page)
    item = page.locator("#round-list .round-item", has_text="Kvällsrond Centrum")
    item.get_by_role("button", name="Starta rond").click()
    stoppable_server.stop()  # from here on, everything comes from the phone
    assert page.evaluate("typeof window.BarcodeDetector") == "undefined"

    page.get_by_role("button", name="Skanna QR-kod").click()
    expect(page.get_by_role("dialog")).to_be_visible()

    row = page.locator("#round-checkpoints .checkpoint", has_text=GARAGE["name"])
    expect(row).to_contain_text("Skannad", timeout=TIMEOUT_MS)
    expect(page.get_by_role("dialog")).to_be_hidden()  # and the camera is off again
    assert page.evaluate("typeof window.jsQR") == "function"
    assert page.evaluate("document.getElementById('scanner-video').srcObject") is None
    (scan,) = idb_all(page, "scans")
    assert (scan["token"], scan["method"], scan["checkpoint_id"]) == (GARAGE["token"], "qr", 12)


def test_avbryt_or_leaving_the_app_closes_the_scanner_and_stops_the_camera(
    stoppable_server: StoppableServer, browser: Browser, tmp_path: Path
):
    blank = _y4m(Image.new("RGB", FRAME, "grey"), tmp_path / "blank.y4m")
    camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={blank}",
        ],
    )
    try:
        page = camera.new_context(locale="sv-SE").new_page()
        enrol_phone(stoppable_server, page)
        page.locator("#round-list .round-start").first.click()
        page.get_by_role("button", name="Skanna QR-kod").click()
        expect(page.locator("#scanner-status")).to_have_text(
            "Rikta kameran mot QR-koden.", timeout=TIMEOUT_MS
        )
        live = "document.getElementById('scanner-video').srcObject?.getTracks()[0].readyState"
        assert page.evaluate(live) == "live"

        page.get_by_role("button", name="Avbryt").click()

        expect(page.get_by_role("dialog")).to_be_hidden()
        assert page.evaluate("document.getElementById('scanner-video').srcObject") is None
        assert idb_all(page, "scans") == []

        # Leaving the app (another app takes the screen) stops the camera too.
        page.get_by_role("button", name="Skanna QR-kod").click()
        expect(page.locator("#scanner-status")).to_have_text(
            "Rikta kameran mot QR-koden.", timeout=TIMEOUT_MS
        )
        track = page.evaluate_handle(
            "document.getElementById('scanner-video').srcObject.getTracks()[0]"
        )
        page.evaluate(
            """() => {
                Object.defineProperty(document, 'visibilityState', {value: 'hidden'});
                document.dispatchEvent(new Event('visibilitychange'));
            }"""
        )
        expect(page.get_by_role("dialog")).to_be_hidden()
        assert track.evaluate("(t) => t.readyState") == "ended"
    finally:
        camera.close()


def test_the_same_decode_function_reads_a_drawn_label_and_refuses_a_foreign_code(
    stoppable_server: StoppableServer, page: Page
):
    page.add_init_script(NO_BARCODE_DETECTOR)
    enrol_phone(stoppable_server, page)
    stoppable_server.stop()

    def decode(image: Image.Image) -> str | None:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
        return page.evaluate(
            """async (url) => {
                const { decodeCanvas } = await import('/qr-decode.js');
                const img = new Image();
                img.src = url;
                await img.decode();
                const canvas = document.createElement('canvas');
                canvas.width = img.width;
                canvas.height = img.height;
                canvas.getContext('2d').drawImage(img, 0, 0);
                return decodeCanvas(canvas);
            }""",
            url,
        )

    link = f"{stoppable_server.url}/#scan={PORT_A['token']}"
    assert decode(_qr_png(link)) == link
    assert decode(Image.new("RGB", FRAME, "white")) is None
    tokens = page.evaluate(
        """async (texts) => {
            const { tokenFrom } = await import('/rounds.js');
            return texts.map(tokenFrom);
        }""",
        [link, PORT_A["token"], "https://example.com/kampanj", "BEGIN:VCARD"],
    )
    assert tokens == [PORT_A["token"], PORT_A["token"], None, None]
