"""Follow-up walks: which observations of earlier walks are still open, and how they were marked.

A walk W that follows P starts with P's open observations: P's own observations (not marks)
whose feeling is not "safe", plus the observations carried into P that P did not mark
"atgardat". So an observation stays open along a chain of follow-ups until one of them marks
it åtgärdat. A mark is a report of the follow-up walk with `follows` (the ORIGINAL
observation's id, kept along the whole chain) and `follow_up` ("atgardat" / "kvarstar").

`open_after` and `latest_marks` are pure; the rest reads the database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.photos.service import photos_present
from server.reports.models import Report
from server.walks.models import Walk

# A chain of follow-ups longer than this is not followed further back (and a cycle, which
# the service's "earlier date" rule prevents, could not loop forever).
MAX_CHAIN = 100
NOT_SAFE_OPEN = "safe"  # the one feeling that leaves nothing to follow up
PHONE_TEXT = 140  # the phone's list shows a short text, not the whole note


@dataclass(frozen=True)
class Seen:
    """One report of a walk as the open-observations rule sees it."""

    id: uuid.UUID
    feeling: str | None
    created_at: datetime
    follows: uuid.UUID | None = None
    follow_up: str | None = None


def latest_marks(reports: Iterable[Seen]) -> dict[uuid.UUID, str]:
    """Return each re-checked observation's mark in one walk: the latest mark wins.

    A phone that marks the same observation twice (or two phones that both mark it) leave
    several marks; the one made last on the device clock (created_at) wins, and on equal
    times the larger report id, so every reader picks the same one.
    """
    best: dict[uuid.UUID, Seen] = {}
    for r in reports:
        if r.follows is None or r.follow_up is None:
            continue
        held = best.get(r.follows)
        if held is None or (r.created_at, str(r.id)) > (held.created_at, str(held.id)):
            best[r.follows] = r
    return {follows: r.follow_up for follows, r in best.items() if r.follow_up is not None}


def open_after(chain: Sequence[Sequence[Seen]]) -> list[uuid.UUID]:
    """Return the observations still open after the chain's last walk (walks oldest first)."""
    still: list[uuid.UUID] = []
    for reports in chain:
        marks = latest_marks(reports)
        carried = [oid for oid in still if marks.get(oid) != "atgardat"]
        own = [r.id for r in reports if r.follows is None and r.feeling != NOT_SAFE_OPEN]
        known = set(carried)
        still = carried + [oid for oid in own if oid not in known]
    return still


def chain_before(walk: Walk) -> list[Walk]:
    """Return the walks the walk follows up, oldest first (empty: it follows none)."""
    chain: list[Walk] = []
    seen = {walk.id}
    follows = walk.follows_walk_id
    while follows is not None and follows not in seen and len(chain) < MAX_CHAIN:
        earlier = db.session.get(Walk, follows)
        if earlier is None or earlier.org_id != walk.org_id:
            break
        chain.append(earlier)
        seen.add(earlier.id)
        follows = earlier.follows_walk_id
    chain.reverse()
    return chain


def _seen_by_walk(org_id: int, walk_ids: Sequence[int]) -> dict[int, list[Seen]]:
    """Read the reports of the walks as Seen, by walk."""
    out: dict[int, list[Seen]] = {wid: [] for wid in walk_ids}
    if not walk_ids:
        return out
    rows = db.session.execute(
        select(
            Report.walk_id,
            Report.id,
            Report.feeling,
            Report.created_at,
            Report.follows,
            Report.follow_up,
        ).where(Report.org_id == org_id, Report.walk_id.in_(walk_ids))
    )
    for r in rows:
        out[r.walk_id].append(Seen(r.id, r.feeling, r.created_at, r.follows, r.follow_up))
    return out


def open_ids(walk: Walk) -> list[uuid.UUID]:
    """Return the ids of the observations the walk starts with (none unless it follows one)."""
    chain = chain_before(walk)
    if not chain:
        return []
    seen = _seen_by_walk(walk.org_id, [w.id for w in chain])
    return open_after([seen[w.id] for w in chain])


def open_reports(walk: Walk) -> list[Report]:
    """Return the observations the walk starts with, in stop order, then by time."""
    ids = open_ids(walk)
    if not ids:
        return []
    rows = db.session.scalars(
        select(Report).where(Report.org_id == walk.org_id, Report.id.in_(ids))
    )
    return sorted(
        rows,
        key=lambda r: (r.walk_stop is None, r.walk_stop or 0, r.created_at, str(r.id)),
    )


def marks_of(walk: Walk) -> dict[uuid.UUID, str]:
    """Return the walk's latest mark of each re-checked observation."""
    return latest_marks(_seen_by_walk(walk.org_id, [walk.id])[walk.id])


# Six or more digits, allowing the separators of phone and personal identity numbers: every
# phone of the organisation pulls a follow-up walk's list, so numbers that may point at a
# person (070-123 45 67, 19991231-1234) are masked there.
_NUMBER = re.compile(r"\+?[0-9](?:[ \-]?[0-9]){5,}")


def short_text(text: str | None) -> str:
    """Return the text, numbers masked, cut to PHONE_TEXT characters (an ellipsis if cut)."""
    text = _NUMBER.sub("•••", (text or "").strip())
    return text if len(text) <= PHONE_TEXT else text[: PHONE_TEXT - 1].rstrip() + "…"


def open_for_phone(walk: Walk) -> list[dict[str, Any]]:
    """Return the walk's open observations as the pull lists them (no device, no names)."""
    rows = open_reports(walk)
    have = photos_present(walk.org_id, {p for r in rows for p in r.photos or []})
    return [
        {
            "id": str(r.id),
            "category": r.category_code,
            "stop": r.walk_stop,
            "feeling": r.feeling,
            "text": short_text(r.description),
            "lat": r.lat,
            "lon": r.lon,
            # The first photo the server holds: the phone shows its thumbnail if it has it.
            "photo": next((p for p in r.photos or [] if p in have), None),
        }
        for r in rows
    ]
