"""Photos as others see them: no metadata, right sizes, download rights, and the sync round."""

from __future__ import annotations

import io
import uuid

from PIL import ExifTags, Image

from server.incidents.feedback import delete_report
from tests.support import factories
from tests.support.envelope import assert_error as assert_envelope
from tests.support.photos import (
    BLUE,
    CAMERA_MAKE,
    RED,
    SIZES,
    STORED,
    assert_metadata_free,
    close,
    committed_rows,
    files_mentioning,
    get,
    jpeg,
    push,
    put,
    release_session,
    sha,
    stored_files,
    with_metadata,
)

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
