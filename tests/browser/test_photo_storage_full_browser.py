"""The server's disk full: the photo waits on the phone, the report still reaches the server.

A real Chromium against the real app whose photo store fails with ENOSPC (507
storage_full). The sync pass must not stop at the photo: the report is pushed, the photo
is kept, and once there is room again the next pass uploads it.
"""

from __future__ import annotations

import errno
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

import server.photos.service as photo_service
from server.extensions import db
from server.photos.models import Photo
from server.reports.models import Report
from tests.browser.test_report_form import ON_SERVER, TIMEOUT_MS, _enrol, _states


class _FullStore:
    """A photo store on a full disk."""

    def save(self, *_args: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")


def _count(live_server, model) -> int:
    with live_server.app.app_context():
        count = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return int(count or 0)


def test_disk_full_keeps_the_photo_and_the_report_still_goes(
    live_server, page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(photo_service, "store", _FullStore)
    _enrol(live_server, page)
    photo = tmp_path / "a.png"
    Image.new("RGB", (300, 200), (200, 40, 40)).save(photo, "PNG")
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Ta foto").set_input_files([photo])
    page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Spara").click()

    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)  # the report went
    assert _count(live_server, Report) == 1
    assert _count(live_server, Photo) == 0
    on_phone = page.evaluate(
        """async () => {
            const store = await import('/store.js');
            const [report] = await store.listReports();
            return (await Promise.all(report.photos.map((sha) => store.photo(sha))))
                .filter(Boolean).length;
        }"""
    )
    assert on_phone == 1

    monkeypatch.undo()  # room again
    page.reload()  # opening the app runs a pass
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while _count(live_server, Photo) == 0:
        assert time.monotonic() < deadline, "the photo was not uploaded once there was room"
        time.sleep(0.1)
