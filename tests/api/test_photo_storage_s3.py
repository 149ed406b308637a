"""The photo API tests again, with the photos in an S3 bucket (moto on loopback, or a real one).

The test bodies are those of the filesystem tests, imported here: pytest collects them in
this module, where `app` is overridden to store photos in a fresh bucket
(tests/support/s3server.py; `LAGESBILD_TEST_S3_URL` points them at a real endpoint). Tests
that look at the files on disk themselves have S3 counterparts below.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask

from server.cli import main
from server.photos.models import Photo
from tests.api.test_erasure import (  # noqa: F401  (collected here, on S3)
    mail,
    test_erasure_leaves_no_copy_in_archived_digests_or_on_disk,
)
from tests.api.test_photo_privacy import (  # noqa: F401
    test_default_size_is_display,
    test_deleting_a_report_deletes_photos_no_other_report_names,
    test_device_of_another_organisation_gets_404_even_when_naming_the_hash,
    test_device_whose_report_names_the_photo_may_download_it,
    test_download_is_a_sandboxed_jpeg,
    test_served_variants_carry_no_metadata,
    test_unknown_size_is_400_and_unknown_photo_is_404,
    test_variants_are_resized_to_their_limits_and_never_upscaled,
)
from tests.api.test_photo_quota import (  # noqa: F401
    limit,
    test_a_stored_photo_is_accepted_again_over_the_quota,
    test_over_the_quota_the_upload_gets_429_with_a_message_and_retry_after,
)
from tests.api.test_photo_redaction import (  # noqa: F401
    test_the_redacted_flag_is_stored_with_a_new_photo_only,
    test_the_workspace_labels_a_redacted_photo,
)
from tests.api.test_photos import (  # noqa: F401
    test_hash_mismatch_is_rejected_and_nothing_is_stored,
    test_same_photo_from_another_device_of_the_org_is_not_stored_twice,
    test_same_photo_in_another_organisation_is_stored_separately,
    test_truncated_image_is_422_and_leaves_no_row,
    test_upload_makes_the_next_pull_drop_the_photo_from_missing,
    test_upload_stores_photo_and_describes_it,
)
from tests.api.test_retention import (  # noqa: F401
    test_a_photo_an_edit_removed_goes_after_its_grace,
    test_the_purge_clears_deletes_and_counts,
    test_unnamed_photos_wait_for_their_grace_period,
)
from tests.support import factories
from tests.support.gunicorn import free_port
from tests.support.photos import SIZES, committed_rows, get, jpeg, put, sha
from tests.support.s3server import (  # noqa: F401  (fixtures)
    S3Bucket,
    s3_bucket_fixture,
    s3_endpoint_fixture,
)


@pytest.fixture
def app(app: Flask, s3_bucket: S3Bucket) -> Flask:
    """The test app, its photos in the test's bucket."""
    app.config.update(s3_bucket.config())
    return app


def test_the_sizes_are_objects_with_the_filesystems_keys(app, client, device, s3_bucket):
    data = jpeg(seed=31)
    assert put(client, device, data).status_code == 201
    [row] = committed_rows(sha(data))
    keys = [f"{row.storage_path}-{size}.jpg" for size in ("display", "full", "thumb")]
    assert s3_bucket.object_keys() == keys
    assert row.storage_path == f"photos/{row.org_id}/{sha(data)[:2]}/{sha(data)}"
    for size in SIZES:
        served = get(client, device, sha(data), size)
        assert served.status_code == 200
        assert served.data == s3_bucket.get(f"{row.storage_path}-{size}.jpg")
    assert not list(Path(app.config["DATA_DIR"]).rglob("*.jpg"))  # nothing on this host


def test_a_second_upload_does_not_put_again(app, client, device, s3_bucket):
    data = jpeg(seed=32)
    assert put(client, device, data).status_code == 201
    before = {k: s3_bucket.get(k) for k in s3_bucket.object_keys()}
    assert put(client, device, data).status_code == 200
    assert {k: s3_bucket.get(k) for k in s3_bucket.object_keys()} == before


def test_a_photo_is_served_with_an_etag_and_answers_304_again(client, device, uploaded):
    first = get(client, device, uploaded, "thumb")
    assert first.status_code == 200 and first.headers["ETag"] == f'"{uploaded}-thumb"'
    assert first.headers["Cache-Control"] == "private, max-age=3600"
    assert "X-Accel-Redirect" not in first.headers
    again = client.get(
        f"/api/v1/photos/{uploaded}?size=thumb",
        headers={**device.headers, "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""


def test_an_object_deleted_from_the_bucket_is_404_not_500(client, device, uploaded, s3_bucket):
    client_s3 = s3_bucket.endpoint.client()
    for key in s3_bucket.object_keys():
        client_s3.delete_object(Bucket=s3_bucket.name, Key=f"{s3_bucket.prefix}/{key}")
    resp = get(client, device, uploaded, "display")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_the_subject_export_names_the_objects(app, client, device, uploaded, s3_bucket):
    from server.photos.service import file_for, find

    photo: Photo | None = find(device.device.org_id, uploaded)
    assert photo is not None
    where = str(file_for(photo, "thumb"))
    assert where == (f"s3://{s3_bucket.name}/{s3_bucket.prefix}/{photo.storage_path}-thumb.jpg")


@pytest.mark.parametrize("down", ["endpoint", "bucket"])
def test_an_upload_while_s3_is_down_is_a_503_and_stores_nothing(
    app, client, device, s3_bucket, down
):
    if down == "endpoint":
        app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    else:
        app.config["S3_BUCKET"] = "lagesbild-no-such-bucket"
    data = jpeg(seed=33)
    resp = put(client, device, data)
    assert resp.status_code == 503, resp.data
    assert resp.get_json()["error"]["code"] == "photo_storage_unavailable"
    assert int(resp.headers["Retry-After"]) > 0
    assert committed_rows(sha(data)) == []  # no row: the phone keeps it and sends it again
    app.config.update(s3_bucket.config())  # back up: the retry stores it once
    assert put(client, device, data).status_code == 201
    assert len(committed_rows(sha(data))) == 1 and len(s3_bucket.object_keys()) == 3


def test_a_download_while_s3_is_down_is_a_503(app, client, device, uploaded):
    app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    resp = get(client, device, uploaded, "thumb")
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "photo_storage_unavailable"


def test_a_deletion_while_s3_is_down_succeeds_and_logs_the_objects_left(
    app, client, device, s3_bucket, caplog, monkeypatch
):
    photo = jpeg(seed=34)
    assert put(client, device, photo).status_code == 201
    report = factories.report(photos=[sha(photo)])
    resp = client.post("/api/v1/sync/push", json={"reports": [report]}, headers=device.headers)
    assert resp.status_code == 200
    app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    # Alembic's fileConfig (the template migrations) disables the loggers that existed then.
    monkeypatch.setattr(logging.getLogger("lagesbild.photos"), "disabled", False)
    with caplog.at_level(logging.ERROR, logger="lagesbild.photos"):
        result = app.test_cli_runner().invoke(
            main, ["report", "delete", report["id"], "--reason", "erasure", "--json"]
        )
    assert result.exit_code == 0, result.output
    assert committed_rows(sha(photo)) == []
    assert f"not deleted from the storage, remove it by hand: {sha(photo)}" in caplog.text
    assert len(s3_bucket.object_keys()) == 3  # left, and named in the log
