"""Write a planned grouping pass: areas and places, new incidents, re-keys, links, summaries.

`server.incidents.grouping.plan_pending` works a pass out from reads alone; `apply_plan`
writes it. On SQLite the two run in separate transactions (`server.incidents.queue`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from server.categories import CALM
from server.extensions import db
from server.geography import locate
from server.incidents.models import Incident, IncidentEvent
from server.incidents.summary import absorb, refresh_incidents, refresh_loaded, take_seed
from server.reports.models import Report
from sync.clock import utcnow

_REPORTS = Report.__table__


@dataclass
class GroupingResult:
    """What one grouping pass changed."""

    grouped: int = 0
    moved: int = 0
    created: int = 0
    removed: int = 0
    reseeded: int = 0  # incidents kept under a new, earlier seed

    def add(self, other: GroupingResult) -> None:
        """Count another pass's changes in this one."""
        for name in ("grouped", "moved", "created", "removed", "reseeded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Plan:
    """What a pass will write, worked out from reads alone (`plan_pending`)."""

    located: list[dict[str, object]]
    window: list[Report]
    by_id: dict[uuid.UUID, Report]
    mapping: dict[str, str]
    twins: dict[uuid.UUID, uuid.UUID]
    reseeded: dict[uuid.UUID, uuid.UUID]
    created: dict[uuid.UUID, uuid.UUID]
    moves: dict[uuid.UUID, uuid.UUID]
    gained: dict[uuid.UUID, list[Report]]
    lost: set[uuid.UUID]
    result: GroupingResult


def apply_plan(org_id: int, plan: Plan) -> GroupingResult:
    """Write a planned pass: areas and places, new incidents, re-keys, links, summaries."""
    result, by_id, gained, created = plan.result, plan.by_id, plan.gained, plan.created
    reseeded, moves, lost = plan.reseeded, plan.moves, plan.lost
    locate.write_areas_and_places(plan.located)
    now = utcnow()
    for iid in sorted(created):
        first = by_id.get(created[iid]) or gained[iid][0]
        db.session.add(
            Incident(
                id=iid,
                seed_id=created[iid],
                org_id=org_id,
                category_code=first.category_code,
                first_at=first.created_at,
                last_at=first.created_at,
                created_at=now,
                updated_at=now,
            )
        )
        db.session.add(IncidentEvent(incident_id=iid, at=now, kind="created", data={}))
        result.created += 1
    if reseeded:
        # A re-key is one column: the members keep their link, the summary is redone below.
        db.session.connection().execute(
            update(Incident.__table__)
            .where(Incident.__table__.c.id == bindparam("iid"))
            .values(seed_id=bindparam("seed")),
            [{"iid": iid, "seed": seed} for iid, seed in reseeded.items()],
        )
        result.reseeded = len(reseeded)
    db.session.flush()  # the new incidents first: the moves refer to them
    if moves:
        # One executemany on the connection: the unit of work would cost more than the
        # rest of a pass per member. The loaded rows are kept in step by hand, so the
        # summaries below see the new links.
        db.session.connection().execute(
            update(_REPORTS)
            .where(_REPORTS.c.id == bindparam("rid"))
            .values(incident_id=bindparam("key")),
            [{"rid": rid, "key": key} for rid, key in moves.items()],
        )
        for rid, key in moves.items():
            set_committed_value(by_id[rid], "incident_id", key)
    # Incidents that only gained reports are updated from the newcomers alone, so a long
    # incident does not cost its whole membership on every push.
    # A twin's re-key (server.incidents.twins) is a growth too: the members are the same,
    # only the name may now come from the new seed.
    renamed = {
        iid: _head(by_id, plan.mapping, seed, gained[iid]) for iid, seed in plan.twins.items()
    }
    growing = {
        k: v
        for k, v in gained.items()
        if k not in lost and k not in created and (k not in reseeded or k in renamed)
    }
    absorb(org_id, growing)
    take_seed(renamed)
    whole = _loaded_whole(plan.window, set(reseeded) - lost - set(renamed))
    refresh_loaded(org_id, whole)
    result.removed = refresh_incidents(
        org_id, lost | set(created) | (set(reseeded) - set(whole) - set(renamed))
    )
    return result


def _head(
    by_id: dict[uuid.UUID, Report], mapping: dict[str, str], old: uuid.UUID, gained: list[Report]
) -> list[Report]:
    """Return a renamed incident's first reports in title order: the new seed, then the
    real newcomers of its second whose ids lie before the old seed's."""
    seed = by_id[uuid.UUID(mapping[str(old)])]
    between = [
        r
        for r in gained
        if r is not seed
        and r.created_at == seed.created_at
        and str(r.id) < str(old)
        and r.category_code != CALM
    ]
    return [seed, *sorted(between, key=lambda r: str(r.id))]


def _loaded_whole(window: list[Report], ids: set[uuid.UUID]) -> dict[uuid.UUID, list[Report]]:
    """Return the loaded members of those incidents whose every member the window holds.

    A re-seeded incident's old seed, its earliest member, is in the window, so usually all
    its members are; then its summary is redone from them without loading them again.
    """
    if not ids:
        return {}
    loaded: dict[uuid.UUID, list[Report]] = {i: [] for i in ids}
    for r in window:
        if r.incident_id in loaded:
            loaded[r.incident_id].append(r)
    stored = dict(
        db.session.execute(
            select(Report.incident_id, func.count())
            .where(Report.incident_id.in_(list(ids)))
            .group_by(Report.incident_id)
        ).all()
    )
    return {i: rows for i, rows in loaded.items() if len(rows) == stored.get(i)}
