"""Identifier formats shared by the phone, the server and the workspace."""

from __future__ import annotations

import re
import unicodedata

# A photo is addressed by the SHA-256 of its bytes: 64 lower-case hex digits, nothing else.
SHA256_PATTERN = r"[0-9a-f]{64}"
_SHA256_RE = re.compile(SHA256_PATTERN)


def is_sha256(value: object) -> bool:
    """Tell whether a value is a SHA-256 in lower-case hex (a photo's address)."""
    return isinstance(value, str) and _SHA256_RE.fullmatch(value) is not None


def slugify(name: str) -> str:
    """Return an ASCII slug for a Swedish name (å→a, ä→a, ö→o); "" if nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80]
