"""The photo quota: photo bytes per device and Stockholm calendar day (429 photo_quota)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from analysis.calendar import STOCKHOLM
from server.domain_errors import QuotaExceeded
from server.extensions import db
from server.photos import quota
from server.photos.models import Photo
from tests.support import factories
from tests.support.photos import jpeg, photo_count, put, sha

ONE, TWO, THREE = jpeg(seed=11), jpeg(seed=12), jpeg(seed=13)


@pytest.fixture
def limit(app: Flask) -> int:
    """A quota that the first photo uses up exactly."""
    app.config["PHOTO_QUOTA_BYTES_PER_DAY"] = len(ONE)
    return len(ONE)


def test_over_the_quota_the_upload_gets_429_with_a_message_and_retry_after(
    client: FlaskClient, device: factories.EnrolledDevice, limit: int
) -> None:
    assert put(client, device, ONE).status_code == 201

    resp = put(client, device, TWO)

    assert resp.status_code == 429
    assert resp.headers["Cache-Control"] == "no-store"
    error = resp.get_json()["error"]
    assert error["code"] == "photo_quota"
    assert "per phone and day" in error["message"] and "after midnight" in error["message"]
    assert error["details"]["limit_bytes"] == limit
    assert error["details"]["used_bytes"] == len(ONE)
    resets = datetime.fromisoformat(error["details"]["resets_at"])
    local = resets.astimezone(STOCKHOLM)
    assert (local.hour, local.minute) == (0, 0)
    wait = int(resp.headers["Retry-After"])
    assert 0 < wait <= 25 * 3600
    assert abs((resets - datetime.now(UTC)).total_seconds() - wait) < 60
    assert photo_count() == 1


def test_a_stored_photo_is_accepted_again_over_the_quota(
    client: FlaskClient, org, device: factories.EnrolledDevice, limit: int
) -> None:
    assert put(client, device, ONE).status_code == 201
    other = factories.make_device(org)
    assert put(client, other, TWO).status_code == 201  # another phone has its own quota
    assert put(client, device, THREE).status_code == 429

    again = put(client, device, ONE)
    shared = put(client, device, TWO)  # stored by the other phone of the organisation

    assert again.status_code == 200 and again.get_json()["created"] is False
    assert shared.status_code == 200 and shared.get_json()["sha256"] == sha(TWO)


def test_over_the_quota_the_body_is_not_even_read(
    client: FlaskClient, device: factories.EnrolledDevice, limit: int
) -> None:
    assert put(client, device, ONE).status_code == 201
    junk = b"not an image at all"
    resp = put(client, device, junk)  # would be 415 if it were read
    assert resp.status_code == 429


def test_a_photo_that_would_pass_the_quota_is_refused(
    app: Flask, client: FlaskClient, device: factories.EnrolledDevice
) -> None:
    small = jpeg(size=(8, 8), seed=3)
    assert len(small) < len(TWO)
    app.config["PHOTO_QUOTA_BYTES_PER_DAY"] = len(ONE) + len(small)
    assert put(client, device, ONE).status_code == 201
    assert put(client, device, TWO).status_code == 429
    assert put(client, device, small).status_code == 201  # a smaller one fits exactly
    assert put(client, device, THREE).status_code == 429


def test_yesterdays_photos_do_not_count(
    client: FlaskClient, device: factories.EnrolledDevice, limit: int
) -> None:
    assert put(client, device, ONE).status_code == 201
    assert put(client, device, TWO).status_code == 429
    db.session.execute(update(Photo).values(created_at=datetime.now(UTC) - timedelta(days=1)))
    db.session.commit()
    assert put(client, device, TWO).status_code == 201


def test_the_first_photo_of_a_day_passes_even_if_larger_than_the_quota(
    app: Flask, client: FlaskClient, device: factories.EnrolledDevice
) -> None:
    app.config["PHOTO_QUOTA_BYTES_PER_DAY"] = 10
    assert put(client, device, ONE).status_code == 201
    assert put(client, device, TWO).status_code == 429


def test_quota_zero_means_no_quota(
    app: Flask, client: FlaskClient, device: factories.EnrolledDevice
) -> None:
    app.config["PHOTO_QUOTA_BYTES_PER_DAY"] = 0
    for data in (ONE, TWO, THREE):
        assert put(client, device, data).status_code == 201


def test_the_default_quota_is_200_mib(app: Flask) -> None:
    from server.config import SETTINGS

    [setting] = [s for s in SETTINGS if s.env == "LAGESBILD_PHOTO_QUOTA_BYTES_PER_DAY"]
    assert setting.default == 200 * 1024 * 1024 and setting.config_key in app.config


def test_the_quota_is_documented_in_the_openapi_description(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    answer = spec["paths"]["/api/v1/photos/{sha256}"]["put"]["responses"]["429"]
    assert "photo_quota" in answer["description"] and "Retry-After" in answer["headers"]


# --- the day ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "hours"),
    [
        (datetime(2026, 3, 29, 10, 0, tzinfo=UTC), 23),  # spring forward
        (datetime(2026, 10, 25, 10, 0, tzinfo=UTC), 25),  # fall back
        (datetime(2026, 12, 7, 22, 30, tzinfo=UTC), 24),  # 23:30 local, still the 7th
    ],
)
def test_the_day_is_the_stockholm_calendar_day(now: datetime, hours: int) -> None:
    start, end = quota.day_bounds(now)
    assert start <= now < end
    assert (end - start) == timedelta(hours=hours)
    assert start.astimezone(STOCKHOLM).hour == 0 and end.astimezone(STOCKHOLM).hour == 0


def test_retry_after_counts_to_local_midnight() -> None:
    now = datetime(2026, 12, 7, 22, 30, tzinfo=UTC)  # 23:30 in Stockholm
    with pytest.raises(QuotaExceeded) as raised:
        quota.check(used=100, incoming=50, quota=120, now=now)
    assert raised.value.retry_after == 30 * 60
    assert raised.value.details["resets_at"] == "2026-12-08T00:00:00+01:00"
    quota.check(used=100, incoming=20, quota=120, now=now)  # fits exactly: no error
