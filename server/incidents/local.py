"""Load what a regrouping pass needs: the reports it can affect, not the whole window.

The full regroup loaded every report created since the earliest pending one as rows and
regrouped them all; with phones syncing a shift hours late that is most of the night, on
every pass. Here the window is read as light rows (a few columns, no ORM objects),
`analysis.local_grouping.affected` picks the reports the pass can change and those that
must come along to keep their incidents' anchors, and only those are loaded as rows. The
grouping of that set gives every report the key the full regroup would give it (the
argument is in `analysis.local_grouping`); every other report keeps its incident.
"""

from __future__ import annotations

import uuid
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import String, cast, select

from analysis.grouping import ReportPoint
from analysis.grouping_rules import Rules
from analysis.local_grouping import StoredReport, affected
from server.extensions import db
from server.incidents.anchors import anchor_ids, with_anchors
from server.incidents.chunks import in_chunks
from server.incidents.models import Incident
from server.incidents.summary import UNUSED_BY_GROUPING
from server.reports.models import Report


def load_affected(
    org_id: int,
    since: datetime,
    categories: set[str],
    rules: Rules,
    extra_keys: AbstractSet[uuid.UUID] = frozenset(),
    pending: AbstractSet[uuid.UUID] = frozenset(),
) -> tuple[list[Report], frozenset[uuid.UUID]]:
    """Return the rows to group (the affected reports and what they need) and C.

    The window is the full regroup's: reports of these categories created at or after
    `since`, and the anchors before it. A row is pinned there, as in the full regroup,
    when a coordinator placed it or it is older than `since`. Only C and the reports that
    keep its incidents' anchors (`keep`) are loaded as rows. Of the waiting reports only
    `pending`, the pass's own, take part: a push may add others while the pass runs (it
    does not take the grouping lock), and those wait for the next pass.
    """
    waiting = {u.hex for u in pending}
    window = [
        row
        for row in _light(
            Report.org_id == org_id,
            Report.created_at >= since,
            Report.category_code.in_(categories),
        )
        if row.incident_id is not None or row.id in waiting
    ]
    ids = anchor_ids(org_id, since, since, categories, rules, window)
    before: list[_Light] = []
    for chunk in in_chunks(ids):
        before += _light(Report.id.in_(chunk))
    unique = {r.id: r for r in [*window, *before]}
    stored = [_stored(r, since) for r in unique.values()]
    found = affected(stored, rules, {k.hex for k in extra_keys})
    wanted = [uuid.UUID(rid) for rid in found.regroup | found.keep]
    rows: list[Report] = []
    for chunk in in_chunks(wanted):
        rows += db.session.scalars(
            select(Report).where(Report.id.in_(chunk)).options(*UNUSED_BY_GROUPING)
        )
    return with_anchors(rows, []), frozenset(uuid.UUID(rid) for rid in found.regroup)


class _Light(NamedTuple):
    """One report as the local grouping reads it."""

    id: str
    created_at: datetime
    category_code: str
    lat: float | None
    lon: float | None
    place: str | None
    incident_id: uuid.UUID | None
    incident_pinned: bool
    seed_id: str | None


def _light(*where: Any) -> list[_Light]:
    """Read reports as the few columns grouping needs, with their incident's key.

    The report's and the key's ids come as 32 hex digits (`UUID.hex`), not as UUID
    objects: a night's window is thousands of rows, and building a UUID per id was a
    tenth of a pass. Hex strings sort as the ids do, which the grouping's order needs.
    """
    return [
        _Light(_hex(r[0]), *r[1:8], r[8] and _hex(r[8]))
        for r in db.session.execute(
            select(
                cast(Report.id, String).label("id"),
                Report.created_at,
                Report.category_code,
                Report.lat,
                Report.lon,
                Report.place,
                Report.incident_id,
                Report.incident_pinned,
                cast(Incident.seed_id, String).label("seed_id"),
            )
            .outerjoin(Incident, Incident.id == Report.incident_id)
            .where(*where)
        )
    ]


def _hex(text: str) -> str:
    """Return an id read as text in the form `UUID.hex` gives (PostgreSQL adds dashes)."""
    return text.replace("-", "").lower()


def _stored(row: _Light, since: datetime) -> StoredReport:
    """Describe a light row with its stored key to the local grouping."""
    key = None if row.incident_id is None or row.seed_id is None else str(row.seed_id)
    return StoredReport(
        point=ReportPoint(
            id=str(row.id),
            created_at=row.created_at,
            category=row.category_code,
            lat=row.lat,
            lon=row.lon,
            place=row.place or "",
        ),
        key=key,
        pinned=key is not None and (row.incident_pinned or row.created_at < since),
    )
