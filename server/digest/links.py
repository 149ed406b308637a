"""Where the digest points: workspace addresses and image sources (CID parts or URLs).

In an e-mail (`Images` mode "cid") thumbnails and the chart travel as related MIME parts
referred to as ``cid:…``; on the workspace page (mode "url") thumbnails come from the photo
route and the chart is a data: URI.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from server.digest.content import Digest
from server.incidents.models import CLOSED_STATUSES, INCIDENT_STATUSES
from server.photos.storage import PhotoBackend, PhotoStore, StorageUnavailable

# The statuses a follow-up is in: everything not closed.
OPEN_STATUSES = tuple(s for s in INCIDENT_STATUSES if s not in CLOSED_STATUSES)

# Photos embedded in one e-mail (about 10–30 kB each); the rest are linked.
MAX_INLINE_PHOTOS = 40
CHART_CID = "chart@lagesbild"


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML refers to as ``cid:<cid>`` (a related MIME part)."""

    cid: str
    content_type: str
    data: bytes


class Links:
    """Addresses in the workspace."""

    def __init__(self, base_url: str, digest: Digest) -> None:
        """Build links under `base_url` (the installation's public address)."""
        self.base = base_url.rstrip("/")
        self.digest = digest

    def incident(self, incident_id: str) -> str:
        """Return the workspace page of an incident."""
        return f"{self.base}/workspace/incidents/{quote(incident_id, safe='')}"

    def workspace(self) -> str:
        """Return the workspace's start page."""
        return f"{self.base}/workspace/"

    def overdue_actions(self) -> str:
        """Return the åtgärdsplan showing only the overdue actions."""
        return f"{self.base}/workspace/atgardsplan?overdue=1"

    def places(self) -> str:
        """Return the workspace's recurring places page."""
        return f"{self.base}/workspace/places"

    def photo(self, sha256: str) -> str:
        """Return the workspace address of a photo's thumbnail."""
        return f"{self.base}/workspace/photos/{quote(sha256, safe='')}?size=thumb"

    def followups(self) -> str:
        """Return the workspace list of the open incidents the follow-up section counts."""
        d = self.digest
        tz = ZoneInfo(d.tz)
        query = [
            ("from", d.followups.since.astimezone(tz).strftime("%Y-%m-%dT%H:%M")),
            ("to", d.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M")),
            *(("status", s) for s in OPEN_STATUSES),
            ("sort", "severity"),
        ]
        return f"{self.base}/workspace/incidents?{urlencode(query)}"

    def period_list(self) -> str:
        """Return the workspace list of the period's incidents."""
        d = self.digest
        if d.kind == "night":
            return f"{self.base}/workspace/?{urlencode({'night': d.day.isoformat()})}"
        tz = ZoneInfo(d.tz)
        query = {
            "from": d.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "to": d.end.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "sort": "severity",
        }
        return f"{self.base}/workspace/incidents?{urlencode(query)}"


class Images:
    """Image sources for the HTML; in "cid" mode it collects the inline images."""

    def __init__(self, digest: Digest, mode: str, links: Links) -> None:
        """Serve the digest's thumbnails as CID parts or workspace URLs."""
        self.digest = digest
        self.mode = mode
        self.links = links
        self.images: list[InlineImage] = []
        self._cids: dict[str, str | None] = {}
        self._store = _photo_store(digest.data_dir)

    def thumb(self, sha256: str, owner: int | None = None) -> str | None:
        """Return the src of a photo's 320 px thumbnail, or None when it cannot be shown.

        `owner` is the organisation whose store holds a shared item's photo (None: the
        digest's own).
        """
        owner = owner if owner is not None else self.digest.org_id
        if self.mode == "url":
            # The workspace's photo route serves the reader's own photos; a shared photo
            # is counted and linked to its incident's page instead of shown broken.
            return self.links.photo(sha256) if owner == self.digest.org_id else None
        key = f"{owner}/{sha256}"
        if key in self._cids:
            return self._cids[key]
        src = None
        photos = sum(1 for i in self.images if i.cid != CHART_CID)
        if self._store is not None and photos < MAX_INLINE_PHOTOS:
            try:
                data = self._store.read(owner, sha256, "thumb") or b""
            except (OSError, ValueError, StorageUnavailable):
                data = b""  # linked instead of embedded: the digest still goes out
            if data:
                shared = "" if owner == self.digest.org_id else f"{owner}-"
                cid = f"photo-{shared}{sha256[:24]}@lagesbild"
                self.images.append(InlineImage(cid, "image/jpeg", data))
                src = f"cid:{cid}"
        self._cids[key] = src
        return src

    def chart(self, png: bytes) -> str:
        """Return the src of the chart image."""
        if self.mode == "url":
            return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        self.images.append(InlineImage(CHART_CID, "image/png", png))
        return f"cid:{CHART_CID}"


def _photo_store(data_dir: str | None) -> PhotoBackend | None:
    """Return the configured photo storage (an S3 bucket too), or the data directory's."""
    if not data_dir:
        return None
    if has_app_context():
        from server.photos.backends import open_store

        return open_store({**current_app.config, "DATA_DIR": data_dir})
    return PhotoStore(Path(data_dir))
