"""Photo upload and download through the HTTP API, on both database lanes.

Covers the contract of ``PUT/GET /api/v1/photos/<sha256>``: hash verification,
limits, the format allowlist, metadata stripping, the stored variants, storage
before the row, idempotent re-uploads, authentication and who may see a photo.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import ExifTags, Image, PngImagePlugin
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from server.devices import service as devices
from server.extensions import db
from server.incidents.feedback import delete_report
from server.photos.models import Photo
from tests.support import factories
from tests.support.envelope import assert_error as assert_envelope

SIZES = ("thumb", "display", "full")
SECRET_COMMENT = b"night-shift secret comment 7f3a"
CAMERA_MAKE = "AcmeNightCam"
XMP_PACKET = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="FieldCam"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
RED, BLUE = (220, 20, 20), (20, 20, 220)
# Where an upload is only a setup step, any success will do; whether the first upload
# says 201/created is asserted by the tests about exactly that.
STORED = (200, 201)


# --------------------------------------------------------------------------- helpers


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def night_photo(size: tuple[int, int] = (64, 48), seed: int = 0) -> Image.Image:
    """A dark, noisy image like a photo taken at night (distinct per seed)."""
    small = (max(1, size[0] // 4), max(1, size[1] // 4))
    noise = random.Random(seed).randbytes(small[0] * small[1] * 3)
    img = Image.frombytes("RGB", small, noise).resize(size, Image.Resampling.BILINEAR)
    return img.point(lambda v: v // 3)


def jpeg(size: tuple[int, int] = (64, 48), seed: int = 0, **params: Any) -> bytes:
    return encode(night_photo(size, seed), "JPEG", quality=85, **params)


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = CAMERA_MAKE
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 38.0, 23.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 12.0, 30.0)
    return exif


def split_image(size: tuple[int, int] = (400, 200)) -> Image.Image:
    """Left half red, right half blue, so the direction of a rotation is observable."""
    img = Image.new("RGB", size, RED)
    img.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return img


def with_metadata(fmt: str, orientation: int = 1) -> bytes:
    """Encode the split image in ``fmt`` carrying EXIF with GPS, XMP and a comment."""
    img = split_image()
    exif = gps_exif(orientation)
    if fmt == "JPEG":
        return encode(img, "JPEG", exif=exif, comment=SECRET_COMMENT, xmp=XMP_PACKET)
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", SECRET_COMMENT.decode())
        info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode())
        return encode(img, "PNG", pnginfo=info, exif=exif)
    assert fmt == "WEBP"
    return encode(img, "WEBP", exif=exif, xmp=XMP_PACKET, quality=95)


def palette_bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit palette PNG built by hand: all-zero rows compress to almost nothing."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(tag + data))
        return struct.pack(">I", len(data)) + tag + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 3, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    parts = [comp.compress(row * min(1000, height - y)) for y in range(0, height, 1000)]
    idat = b"".join(parts) + comp.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255]))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def put(
    client: FlaskClient,
    who: factories.EnrolledDevice,
    data: bytes,
    digest: str | None = None,
    content_type: str = "image/jpeg",
) -> TestResponse:
    return client.put(
        f"/api/v1/photos/{digest if digest is not None else sha(data)}",
        data=data,
        content_type=content_type,
        headers=who.headers,
    )


def get(
    client: FlaskClient, who: factories.EnrolledDevice, digest: str, size: str | None = None
) -> TestResponse:
    query = "" if size is None else f"?size={size}"
    return client.get(f"/api/v1/photos/{digest}{query}", headers=who.headers)


def push(client: FlaskClient, who: factories.EnrolledDevice, *reports: dict) -> TestResponse:
    resp = client.post("/api/v1/sync/push", json={"reports": list(reports)}, headers=who.headers)
    assert resp.status_code == 200, resp.data
    return resp


def release_session() -> None:
    """End the transaction a request left open in the session this test shares with it.

    The test's app context outlives each request, so the scoped session (and on SQLite
    its write lock) is not torn down as it would be after a real request.
    """
    db.session.rollback()


def committed_rows(digest: str) -> list[Any]:
    """Photo rows with this hash as another connection sees them (committed data only)."""
    release_session()
    with db.engine.connect() as conn:
        return list(conn.execute(select(Photo.__table__).where(Photo.sha256 == digest)))


def photo_count() -> int:
    release_session()
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Photo.__table__))


def stored_files(app: Flask, storage_path: str) -> list[Path]:
    """Files at the row's storage_path under DATA_DIR (the path itself or its variants)."""
    base = Path(app.config["DATA_DIR"]) / storage_path
    return sorted(p for p in base.parent.glob(base.name + "*") if p.is_file())


def files_mentioning(app: Flask, digest: str) -> list[Path]:
    root = Path(app.config["DATA_DIR"])
    return [p for p in root.rglob("*") if p.is_file() and digest in p.name]


def jpeg_markers(data: bytes) -> list[tuple[int, bytes]]:
    """Walk every marker segment of a JPEG, including those between progressive scans."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    out: list[tuple[int, bytes]] = []
    i, n = 2, len(data)
    while i < n:
        assert data[i] == 0xFF, f"expected a marker at {i}"
        while data[i] == 0xFF:
            i += 1
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            return out
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        (length,) = struct.unpack(">H", data[i : i + 2])
        out.append((marker, data[i + 2 : i + length]))
        i += length
        if marker == 0xDA:  # entropy-coded data runs until the next real marker
            while i < n - 1 and not (
                data[i] == 0xFF and data[i + 1] not in (0x00, *range(0xD0, 0xD8))
            ):
                i += 1
    raise AssertionError("JPEG without EOI")


def assert_metadata_free(data: bytes) -> Image.Image:
    """Assert a served image is a JPEG that carries pixels and nothing else."""
    for marker, payload in jpeg_markers(data):
        assert marker != 0xFE, "JPEG comment segment survived"
        if 0xE0 <= marker <= 0xEF:
            assert marker == 0xE0 and payload.startswith(b"JFIF\x00"), (
                f"APP{marker - 0xE0} segment survived: {payload[:16]!r}"
            )
    for needle in (CAMERA_MAKE.encode(), SECRET_COMMENT, b"http://ns.adobe.com/xap"):
        assert needle not in data
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    assert len(img.getexif()) == 0
    assert not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    for key in ("exif", "xmp", "comment", "XML:com.adobe.xmp", "Comment"):
        assert key not in img.info
    img.load()
    return img


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 45) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return palette_bomb_png(20_000, 20_000)


@pytest.fixture
def uploaded(client: FlaskClient, device: factories.EnrolledDevice) -> str:
    """The hash of a small photo the `device` has uploaded."""
    data = jpeg(seed=1)
    resp = put(client, device, data)
    assert resp.status_code in STORED, resp.data
    return sha(data)


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


# --------------------------------------------------------------------------- privacy


def test_served_variants_carry_no_metadata(client, device, subtests):
    for fmt in ("JPEG", "PNG", "WEBP"):
        with subtests.test(fmt=fmt):
            data = with_metadata(fmt)
            probe = Image.open(io.BytesIO(data))
            assert probe.getexif().get_ifd(ExifTags.IFD.GPSInfo), "the upload must carry GPS"
            assert CAMERA_MAKE.encode() in data
            resp = put(client, device, data, content_type=f"image/{fmt.lower()}")
            assert resp.status_code in STORED, resp.data

            for size in SIZES:
                served = get(client, device, sha(data), size)
                assert served.status_code == 200
                assert_metadata_free(served.data)


ORIENTATIONS = [
    # (format, EXIF orientation, displayed size, colour top-left, colour bottom-right)
    ("JPEG", 3, (400, 200), BLUE, RED),
    ("JPEG", 6, (200, 400), RED, BLUE),
    ("JPEG", 8, (200, 400), BLUE, RED),
    ("PNG", 6, (200, 400), RED, BLUE),
    ("WEBP", 6, (200, 400), RED, BLUE),
]


def test_exif_orientation_is_applied_before_stripping(client, device, subtests):
    for fmt, orientation, size, top_left, bottom_right in ORIENTATIONS:
        with subtests.test(fmt=fmt, orientation=orientation):
            data = with_metadata(fmt, orientation)

            resp = put(client, device, data, content_type=f"image/{fmt.lower()}")

            assert resp.status_code in STORED, resp.data
            assert (resp.json["width"], resp.json["height"]) == size
            full = assert_metadata_free(get(client, device, sha(data), "full").data)
            assert full.size == size
            w, h = size
            assert close(full.getpixel((w // 8, h // 8)), top_left)
            assert close(full.getpixel((w - 1 - w // 8, h - 1 - h // 8)), bottom_right)


def test_variants_are_resized_to_their_limits_and_never_upscaled(client, device, subtests):
    for seed, size in enumerate([(2400, 1200), (900, 2000), (100, 60)], start=22):
        with subtests.test(size=size):
            data = jpeg(size, seed=seed)
            assert put(client, device, data).status_code in STORED

            dims = {}
            for variant in SIZES:
                resp = get(client, device, sha(data), variant)
                assert resp.status_code == 200
                dims[variant] = Image.open(io.BytesIO(resp.data)).size

            assert dims["full"] == size
            assert max(dims["display"]) == min(1600, max(size))
            assert max(dims["thumb"]) == min(320, max(size))
            ratio = size[0] / size[1]
            for w, h in dims.values():
                assert abs(w / h - ratio) < 0.02, f"aspect ratio changed: {dims}"


# --------------------------------------------------------------------------- download


def test_download_is_a_sandboxed_jpeg(client, device, uploaded):
    for size in (*SIZES, None):
        resp = get(client, device, uploaded, size)

        assert resp.status_code == 200, (size, resp.data[:200])
        assert resp.mimetype == "image/jpeg"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        directives = {d.strip() for d in resp.headers["Content-Security-Policy"].split(";")}
        assert "sandbox" in directives
        assert "default-src 'none'" in directives
        assert resp.data.startswith(b"\xff\xd8\xff")


def test_default_size_is_display(client, device):
    data = jpeg((2000, 1000), seed=25)
    assert put(client, device, data).status_code in STORED

    assert get(client, device, sha(data)).data == get(client, device, sha(data), "display").data


def test_device_whose_report_names_the_photo_may_download_it(client, org, device, uploaded):
    colleague = factories.make_device(org)
    assert get(client, colleague, uploaded).status_code == 404
    push(client, colleague, factories.report(photos=[uploaded]))

    for size in (*SIZES, None):
        resp = get(client, colleague, uploaded, size)
        assert resp.status_code == 200, (size, resp.data[:200])
        assert resp.mimetype == "image/jpeg"


def test_other_device_of_the_org_that_does_not_name_the_photo_gets_404(
    client, org, device, uploaded
):
    colleague = factories.make_device(org)
    push(client, colleague, factories.report(photos=[sha(b"some other photo")]))

    for size in (*SIZES, None):
        assert_envelope(get(client, colleague, uploaded, size), 404, "not_found")


def test_device_of_another_organisation_gets_404_even_when_naming_the_hash(
    client, device, uploaded
):
    stranger = factories.make_device(factories.make_org())
    result = push(client, stranger, factories.report(photos=[uploaded])).json["results"][0]
    assert result["status"] == "created"

    for size in (*SIZES, None):
        assert_envelope(get(client, stranger, uploaded, size), 404, "not_found")


def test_unknown_size_is_400_and_unknown_photo_is_404(client, device, uploaded):
    for size in ("huge", "THUMB", "original", "", "../full"):
        assert_envelope(get(client, device, uploaded, size), 400, "invalid_size")
    assert_envelope(get(client, device, "ab" * 32), 404, "not_found")


def test_photo_file_deleted_from_disk_is_404_not_500(app, client, device, uploaded):
    (row,) = committed_rows(uploaded)
    files = stored_files(app, row.storage_path)
    assert files
    for path in files:
        path.unlink()

    for size in (*SIZES, None):
        assert_envelope(get(client, device, uploaded, size), 404)


# --------------------------------------------------------------------------- sync


def test_upload_clears_missing_photos_in_push_and_pull(client, device, uploaded):
    data = jpeg(seed=26)
    digest = sha(data)
    report = factories.report(photos=[uploaded, digest])
    first = push(client, device, report).json["results"][0]
    assert first["status"] == "created"
    assert first["missing_photos"] == [digest]
    pulled = client.get("/api/v1/sync/pull", headers=device.headers).json["reports"]
    assert [r["missing_photos"] for r in pulled] == [[digest]]

    assert put(client, device, data).status_code in STORED

    again = push(client, device, report).json["results"][0]
    assert again["missing_photos"] == []
    pulled = client.get("/api/v1/sync/pull", headers=device.headers).json["reports"]
    assert [r["id"] for r in pulled] == [report["id"]]
    assert pulled[0]["missing_photos"] == []


def test_photo_uploaded_in_another_organisation_is_still_missing(client, device):
    data = jpeg(seed=27)
    stranger = factories.make_device(factories.make_org())
    assert put(client, stranger, data).status_code in STORED

    result = push(client, device, factories.report(photos=[sha(data)])).json["results"][0]

    assert result["missing_photos"] == [sha(data)]


def test_deleting_a_report_deletes_photos_no_other_report_names(app, client, device):
    only = jpeg((90, 60), seed=21)
    shared = jpeg((90, 60), seed=22)
    for data in (only, shared):
        assert put(client, device, data).status_code == 201
    doomed = factories.report(photos=[sha(only), sha(shared)])
    keeper = factories.report(photos=[sha(shared)])
    push(client, device, doomed, keeper)
    release_session()

    delete_report(uuid.UUID(doomed["id"]), "retention")

    assert committed_rows(sha(only)) == []
    assert files_mentioning(app, sha(only)) == []
    assert len(committed_rows(sha(shared))) == 1
    assert get(client, device, sha(shared)).status_code == 200
    assert get(client, device, sha(only)).status_code == 404
