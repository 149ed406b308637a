"""The night's retention purge, as the morning digest names it in one line."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from server.digest.content.model import Purged
from server.extensions import db


def purged_last_night(org_id: int, kind: str, day: date) -> Purged | None:
    """Return what the purge of `day` (03:30, before the digest) removed, if anything.

    Only the night digest says it, and only for a purge that finished.
    """
    if kind != "night":
        return None
    # The table by name: server.retention imports the digest (it deletes archived runs),
    # so importing its model here would make an import loop.
    runs = db.metadata.tables["purge_runs"].c
    row = db.session.execute(
        select(runs.status, runs.counts).where(runs.org_id == org_id, runs.day == day)
    ).first()
    if row is None or row.status != "done":
        return None
    counts = {k: int(v) for k, v in (row.counts or {}).items()}
    purged = Purged(
        texts=counts.get("texts_cleared", 0),
        reports=counts.get("reports_purged", 0),
        photos=counts.get("photos_deleted", 0) + counts.get("orphan_photos_deleted", 0),
        comments=counts.get("comments_deleted", 0),
        audit=counts.get("audit_deleted", 0),
        digests=counts.get("digests_deleted", 0),
    )
    return purged if purged.total else None
