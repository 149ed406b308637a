"""A photo redacted on the phone: `?redacted=1` on the upload, the flag stored, the workspace
label; and the face detector's files served to the field app from node_modules, nothing else.
"""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.photos.models import Photo
from server.pwa import CSP
from server.reports.models import Report
from tests.support import factories
from tests.support.photos import committed_rows, jpeg, push, sha
from tests.support.workspace import cheap_hashing, login  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("cheap_hashing")


def _put(client, who, data: bytes, query: str = ""):
    return client.put(
        f"/api/v1/photos/{sha(data)}{query}",
        data=data,
        content_type="image/jpeg",
        headers=who.headers,
    )


def test_the_redacted_flag_is_stored_with_a_new_photo_only(client, device):
    masked, plain, other = jpeg(seed=11), jpeg(seed=12), jpeg(seed=13)

    assert _put(client, device, masked, "?redacted=1").status_code == 201
    assert _put(client, device, plain).status_code == 201
    assert _put(client, device, other, "?redacted=yes").status_code == 201  # only "1" counts
    # A re-upload is a no-op: it never changes the stored flag either way.
    assert _put(client, device, masked).status_code == 200
    assert _put(client, device, plain, "?redacted=1").status_code == 200

    flags = {
        row.sha256: row.redacted
        for row in (committed_rows(sha(d))[0] for d in (masked, plain, other))
    }
    assert flags == {sha(masked): True, sha(plain): False, sha(other): False}


def test_the_workspace_labels_a_redacted_photo(app: Flask, client) -> None:
    org = factories.make_org()
    who = factories.make_person(org)
    dev = factories.make_device(org, kind="faltare")
    masked, plain = jpeg(seed=21), jpeg(seed=22)
    body = factories.night_report(19, 0, photos=[sha(masked), sha(plain)])
    push(client, dev, body)
    assert _put(client, dev, masked, "?redacted=1").status_code == 201
    assert _put(client, dev, plain).status_code == 201
    db.session.expire_all()
    incident_id = db.session.get(Report, uuid.UUID(body["id"])).incident_id
    db.session.commit()
    login(client, who)

    html = client.get(f"/workspace/incidents/{incident_id}").get_data(as_text=True)

    items = html[html.index('<ul class="photos">') :].split("</li>")[:2]
    assert sha(masked) in items[0] and "Maskerad på telefonen" in items[0]
    assert sha(plain) in items[1] and "Maskerad" not in items[1]
    assert db.session.scalars(select(Photo).where(Photo.redacted.is_(True))).one().sha256 == sha(
        masked
    )


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/vendor/face-api/dist/face-api.esm.js", "text/javascript"),
        ("/vendor/face-api/model/tiny_face_detector_model.bin", "application/octet-stream"),
        (
            "/vendor/face-api/model/tiny_face_detector_model-weights_manifest.json",
            "application/json",
        ),
    ],
)
def test_the_face_detector_is_served_from_node_modules(client, path: str, mimetype: str) -> None:
    resp = client.get(path)

    assert resp.status_code == 200, "run `make install-test` (npm ci)"
    assert resp.mimetype == mimetype
    assert resp.headers["Content-Security-Policy"] == CSP
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert len(resp.get_data()) > 1000


@pytest.mark.parametrize(
    "path",
    [
        "/vendor/face-api/package.json",
        "/vendor/face-api/model/ssd_mobilenetv1_model.bin",
        "/vendor/face-api/demo/sample1.jpg",
        "/vendor/face-api/../leaflet/dist/leaflet.js",
        "/vendor/leaflet/dist/leaflet.js",
        "/vendor/face-api/dist/face-api.esm.js.map",
    ],
)
def test_nothing_else_of_node_modules_is_served(client, path: str) -> None:
    assert client.get(path).status_code == 404
