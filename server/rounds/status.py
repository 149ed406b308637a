"""The status of every planned run of an organisation's rounds over a span of nights."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from server.devices.models import Device
from server.extensions import db
from server.rounds.models import Checkpoint, CheckpointScan, Round, RoundRun
from server.rounds.service import checkpoints, round_stops, rounds, schedule_of
from sync.rounds import (
    EARLY_START,
    STOCKHOLM,
    PlannedRun,
    RunFacts,
    match_run,
    run_status,
    runs_between,
)

# A device that ran a round in these days before a night is one of its walkers.
WALKER_DAYS = 28
DEFAULT_CUTOFF = time(6, 0)


@dataclass(frozen=True)
class RunRow:
    """One planned run and what became of it."""

    round_id: int
    round_name: str
    area_id: int | None
    night: date
    index: int
    start: datetime
    end: datetime
    status: str
    missing: tuple[str, ...]  # the required checkpoints not scanned, by name
    reason: str | None
    run_id: uuid.UUID | None


def cutoff_after(moment: datetime, at: time) -> datetime:
    """Return the first morning digest (local `at`) after a moment: the run's cut-off."""
    local = moment.astimezone(STOCKHOLM)
    day = local.date()
    candidate = datetime.combine(day, at, tzinfo=STOCKHOLM)
    if candidate <= local:
        candidate = datetime.combine(day + timedelta(days=1), at, tzinfo=STOCKHOLM)
    return candidate


def round_area(stops_cps: list[Checkpoint]) -> int | None:
    """Return a round's area: that of its first checkpoint with one (None: no area)."""
    return next((cp.area_id for cp in stops_cps if cp.area_id is not None), None)


def statuses(
    org_id: int, first: date, last: date, now: datetime, cutoff: time = DEFAULT_CUTOFF
) -> list[RunRow]:
    """Return the planned runs of the nights first..last with their status, in time order.

    `cutoff` is the local time of the morning digest: until the first one after a run's
    deadline, a run whose device has not synced is `not_synced` rather than missed.
    """
    all_rounds = rounds(org_id)
    if not all_rounds:
        return []
    by_id = {cp.id: cp for cp in checkpoints(org_id)}
    stops = round_stops([r.id for r in all_rounds])
    # An inactive checkpoint is not asked for any more; a round without an active
    # checkpoint, like an inactive round, only shows the runs that were walked.
    live = {r.id: [st for st in stops[r.id] if by_id[st.checkpoint_id].active] for r in all_rounds}
    scheduled = {r.id for r in all_rounds if r.active and live[r.id]}
    planned = {r.id: runs_between(schedule_of(r), first, last) for r in all_rounds}
    starts = [p.start for ps in planned.values() for p in ps]
    if not starts:
        return []
    lo = min(starts) - EARLY_START
    hi = max(p.deadline for ps in planned.values() for p in ps)
    runs = list(
        db.session.scalars(
            select(RoundRun).where(
                RoundRun.org_id == org_id,
                RoundRun.round_id.in_(list(planned)),
                RoundRun.started_at >= lo,
                RoundRun.started_at < hi,
            )
        )
    )
    scans: dict[uuid.UUID, list[tuple[int, datetime]]] = defaultdict(list)
    if runs:
        for s in db.session.scalars(
            select(CheckpointScan).where(CheckpointScan.round_run_id.in_([r.id for r in runs]))
        ):
            scans[s.round_run_id].append((s.checkpoint_id, s.scanned_at))
    seen = _last_seen(org_id)
    walkers = _walkers(org_id, lo - timedelta(days=WALKER_DAYS), hi)
    out: list[RunRow] = []
    for rnd in all_rounds:
        required = [st.checkpoint_id for st in live[rnd.id] if st.required]
        area = round_area([by_id[st.checkpoint_id] for st in stops[rnd.id]])
        assigned = _assign(planned[rnd.id], [r for r in runs if r.round_id == rnd.id])
        for p in planned[rnd.id]:
            run = assigned.get((p.night, p.index))
            # A round is planned from its creation (or its last activation) on, while it
            # is active: no run is missed before or while it is not.
            if run is None and (rnd.id not in scheduled or p.end <= rnd.created_at):
                continue
            facts = None
            if run is not None:
                facts = RunFacts(
                    run.started_at,
                    run.ended_at,
                    run.end_reason,
                    tuple(scans.get(run.id, ())),
                    seen.get(run.device_id),
                )
            walker_seen = [seen.get(d) for d in walkers.get(rnd.id, ())]
            got = run_status(p, required, facts, walker_seen, now, cutoff_after(p.deadline, cutoff))
            out.append(_row(rnd, area, p, got.status, got.missing, by_id, run))
    return sorted(out, key=lambda r: (r.start, r.round_name, r.index))


def _assign(planned: list[PlannedRun], runs: list[RoundRun]) -> dict[tuple[date, int], RoundRun]:
    """Give each planned run the earliest run that belongs to it."""
    out: dict[tuple[date, int], RoundRun] = {}
    for run in sorted(runs, key=lambda r: r.started_at):
        p = match_run(planned, run.started_at)
        if p is not None:
            out.setdefault((p.night, p.index), run)
    return out


def _row(
    rnd: Round,
    area: int | None,
    p: PlannedRun,
    status: str,
    missing: tuple[int, ...],
    by_id: dict[int, Checkpoint],
    run: RoundRun | None,
) -> RunRow:
    """Build a status row with the missing checkpoints named."""
    return RunRow(
        round_id=rnd.id,
        round_name=rnd.name,
        area_id=area,
        night=p.night,
        index=p.index,
        start=p.start,
        end=p.end,
        status=status,
        missing=tuple(by_id[cp].name for cp in missing if cp in by_id),
        reason=run.end_reason if run is not None else None,
        run_id=run.id if run is not None else None,
    )


def _last_seen(org_id: int) -> dict[int, datetime | None]:
    """Return each device's last contact with the server."""
    rows = db.session.execute(select(Device.id, Device.last_seen_at).where(Device.org_id == org_id))
    return {d: seen for d, seen in rows}


def _walkers(org_id: int, since: datetime, until: datetime) -> dict[int, set[int]]:
    """Return, per round, the devices that ran it between the two moments."""
    rows = db.session.execute(
        select(RoundRun.round_id, RoundRun.device_id)
        .where(RoundRun.org_id == org_id, RoundRun.started_at >= since, RoundRun.started_at < until)
        .distinct()
    )
    out: dict[int, set[int]] = defaultdict(set)
    for round_id, device_id in rows:
        out[round_id].add(device_id)
    return out
