"""Photo upload through the HTTP API, on both database lanes.

Covers the contract of ``PUT /api/v1/photos/<sha256>``: hash verification, limits, the
format allowlist, storage before the row, idempotent re-uploads and authentication.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from server.devices import service as devices
from server.extensions import db
from server.photos import service as photo_service
from server.photos.models import Photo
from tests.support import factories
from tests.support.envelope import assert_error as assert_envelope
from tests.support.photos import (
    SIZES,
    STORED,
    committed_rows,
    encode,
    files_mentioning,
    get,
    jpeg,
    night_photo,
    photo_count,
    push,
    put,
    sha,
    stored_files,
)

# --------------------------------------------------------------------------- upload


def test_upload_stores_photo_and_describes_it(client, device):
    data = jpeg((120, 90), seed=2)

    resp = put(client, device, data)

    assert resp.status_code == 201, resp.data
    assert resp.mimetype == "application/json"
    assert resp.json == {
        "sha256": sha(data),
        "format": "JPEG",
        "width": 120,
        "height": 90,
        "bytes": len(data),
        "created": True,
    }
    assert len(committed_rows(sha(data))) == 1


def test_each_allowed_format_is_accepted(client, device, subtests):
    for seed, fmt in enumerate(("JPEG", "PNG", "WEBP"), start=3):
        with subtests.test(fmt=fmt):
            data = encode(night_photo((80, 60), seed=seed), fmt)

            resp = put(client, device, data, content_type=f"image/{fmt.lower()}")

            assert resp.status_code in STORED, resp.data
            assert resp.json["format"] == fmt
            assert (resp.json["width"], resp.json["height"]) == (80, 60)
            assert len(committed_rows(sha(data))) == 1


def test_files_exist_at_row_storage_path_after_upload(app, client, device):
    data = jpeg((100, 80), seed=6)
    assert put(client, device, data).status_code in STORED

    (row,) = committed_rows(sha(data))
    files = stored_files(app, row.storage_path)

    assert len(files) >= len(SIZES), files
    on_disk = {p.read_bytes() for p in files}
    for size in SIZES:
        served = get(client, device, sha(data), size)
        assert served.status_code == 200
        assert served.data in on_disk, f"{size} variant is not a file at the row's storage_path"


def test_files_are_written_before_the_row_is_committed(app, client, device):
    data = jpeg((90, 70), seed=7)
    digest = sha(data)
    seen: list[tuple[str, list[Path]]] = []

    def before_commit(session: Session) -> None:
        for path in session.scalars(select(Photo.storage_path).where(Photo.sha256 == digest)):
            seen.append((path, stored_files(app, path)))

    event.listen(Session, "before_commit", before_commit)
    try:
        resp = put(client, device, data)
    finally:
        event.remove(Session, "before_commit", before_commit)

    assert resp.status_code in STORED, resp.data
    assert seen, "no commit carried the photo row"
    for path, files in seen:
        assert len(files) >= len(SIZES), f"row for {path} committed before its files existed"


def test_second_upload_of_same_hash_is_a_no_op(app, client, device):
    data = jpeg(seed=8)
    assert put(client, device, data).status_code == 201
    (row,) = committed_rows(sha(data))
    before = {p: p.read_bytes() for p in stored_files(app, row.storage_path)}

    again = put(client, device, data)

    assert again.status_code == 200
    assert again.json["created"] is False
    assert again.json["sha256"] == sha(data)
    assert len(committed_rows(sha(data))) == 1
    assert {p: p.read_bytes() for p in stored_files(app, row.storage_path)} == before


def test_a_new_photo_is_not_read_back_after_its_row_is_written(app, client, device):
    data = jpeg((120, 90), seed=21)
    reads: list[str] = []

    def count(conn, cursor, statement, params, context, executemany) -> None:
        # A look-up of the photo by its hash (the day's quota reads photos too).
        if statement.lstrip().startswith("SELECT") and "photos.sha256 =" in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        resp = put(client, device, data)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    assert resp.status_code == 201, resp.data
    assert resp.json["width"] == 120 and resp.json["bytes"] == len(data)
    # The "is it stored already?" look-up only: the answer comes from the row just written.
    assert len(reads) == 1, reads


def test_an_upload_that_loses_the_race_answers_with_the_stored_photo(client, device, monkeypatch):
    data = jpeg((100, 80), seed=22)
    assert put(client, device, data).status_code == 201
    real_find = photo_service.find
    calls: list[str] = []

    def not_yet_stored(org_id: int, digest: str) -> Photo | None:
        # The first look-up misses, as when another upload commits the photo meanwhile.
        calls.append(digest)
        return None if len(calls) == 1 else real_find(org_id, digest)

    monkeypatch.setattr(photo_service, "find", not_yet_stored)

    resp = put(client, device, data)

    assert resp.status_code == 200, resp.data
    assert resp.json["created"] is False
    assert (resp.json["width"], resp.json["height"]) == (100, 80)
    assert len(calls) == 2
    assert len(committed_rows(sha(data))) == 1


def test_reupload_of_stored_hash_does_not_process_the_body(app, client, device, uploaded):
    (row,) = committed_rows(uploaded)
    before = {p: p.read_bytes() for p in stored_files(app, row.storage_path)}

    resp = put(client, device, b"\x00garbage that is neither an image nor these bytes", uploaded)

    assert resp.status_code == 200, resp.data
    assert resp.json["created"] is False
    assert {p: p.read_bytes() for p in stored_files(app, row.storage_path)} == before


def test_same_photo_from_another_device_of_the_org_is_not_stored_twice(client, org, device):
    data = jpeg(seed=9)
    assert put(client, device, data).status_code in STORED

    resp = put(client, factories.make_device(org), data)

    assert resp.status_code == 200
    assert resp.json["created"] is False
    assert len(committed_rows(sha(data))) == 1


def test_same_photo_in_another_organisation_is_stored_separately(client, device):
    data = jpeg(seed=10)
    assert put(client, device, data).status_code in STORED
    stranger = factories.make_device(factories.make_org())

    resp = put(client, stranger, data)

    assert resp.status_code == 201
    assert resp.json["created"] is True
    assert len(committed_rows(sha(data))) == 2


def test_uppercase_hex_path_is_accepted_and_normalised(client, device):
    data = jpeg(seed=11)

    resp = put(client, device, data, sha(data).upper())

    assert resp.status_code in STORED, resp.data
    assert resp.json["sha256"] == sha(data)
    assert get(client, device, sha(data)).status_code == 200
    assert get(client, device, sha(data).upper()).status_code == 200
    again = put(client, device, data, sha(data).upper())
    assert (again.status_code, again.json["created"]) == (200, False)


def test_non_hex_path_is_rejected(client, device, subtests):
    data = jpeg(seed=12)
    for path in ("z" * 64, "abc123", "a" * 65, "photo.jpg", "%20" + "a" * 63, "g" + "a" * 63):
        with subtests.test(path=path):
            resp = client.put(
                f"/api/v1/photos/{path}",
                data=data,
                content_type="image/jpeg",
                headers=device.headers,
            )
            assert_envelope(resp, 400, "invalid_sha256")
            assert_envelope(get(client, device, path), 400, "invalid_sha256")
    assert photo_count() == 0


def test_hash_mismatch_is_rejected_and_nothing_is_stored(app, client, device):
    data = jpeg(seed=13)
    claimed = sha(data + b"x")

    assert_envelope(put(client, device, data, claimed), 400, "hash_mismatch")

    assert committed_rows(claimed) == []
    assert committed_rows(sha(data)) == []
    assert files_mentioning(app, claimed) == []
    assert files_mentioning(app, sha(data)) == []


def test_empty_body_is_rejected(client, device, subtests):
    for digest in (hashlib.sha256(b"").hexdigest(), "ab" * 32):
        with subtests.test(digest=digest):
            assert_envelope(put(client, device, b"", digest), 400)
    assert photo_count() == 0


def test_body_over_the_byte_limit_is_413(app, client, device):
    data = jpeg((200, 200), seed=14)
    app.config["MAX_PHOTO_BYTES"] = len(data) - 1

    resp = put(client, device, data)

    assert_envelope(resp, 413)
    assert committed_rows(sha(data)) == []
    app.config["MAX_PHOTO_BYTES"] = len(data)
    assert put(client, device, data).status_code in STORED


def test_chunked_body_over_the_limit_is_413_not_a_hash_mismatch(app, client, device):
    data = jpeg((200, 200), seed=15)
    app.config["MAX_PHOTO_BYTES"] = len(data) - 1

    # No Content-Length, as with a chunked upload: the server must still notice the size.
    resp = client.put(
        f"/api/v1/photos/{sha(data)}",
        input_stream=io.BytesIO(data),
        content_type="image/jpeg",
        headers=device.headers,
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert_envelope(resp, 413, "payload_too_large")
    assert committed_rows(sha(data)) == []


def test_upload_makes_the_next_pull_drop_the_photo_from_missing(client, device):
    data = jpeg((120, 90), seed=16)
    report = factories.report(photos=[sha(data)])
    assert push(client, device, report).get_json()["results"][0]["missing_photos"] == [sha(data)]
    first = client.get("/api/v1/sync/pull", headers=device.headers).get_json()
    assert first["reports"][0]["missing_photos"] == [sha(data)]

    assert put(client, device, data).status_code == 201
    after = client.get(
        "/api/v1/sync/pull", query_string={"cursor": first["cursor"]}, headers=device.headers
    ).get_json()

    assert [r["id"] for r in after["reports"]] == [report["id"]]
    assert after["reports"][0]["missing_photos"] == []


NOT_ALLOWED = {
    "gif": encode(Image.new("P", (10, 10)), "GIF"),
    "bmp": encode(Image.new("RGB", (10, 10)), "BMP"),
    "tiff": encode(Image.new("RGB", (10, 10)), "TIFF"),
    "text": b"Rapport: klotter vid busskuren.\n",
    "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
    "svg": b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
}


def test_formats_outside_the_allowlist_are_415(app, client, device, subtests):
    for name, data in NOT_ALLOWED.items():
        with subtests.test(format=name):
            # Declared as JPEG: the server must judge the bytes, not the Content-Type.
            resp = put(client, device, data, content_type="image/jpeg")

            assert_envelope(resp, 415)
            assert committed_rows(sha(data)) == []
            assert files_mentioning(app, sha(data)) == []


def test_decompression_bomb_is_413_and_the_worker_survives(app, client, device, bomb):
    assert len(bomb) < 100_000  # 400 megapixels in a few tens of kB

    resp = put(client, device, bomb, content_type="image/png")

    assert_envelope(resp, 413, "image_too_large")
    assert committed_rows(sha(bomb)) == []
    assert files_mentioning(app, sha(bomb)) == []
    assert put(client, device, jpeg(seed=15)).status_code in STORED


def test_configured_pixel_limit_applies(app, client, device):
    data = encode(night_photo((200, 200), seed=16), "PNG")
    app.config["MAX_PHOTO_PIXELS"] = 200 * 200 - 1

    resp = put(client, device, data, content_type="image/png")

    assert_envelope(resp, 413, "image_too_large")
    assert committed_rows(sha(data)) == []


def test_truncated_image_is_422_and_leaves_no_row(app, client, device, subtests):
    for seed, fmt in enumerate(("JPEG", "PNG", "WEBP"), start=17):
        with subtests.test(fmt=fmt):
            whole = encode(night_photo((256, 256), seed=seed), fmt)
            data = whole[: len(whole) * 3 // 5]

            resp = put(client, device, data, content_type=f"image/{fmt.lower()}")

            assert_envelope(resp, 422, "corrupt_image")
            assert committed_rows(sha(data)) == []
            assert files_mentioning(app, sha(data)) == []


def test_missing_or_invalid_token_is_401(client, device, uploaded, subtests):
    data = jpeg(seed=20)
    headers: dict[str, dict[str, str]] = {
        "missing": {},
        "unknown": {"Authorization": "Bearer lbd_not-a-real-token"},
        "empty": {"Authorization": "Bearer "},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
        "no-scheme": {"Authorization": device.token},
        "huge": {"Authorization": "Bearer " + "A" * 20_000},
    }
    for name, header in headers.items():
        with subtests.test(auth=name):
            resp = client.put(
                f"/api/v1/photos/{sha(data)}", data=data, content_type="image/jpeg", headers=header
            )
            assert_envelope(resp, 401)
            assert_envelope(client.get(f"/api/v1/photos/{uploaded}", headers=header), 401)
    assert committed_rows(sha(data)) == []


def test_revoked_device_gets_401_for_upload_and_download(client, device, uploaded):
    devices.revoke(device.device.id)
    data = jpeg(seed=21)

    assert_envelope(put(client, device, data), 401)
    assert_envelope(get(client, device, uploaded), 401)
    assert committed_rows(sha(data)) == []
