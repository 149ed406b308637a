"""Reading a request body under a limit: the body, a 413 past the limit, no limit-sized buffer."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from flask import Flask

from server import http
from server.errors import ApiError

MIB = 1024 * 1024


def _read(app: Flask, body: bytes, limit: int, *, declared: bool = True) -> bytes:
    """Read `body` through read_body, with or without a Content-Length (chunked)."""
    if declared:
        ctx = app.test_request_context("/", method="PUT", data=body)
    else:
        ctx = app.test_request_context(
            "/",
            method="PUT",
            input_stream=io.BytesIO(body),
            environ_overrides={"wsgi.input_terminated": True},
        )
    with ctx:
        return http.read_body(limit, "photo")


def test_a_small_body_does_not_cost_the_limit(app: Flask) -> None:
    # Issue 14: one read of limit + 1 bytes zero-filled a 15 MiB buffer for a 100 kB photo.
    body = b"x" * 100_000
    for declared in (True, False):
        tracemalloc.start()
        try:
            assert _read(app, body, 15 * MIB, declared=declared) == body
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 2 * MIB


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_of_the_limit_is_read_whole_in_pieces(
    app: Flask, monkeypatch: pytest.MonkeyPatch, declared: bool
) -> None:
    monkeypatch.setattr(http, "_PIECE", 7)
    body = bytes(range(256)) * 4
    assert _read(app, body, len(body), declared=declared) == body
    assert _read(app, b"", 10, declared=declared) == b""


@pytest.mark.parametrize("declared", [True, False])
def test_one_byte_past_the_limit_is_a_413(
    app: Flask, monkeypatch: pytest.MonkeyPatch, declared: bool
) -> None:
    monkeypatch.setattr(http, "_PIECE", 7)
    with pytest.raises(ApiError) as raised:
        _read(app, b"y" * 101, 100, declared=declared)
    assert raised.value.status == 413
