"""Photo downloads behind nginx: X-Accel-Redirect once access is checked.

With LAGESBILD_PHOTO_ACCEL_PREFIX set, the app answers with that header and no body; the
deployment test (tests/system/test_deploy_nginx.py) proves nginx then serves the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from server.config import ConfigError, Settings
from server.http import PHOTO_CSP
from tests.support import factories
from tests.support.photos import STORED, get, jpeg, push, put, sha
from tests.support.workspace import cheap_hashing, login  # noqa: F401  (cheap_hashing is a fixture)

PREFIX = "/_photos"


def _accel_target(app: Flask, header: str) -> Path:
    """Return the file an X-Accel-Redirect header names under the photo directory."""
    assert header.startswith(PREFIX + "/"), header
    return Path(app.config["DATA_DIR"]) / "photos" / header.removeprefix(PREFIX + "/")


def test_device_download_answers_with_x_accel_redirect_and_no_body(app, client, device):
    app.config["PHOTO_ACCEL_PREFIX"] = PREFIX
    data = jpeg(seed=11)
    assert put(client, device, data).status_code in STORED
    digest = sha(data)

    for size in ("thumb", "display", "full"):
        resp = get(client, device, digest, size)

        assert resp.status_code == 200
        assert resp.data == b""
        header = resp.headers["X-Accel-Redirect"]
        org_id = device.device.org_id
        assert header == f"{PREFIX}/{org_id}/{digest[:2]}/{digest}-{size}.jpg"
        assert _accel_target(app, header).is_file()
        assert resp.mimetype == "image/jpeg"
        assert resp.headers["Content-Security-Policy"] == PHOTO_CSP
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Cache-Control"] == "private, max-age=3600"


def test_a_photo_directory_on_another_disk_is_named_the_same(app, client, device, tmp_path):
    app.config["PHOTO_ACCEL_PREFIX"] = PREFIX
    elsewhere = tmp_path / "other-disk"
    elsewhere.mkdir()
    photos = Path(app.config["DATA_DIR"]) / "photos"
    assert not photos.exists()
    photos.symlink_to(elsewhere, target_is_directory=True)
    data = jpeg(seed=15)
    assert put(client, device, data).status_code in STORED
    digest = sha(data)

    resp = get(client, device, digest, "thumb")

    assert resp.status_code == 200
    org_id = device.device.org_id
    assert resp.headers["X-Accel-Redirect"] == f"{PREFIX}/{org_id}/{digest[:2]}/{digest}-thumb.jpg"
    assert (elsewhere / str(org_id) / digest[:2] / f"{digest}-thumb.jpg").is_file()


def test_without_a_prefix_the_app_sends_the_file_itself(app, client, device):
    data = jpeg(seed=12)
    assert put(client, device, data).status_code in STORED

    resp = get(client, device, sha(data), "thumb")

    assert resp.status_code == 200
    assert "X-Accel-Redirect" not in resp.headers
    assert resp.data[:2] == b"\xff\xd8"  # a JPEG


def test_access_is_checked_before_any_redirect(app, client, device):
    app.config["PHOTO_ACCEL_PREFIX"] = PREFIX
    data = jpeg(seed=13)
    assert put(client, device, data).status_code in STORED
    stranger = factories.make_device(factories.make_org())

    for resp in (
        get(client, stranger, sha(data)),  # another organisation's photo
        get(client, device, "a" * 64),  # no such photo
        client.get(f"/api/v1/photos/{sha(data)}"),  # no token
        get(client, device, sha(data), "huge"),  # no such size
    ):
        assert resp.status_code in (400, 401, 404)
        assert "X-Accel-Redirect" not in resp.headers


def test_workspace_photo_answers_with_x_accel_redirect(app, client, cheap_hashing):  # noqa: F811
    app.config["PHOTO_ACCEL_PREFIX"] = PREFIX
    org = factories.make_org()
    who = factories.make_person(org)
    dev = factories.make_device(org)
    data = jpeg(seed=14)
    digest = sha(data)
    push(client, dev, factories.night_report(20, 0, photos=[digest]))
    assert put(client, dev, data).status_code in STORED
    login(client, who)

    resp = client.get(f"/workspace/photos/{digest}?size=full")

    assert resp.status_code == 200
    assert resp.data == b""
    assert resp.headers["X-Accel-Redirect"] == f"{PREFIX}/{org.id}/{digest[:2]}/{digest}-full.jpg"
    assert resp.headers["Content-Security-Policy"] == PHOTO_CSP
    stranger = app.test_client()
    login(stranger, factories.make_person(factories.make_org()))
    refused = stranger.get(f"/workspace/photos/{digest}?size=full")
    assert refused.status_code == 404
    assert "X-Accel-Redirect" not in refused.headers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", ""), ("/_photos", "/_photos"), ("/internal/photos/", "/internal/photos")],
)
def test_the_prefix_setting_reads_a_plain_path(raw, expected):
    settings = Settings.from_env({"LAGESBILD_PHOTO_ACCEL_PREFIX": raw})
    assert settings["PHOTO_ACCEL_PREFIX"] == expected


@pytest.mark.parametrize("raw", ["_photos", "/a b", "/x\r\nSet-Cookie: y", "https://cdn/x", "/"])
def test_a_prefix_that_is_not_a_plain_path_is_refused(raw):
    with pytest.raises(ConfigError, match="LAGESBILD_PHOTO_ACCEL_PREFIX"):
        Settings.from_env({"LAGESBILD_PHOTO_ACCEL_PREFIX": raw})
