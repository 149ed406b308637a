"""Request and response helpers shared by the web views."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from server.errors import ApiError

# Served photos may never run anything, even if a browser were tricked into rendering one.
PHOTO_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
# Bytes a body is read in at a time: a phone's photo is a few hundred kB.
_PIECE = 256 * 1024


def read_body(limit: int, what: str) -> bytes:
    """Read the raw body, answering 413 when it exceeds `limit` bytes.

    Werkzeug stops a chunked body at the limit silently; reading one byte more tells a
    truncated upload from a complete one, so an oversized upload never looks damaged
    (which would make the phone resend it for ever).
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise _too_large(limit, what)
    # In pieces: `stream.read(n)` zero-fills a buffer of n bytes before reading into it, so
    # one read of `limit + 1` wrote the whole limit on every request (15 MiB for a photo of
    # 100 kB, 5 MiB for a push of two reports; issue 14).
    pieces: list[bytes] = []
    size = 0
    while size <= limit:
        piece = request.stream.read(min(_PIECE, limit + 1 - size))
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    if size > limit:
        raise _too_large(limit, what)
    return b"".join(pieces)


def _too_large(limit: int, what: str) -> ApiError:
    """Build the 413 for an oversized body."""
    return ApiError(
        413,
        "payload_too_large",
        f"The {what} is larger than {limit // 1024} kB.",
        {"limit_bytes": limit},
    )


def json_body(limit: int, what: str = "request") -> Any:
    """Read and parse a JSON body of at most `limit` bytes, or raise a clear 4xx."""
    raw = read_body(limit, what)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        # ValueError covers bad UTF-8 and bad JSON; RecursionError absurdly deep nesting.
        raise ApiError(400, "invalid_json", "The request body must be JSON.") from None
