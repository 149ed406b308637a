"""The phone over its photo quota: the notice says so, the photo waits on the phone.

A real Chromium against the real app, with a quota that the day's first photo uses up.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from server.extensions import db
from server.photos.models import Photo
from tests.browser.test_report_form import ON_SERVER, TIMEOUT_MS, _enrol, _states

NOTICE = "Fotona ligger kvar på telefonen"


def _png(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (300, 200), colour).save(path, "PNG")
    return path


def test_over_the_quota_the_phone_says_so_and_keeps_the_photo(live_server, page, tmp_path):
    live_server.app.config["PHOTO_QUOTA_BYTES_PER_DAY"] = 1  # the first photo passes alone
    _enrol(live_server, page)
    notice = page.locator("#photo-quota-warning")
    expect(notice).to_be_hidden()
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    first, second = _png(tmp_path / "a.png", (200, 40, 40)), _png(tmp_path / "b.png", (40, 40, 200))

    page.get_by_label("Ta foto").set_input_files([first, second])
    for _ in range(2):  # the redaction editor, one photo after the other: kept as they are
        page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(2, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Spara").click()

    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)  # the report went
    expect(notice).to_be_visible(timeout=TIMEOUT_MS)
    expect(notice).to_contain_text(NOTICE)
    kept = page.evaluate(
        """async () => {
            const store = await import('/store.js');
            const [report] = await store.listReports();
            const photos = await Promise.all(report.photos.map((sha) => store.photo(sha)));
            return {
                onPhone: photos.filter(Boolean).length,
                until: await store.getMeta('photoQuotaUntil'),
            };
        }"""
    )
    assert kept["onPhone"] == 2 and kept["until"]
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 1
