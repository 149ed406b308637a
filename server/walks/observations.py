"""A pushed report's walk fields: checked against the walks it names, before it is stored.

A walk observation is a report (same outbox, photos, sync) that names its walk, optionally
a stop, and how the place felt. The walk fields are set when the report is created; an
action can later point at the observation by its report id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from server.extensions import db
from server.reports.models import Report
from server.walks.followup import open_ids
from server.walks.models import Walk

# An observation belongs to a walk on its own day, give or take one (a walk after dark
# crosses midnight; the phone's date may sit on either side).
DAY_SLACK = 1


@dataclass(frozen=True)
class WalkTag:
    """The walk fields of one pushed report and the device's calendar day it was made on."""

    walk_id: int
    stop: int | None
    made_on: date
    # A follow-up mark: the observation it re-checks, and the pushed report's own id.
    follows: uuid.UUID | None = None
    report_id: uuid.UUID | None = None


def refusals(org_id: int, tags: Sequence[WalkTag | None]) -> list[dict[str, list[str]] | None]:
    """Return, per tag, the field errors that refuse it (None: fine or no walk at all)."""
    ids = {t.walk_id for t in tags if t is not None}
    walks: dict[int, tuple[int, date, int]] = {}
    if ids:
        rows = db.session.execute(
            select(Walk.id, Walk.org_id, Walk.walk_date, Walk.stops).where(Walk.id.in_(ids))
        )
        walks = {r.id: (r.org_id, r.walk_date, len(r.stops or [])) for r in rows}
    out = [None if t is None else _refusal(org_id, t, walks.get(t.walk_id)) for t in tags]
    marks = [i for i, t in enumerate(tags) if t is not None and t.follows and out[i] is None]
    if marks:
        for i, err in zip(marks, mark_refusals([tags[i] for i in marks]), strict=True):
            out[i] = err
    return out


def mark_refusals(tags: Sequence[WalkTag]) -> list[dict[str, list[str]] | None]:
    """Return, per follow-up mark on a walk of the organisation, why it is refused or None.

    A mark re-checks an open observation of its walk's predecessor (server.walks.followup).
    A resend of a stored report is not checked again: its walk fields were fixed when it was
    stored, and a late mark on the earlier walk must not turn a stored mark into a rejection.
    """
    ids = [t.report_id for t in tags if t.report_id is not None]
    stored = set(db.session.scalars(select(Report.id).where(Report.id.in_(ids)))) if ids else set()
    opened: dict[int, set[uuid.UUID] | None] = {}
    out: list[dict[str, list[str]] | None] = []
    for tag in tags:
        if tag.report_id in stored:
            out.append(None)
            continue
        if tag.walk_id not in opened:
            walk = db.session.get(Walk, tag.walk_id)
            follows = walk.follows_walk_id if walk is not None else None
            opened[tag.walk_id] = None if follows is None else set(open_ids(walk))
        still = opened[tag.walk_id]
        if still is None:
            out.append(
                {"follows": [f"Walk {tag.walk_id} follows up no earlier walk: nothing to mark."]}
            )
        elif tag.follows not in still:
            out.append(
                {
                    "follows": [
                        f"{tag.follows} is not an open observation of the walk that walk "
                        f"{tag.walk_id} follows up (already åtgärdat, safe, or unknown)."
                    ]
                }
            )
        else:
            out.append(None)
    return out


def _refusal(
    org_id: int, tag: WalkTag, walk: tuple[int, date, int] | None
) -> dict[str, list[str]] | None:
    """Return the errors of one tag against its walk (org, day, stops)."""
    if walk is None or walk[0] != org_id:
        # Another organisation's walk is reported as unknown: its existence is not ours.
        return {"walk_id": [f"There is no walk {tag.walk_id} in your organisation."]}
    _, walk_date, stop_count = walk
    if abs((tag.made_on - walk_date).days) > DAY_SLACK:
        return {
            "walk_id": [
                f"Walk {tag.walk_id} is planned for {walk_date.isoformat()}, not the day of "
                f"this report ({tag.made_on.isoformat()})."
            ]
        }
    if tag.stop is not None and tag.stop > stop_count:
        return {"walk_stop": [f"Walk {tag.walk_id} has {stop_count} stops, not {tag.stop}."]}
    return None
