"""Opaque pull cursors.

A cursor tells the server which changes a device has already pulled: everything with a
change sequence number up to and including ``seq``. It is bound to one database instance
(``epoch``, a random id stored in the database) and one organisation, so a cursor from
another server, another organisation, or a restored or reset database is recognised and the
device is told to resync from scratch instead of silently missing changes.

Clients must treat the text as opaque; its layout may change with the version number.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

VERSION = 1
MAX_CURSOR_LENGTH = 512

# Exactly the URL-safe base64 alphabet, without padding, as encode_cursor writes it.
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)
_KEYS = frozenset({"v", "e", "o", "s"})


def _is_int(value: object) -> bool:
    """Return whether a value is a real int (bool is not)."""
    return type(value) is int


@dataclass(frozen=True)
class Cursor:
    """Hold a position in one organisation's change feed on one database instance."""

    epoch: str
    org_id: int
    seq: int

    def __post_init__(self) -> None:
        """Reject values that could never decode again."""
        if not isinstance(self.epoch, str) or not self.epoch:
            raise ValueError("epoch must be a non-empty str")
        if not _is_int(self.org_id):
            raise ValueError("org_id must be an int")
        if not _is_int(self.seq) or self.seq < 0:
            raise ValueError("seq must be a non-negative int")


def encode_cursor(c: Cursor) -> str:
    """Return the opaque text form of a cursor."""
    payload = {"v": VERSION, "e": c.epoch, "o": c.org_id, "s": c.seq}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    # decode_cursor rejects longer texts; handing one out would force a resync every pull.
    if len(text) > MAX_CURSOR_LENGTH:
        raise ValueError("cursor too long; use a shorter epoch")
    return text


def _payload(text: str) -> object:
    """Return the JSON inside a cursor text, or None when it is not base64 JSON."""
    if not _BASE64URL.fullmatch(text):
        return None
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        return json.loads(raw.decode("utf-8"))
    # Undecodable text of any kind means "start over", never an error for the client.
    except (binascii.Error, ValueError, RecursionError):
        return None


def decode_cursor(text: str | None, *, epoch: str, org_id: int, current_seq: int) -> Cursor | None:
    """Return the cursor, or None when the caller must do a full resync."""
    if not isinstance(text, str) or not text or len(text) > MAX_CURSOR_LENGTH:
        return None
    data = _payload(text)
    if not isinstance(data, dict) or set(data) != _KEYS:
        return None
    version, cur_epoch, cur_org, seq = data["v"], data["e"], data["o"], data["s"]
    if not _is_int(version) or version != VERSION:
        return None
    if not isinstance(cur_epoch, str) or not cur_epoch or not _is_int(cur_org):
        return None
    if not _is_int(seq) or seq < 0:
        return None
    if cur_epoch != epoch or cur_org != org_id:
        return None
    # A cursor ahead of the database means the database went backwards (restore, reset):
    # changes the device "has" may no longer exist and newer ones would be skipped.
    if seq > current_seq:
        return None
    return Cursor(epoch=cur_epoch, org_id=cur_org, seq=seq)
