"""Fixtures shared by the API tests of one topic (photos), and the workspace's test clock."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.support import factories
from tests.support.photos import STORED, jpeg, palette_bomb_png, put, sha
from tests.support.workspace import clock  # noqa: F401  (a fixture, shared here)


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
