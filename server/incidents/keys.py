"""Translate between the grouping's keys (seed report ids) and incident ids.

`analysis.grouping` keys every group by its seed report's id. An incident keeps the id it
was given first, and its `seed_id` column holds the current key, so a late, earlier report
becoming the seed changes one row instead of every member's link.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from server.extensions import db
from server.incidents.chunks import in_chunks
from server.incidents.models import Incident
from server.reports.models import Report


def seeds_of(window: list[Report]) -> dict[uuid.UUID, uuid.UUID]:
    """Return the seed (grouping key) of every incident the window's reports are in."""
    ids = list({r.incident_id for r in window if r.incident_id is not None})
    seeds: dict[uuid.UUID, uuid.UUID] = {}
    for chunk in in_chunks(ids):
        rows = db.session.execute(
            select(Incident.id, Incident.seed_id).where(Incident.id.in_(chunk))
        )
        seeds.update((iid, seed) for iid, seed in rows)
    return seeds


def incidents_for(
    org_id: int,
    by_id: dict[uuid.UUID, Report],
    mapping: dict[str, str],
    seeds: dict[uuid.UUID, uuid.UUID],
) -> tuple[dict[str, uuid.UUID], dict[uuid.UUID, uuid.UUID], dict[uuid.UUID, uuid.UUID]]:
    """Name the incident of every grouping key: (key -> incident, re-seeded, created).

    A key that is an incident's seed is that incident. A new key whose group took in an
    incident's seed report, when that incident's own key is gone from the grouping, is
    the same incident grown backwards in time: it keeps its id and only its seed changes,
    so a re-key costs one row, not one per member. Any other new key is a new incident,
    with the seed's id as its id when that is free.
    """
    keys = set(mapping.values())
    by_seed = {str(seed): iid for iid, seed in seeds.items()}
    unknown = [uuid.UUID(k) for k in keys - set(by_seed)]
    for chunk in in_chunks(unknown):
        for iid, seed in db.session.execute(
            select(Incident.id, Incident.seed_id).where(
                Incident.org_id == org_id, Incident.seed_id.in_(chunk)
            )
        ):
            by_seed[str(seed)] = iid
    incident_of = {k: by_seed[k] for k in keys if k in by_seed}
    # Incidents whose key vanished while their seed report joined a new key.
    adoptable: dict[str, list[tuple[Report, uuid.UUID]]] = {}
    for seed, iid in by_seed.items():
        seed_report = by_id.get(uuid.UUID(seed))
        if seed not in keys and seed_report is not None and seed_report.incident_id == iid:
            adoptable.setdefault(mapping[seed], []).append((seed_report, iid))
    reseeded: dict[uuid.UUID, uuid.UUID] = {}
    fresh: list[str] = []
    for key in keys - set(incident_of):
        if key in adoptable:
            # Tie-break order when one new key took in several incidents' seeds: the
            # incident whose seed comes first in the grouping's order (created_at, id)
            # keeps its id, as the grouping prefers the earliest anchor; the others empty.
            _, iid = min(adoptable[key], key=lambda pair: (pair[0].created_at, str(pair[0].id)))
            reseeded[iid] = uuid.UUID(key)
            incident_of[key] = iid
        else:
            fresh.append(key)
    taken = (
        set(
            db.session.scalars(
                select(Incident.id).where(Incident.id.in_([uuid.UUID(k) for k in fresh]))
            )
        )
        if fresh
        else set()
    )
    created: dict[uuid.UUID, uuid.UUID] = {}
    for key in fresh:
        seed = uuid.UUID(key)
        # An incident that was re-seeded keeps its first seed's id; that report, split
        # out later, starts a new incident that needs an id of its own.
        iid = uuid.uuid4() if seed in taken else seed
        incident_of[key] = iid
        created[iid] = seed
    return incident_of, reseeded, created
