"""(c) A 12-megapixel camera photo through the app's own `processPhoto` (pwa/photos.js), in
the page: decode with EXIF orientation, downscale to 1600 px, re-encode as JPEG, SHA-256 and
store in IndexedDB. The baseline is a plain `createImageBitmap` + canvas `toBlob` (JPEG, same
quality) of the same file at the same output size: the decode/draw/encode floor, without the
orientation, the hash and the outbox write. The two are run alternately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageFilter
from playwright.sync_api import Playwright

from bench.pwalib.common import CHROMIUM, CHROMIUM_ARGS

ORIENTATION = 0x0112
GPS_IFD = 0x8825

RUN = """async ({ runs }) => {
    const { processPhoto, fitSize, QUALITY } = await import('/photos.js');
    const { savePhoto } = await import('/store.js');
    const file = document.getElementById('bench-photo').files[0];
    const app = [], base = [];
    let size = null;
    for (let i = 0; i < runs; i += 1) {
        let t = performance.now();
        const photo = await processPhoto(file, savePhoto);
        app.push({ ms: performance.now() - t, bytes: photo.blob.size });
        size = [photo.width, photo.height];

        t = performance.now();
        const bitmap = await createImageBitmap(file);
        const { width, height } = fitSize(bitmap.width, bitmap.height);
        const canvas = document.createElement('canvas');
        canvas.width = width;
        canvas.height = height;
        canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
        const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
        bitmap.close();
        base.push({ ms: performance.now() - t, bytes: blob.size });
    }
    return { app, base, size, input: file.size };
}"""


@dataclass
class PhotoRuns:
    """Per-run figures."""

    input_bytes: int = 0
    output_size: tuple[int, int] = (0, 0)
    app_ms: list[float] = field(default_factory=list)
    app_bytes: list[float] = field(default_factory=list)
    base_ms: list[float] = field(default_factory=list)
    base_bytes: list[float] = field(default_factory=list)


def camera_jpeg(path: Path) -> Path:
    """A 4000x3000 (12 MP) noisy JPEG as a phone writes it: EXIF with GPS and Orientation=6.

    Like tests/browser/test_photos_browser.py's, with finer noise, so the file is about 3.3 MB
    (a phone camera's 12-MP JPEG is typically 3–5 MB) and costs a real decode."""
    noise = Image.effect_noise((4000, 3000), 40).filter(ImageFilter.GaussianBlur(0.8))
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    img = Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient, 0.5)))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "Bänkkamera"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (55.0, 38.0, 0.0), 3: "E", 4: (13.0, 10.0, 0.0)})
    img.save(path, "JPEG", quality=92, exif=exif.tobytes())
    return path


def photo_runs(pw: Playwright, url: str, photo: Path, runs: int) -> PhotoRuns:
    """Process `photo` `runs` times in a page of the app (a fresh browser, online)."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = browser.new_context(locale="sv-SE").new_page()
        page.goto(url + "/")
        page.evaluate(
            """() => { const input = document.createElement('input');
                input.type = 'file'; input.id = 'bench-photo'; input.hidden = true;
                document.body.append(input); }"""
        )
        page.set_input_files("#bench-photo", photo)
        result = page.evaluate(RUN, {"runs": runs})
    finally:
        browser.close()
    return PhotoRuns(
        input_bytes=result["input"],
        output_size=tuple(result["size"]),
        app_ms=[r["ms"] for r in result["app"]],
        app_bytes=[r["bytes"] for r in result["app"]],
        base_ms=[r["ms"] for r in result["base"]],
        base_bytes=[r["bytes"] for r in result["base"]],
    )
