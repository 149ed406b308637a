"""Inputs that once answered 500: each now gets a clear 4xx and changes nothing."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.support import factories
from tests.support.envelope import assert_error
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    make_scene,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")
HUGE = "99999999999999999999999"


@pytest.mark.parametrize("pending", ["²", "١٢", "٣", "1²", "+1", " 1", "1e3", "-0", HUGE])
def test_pull_with_a_pending_count_that_is_not_ascii_digits_is_400(
    client: FlaskClient, device: factories.EnrolledDevice, pending: str
) -> None:
    resp = client.get(
        "/api/v1/sync/pull", query_string={"pending": pending}, headers=device.headers
    )
    assert_error(resp, 400, "invalid_pending")


def test_pull_with_a_valid_pending_count_still_works(
    client: FlaskClient, device: factories.EnrolledDevice
) -> None:
    resp = client.get("/api/v1/sync/pull?pending=12", headers=device.headers)
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "kind=week&date=0001-01-01",
        "kind=month&date=0001-01-01",
        "kind=night&date=0001-01-01",
        "kind=week&date=9999-12-31",
        "kind=month&date=1999-12-31",
    ],
)
def test_lagesbild_for_a_date_outside_the_supported_years_is_400(
    client: FlaskClient, query: str
) -> None:
    scene = make_scene()
    login(client, scene.who)
    resp = client.get(f"/workspace/lagesbild?{query}")
    assert resp.status_code == 400
    assert "text/html" in resp.content_type


def test_lagesbild_for_a_date_in_range_still_renders(client: FlaskClient) -> None:
    scene = make_scene()
    login(client, scene.who)
    assert client.get("/workspace/lagesbild?kind=week&date=2026-11-23").status_code == 200


@pytest.mark.parametrize("suffix", ["", "/document"])
@pytest.mark.parametrize("run_id", [HUGE, str(2**63), str(2**63 - 1), str(2**31), str(2**31 - 1)])
def test_a_digest_run_id_beyond_the_database_range_is_404(
    client: FlaskClient, run_id: str, suffix: str
) -> None:
    scene = make_scene()
    login(client, scene.who)
    resp = client.get(f"/workspace/digest/{run_id}{suffix}")
    assert resp.status_code == 404
    assert "text/html" in resp.content_type


@pytest.mark.parametrize("run_id", [HUGE, str(2**63), str(2**31)])
def test_resending_a_digest_run_id_beyond_the_database_range_is_404(
    client: FlaskClient, run_id: str
) -> None:
    scene = make_scene()
    login(client, scene.who)
    resp = post(client, f"/workspace/digest/{run_id}/send")
    assert resp.status_code == 404
