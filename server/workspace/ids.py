"""The workspace's one pattern for ids typed or pasted by a coordinator.

Photos are addressed by SHA-256; that pattern is the photo store's own
(`sync.ids.is_sha256`, checked by `photos.service.photo_for_org`).
"""

from __future__ import annotations

import re
import uuid

# Hyphens optional: an id copied from a log or a spreadsheet may have lost them.
UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)


def find_uuid(raw: str | None) -> uuid.UUID | None:
    """Find an id in pasted text (a bare id or a whole incident address)."""
    if not raw:
        return None
    found = UUID_RE.search(raw[:500])
    return uuid.UUID(found.group(0)) if found else None
