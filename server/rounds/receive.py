"""Store a push's scans and round runs: exactly once by client id, flagged, never refused for
what a flag can say; answered item by item in the request's order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from analysis.distance import haversine_m
from server.db import phase
from server.extensions import db
from server.orgs.counter import lock_counter
from server.rounds.consistency import against_stored, refuse_scans_of_refused_runs
from server.rounds.models import Checkpoint, CheckpointScan, Round, RoundRun
from server.rounds.service import active_stops, schedule_of
from server.rounds.wire import (
    UNKNOWN_CHECKPOINT,
    Refused,
    RunIn,
    ScanIn,
    check_skew,
    parse_run,
    parse_scan,
    rejected,
)
from sync.clock import utcnow
from sync.rounds import RAPID_REPEAT, STOCKHOLM, ScanFacts, match_run, planned_runs, scan_flags

FOREIGN_ID = "This id is already used by another device; the app must make a new id."
REASON_REQUIRED = "Required checkpoints are not scanned: say why the round ends before they are."


@dataclass
class _Batch:
    """What one push's rounds part reads and writes, keyed for the checks."""

    org_id: int
    device_id: int
    skew: timedelta
    runs: dict[uuid.UUID, RoundRun] = field(default_factory=dict)
    rounds: dict[int, Round] = field(default_factory=dict)
    # Scans of the involved runs and checkpoints, stored or made by this push.
    scans: list[CheckpointScan] = field(default_factory=list)


def receive(device: Any, body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Store the body's scans and round runs and return their results (empty when absent)."""
    raw_scans = body.get("scans") or []
    raw_runs = body.get("round_runs") or []
    answer: dict[str, list[dict[str, Any]]] = {}
    if not raw_scans and not raw_runs:
        # Empty lists get empty answers; a body without either key gets neither.
        answer.update({f"{k[:-1]}_results": [] for k in ("scans", "round_runs") if k in body})
        return answer
    skew = timedelta(milliseconds=check_skew(body.get("clock_skew_ms")))
    now = utcnow()
    latest = now + timedelta(hours=int(current_app.config["FUTURE_SKEW_HOURS"]))
    scans = [parse_scan(raw, latest, skew) for raw in raw_scans]
    runs = [parse_run(raw, latest, skew) for raw in raw_runs]
    batch = _Batch(device.org_id, device.id, skew)
    with phase("write"):
        # The organisation's writers queue here, so two pushes of one id never race.
        lock_counter(device.org_id)
        scan_answers = _resolve_and_store(batch, scans, runs, now)
    if "scans" in body:
        answer["scan_results"] = scan_answers
    if "round_runs" in body:
        answer["round_run_results"] = [_run_result(r) for r in runs]
    return answer


def _resolve_and_store(
    batch: _Batch, scans: list[ScanIn], runs: list[RunIn], now: datetime
) -> list[dict[str, Any]]:
    """Resolve checkpoints, write runs, then scans with their flags; return scan results."""
    checkpoints = _checkpoints(batch.org_id, scans)
    stored_scans = _stored_scans([s.id for s in scans if s.error is None])
    run_ids = {r.id for r in runs if r.error is None} | {
        s.round_run for s in scans if s.error is None and s.round_run is not None
    }
    batch.runs = _stored_runs(run_ids)
    # Checkpoints each run has: stored scans plus this push's new ones (for the end check).
    batch.scans = _context_scans(batch, run_ids, checkpoints.values(), now)
    new_by_run: dict[uuid.UUID, set[int]] = {}
    for s in scans:
        cp = _checkpoint_of(s, checkpoints, batch.org_id)
        if cp is not None and s.round_run is not None and s.id not in stored_scans:
            new_by_run.setdefault(s.round_run, set()).add(cp.id)
    for r in runs:
        if r.error is None:
            _apply_run(batch, r, new_by_run, now)
    refuse_scans_of_refused_runs(batch.runs, batch.device_id, scans, runs)
    _reflag_early_scans(batch, runs)
    return [_store_scan(batch, s, checkpoints, stored_scans, now) for s in scans]


def _reflag_early_scans(batch: _Batch, runs: list[RunIn]) -> None:
    """Flag again the stored scans of runs created now: they came before their run did."""
    created = {r.id for r in runs if r.error is None and r.outcome == "created"}
    if not created:
        return
    cps = {
        cp.id: cp
        for cp in db.session.scalars(
            select(Checkpoint).where(
                Checkpoint.id.in_(
                    {s.checkpoint_id for s in batch.scans if s.round_run_id in created}
                )
            )
        )
    }
    for row in batch.scans:
        if row.round_run_id in created and row.checkpoint_id in cps:
            run = batch.runs[row.round_run_id]
            row.flags = scan_flags(_facts(batch, row, cps[row.checkpoint_id], run))


def _checkpoints(org_id: int, scans: list[ScanIn]) -> dict[str, Checkpoint]:
    """Load the checkpoints the scans name: by token (any org) and by the org's short codes."""
    tokens = {s.token for s in scans if s.error is None and s.token}
    codes = {s.short_code for s in scans if s.error is None and s.short_code}
    if not tokens and not codes:
        return {}
    rows = db.session.scalars(
        select(Checkpoint).where(
            or_(
                Checkpoint.token.in_(tokens),
                (Checkpoint.org_id == org_id) & Checkpoint.short_code.in_(codes),
            )
        )
    )
    found: dict[str, Checkpoint] = {}
    for cp in rows:
        if cp.token in tokens:
            found[f"t:{cp.token}"] = cp
        if cp.org_id == org_id and cp.short_code in codes:
            found[f"c:{cp.short_code}"] = cp
    return found


def _checkpoint_of(s: ScanIn, found: dict[str, Checkpoint], org_id: int) -> Checkpoint | None:
    """Return the scan's checkpoint, or set its error and return None."""
    if s.error is not None:
        return None
    cp = found.get(f"t:{s.token}" if s.token else f"c:{s.short_code}")
    if cp is None:
        s.error = Refused("unknown_checkpoint", UNKNOWN_CHECKPOINT)
    elif cp.org_id != org_id:
        s.error = Refused(
            "foreign_checkpoint",
            "This checkpoint belongs to another organisation; it is not on your rounds.",
        )
        return None
    return cp


def _stored_scans(ids: list[uuid.UUID | None]) -> dict[uuid.UUID, CheckpointScan]:
    """Load the scans already stored under the pushed ids."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = db.session.scalars(select(CheckpointScan).where(CheckpointScan.id.in_(wanted)))
    return {r.id: r for r in rows}


def _stored_runs(ids: set[uuid.UUID | None]) -> dict[uuid.UUID, RoundRun]:
    """Load the round runs already stored under the ids."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {r.id: r for r in db.session.scalars(select(RoundRun).where(RoundRun.id.in_(wanted)))}


def _context_scans(
    batch: _Batch, run_ids: set[uuid.UUID | None], checkpoints: Any, now: datetime
) -> list[CheckpointScan]:
    """Load the stored scans the flags compare with: the runs' and the device's recent ones."""
    cp_ids = {cp.id for cp in checkpoints}
    clauses = []
    runs = [i for i in run_ids if i is not None]
    if runs:
        clauses.append(CheckpointScan.round_run_id.in_(runs))
    if cp_ids:
        clauses.append(
            (CheckpointScan.device_id == batch.device_id)
            & CheckpointScan.checkpoint_id.in_(cp_ids)
            # A push holds at most a few days of scans; older ones cannot be a repeat.
            & (CheckpointScan.scanned_at > now - timedelta(days=30))
        )
    if not clauses:
        return []
    return list(db.session.scalars(select(CheckpointScan).where(or_(*clauses))))


def _round(batch: _Batch, round_id: int) -> Round | None:
    """Return the organisation's round (cached for the push), or None."""
    if round_id not in batch.rounds:
        found = db.session.get(Round, round_id)
        if found is None or found.org_id != batch.org_id:
            return None
        batch.rounds[round_id] = found
    return batch.rounds[round_id]


def _apply_run(
    batch: _Batch, r: RunIn, new_by_run: dict[uuid.UUID, set[int]], now: datetime
) -> None:
    """Create the run or record its end, or set the item's error; sets r.outcome."""
    stored = batch.runs.get(r.id)
    if stored is not None and (stored.device_id != batch.device_id):
        r.error = Refused("foreign_id", FOREIGN_ID)
        return
    if stored is not None and (contradiction := against_stored(stored, r)) is not None:
        r.error = contradiction
        return
    if stored is None:
        if r.round_id is None or r.started_at is None:
            r.error = Refused("invalid", "A new round run needs round_id and started_at.")
            return
        if _round(batch, r.round_id) is None:
            r.error = Refused("unknown_round", "This round does not exist (any more); sync again.")
            return
    round_id = stored.round_id if stored is not None else r.round_id
    ended = r.ended_at if r.ended_at is not None else (stored.ended_at_device if stored else None)
    reason = r.end_reason or (stored.end_reason if stored else None)
    if ended is not None and not reason:
        have = {s.checkpoint_id for s in batch.scans if s.round_run_id == r.id}
        have |= new_by_run.get(r.id, set())
        stops = active_stops(round_id)
        if any(st.required and st.checkpoint_id not in have for st in stops):
            r.error = Refused("reason_required", REASON_REQUIRED)
            return
    if stored is None:
        run = RoundRun(
            id=r.id,
            org_id=batch.org_id,
            device_id=batch.device_id,
            round_id=r.round_id,
            started_at_device=r.started_at,
            started_at=r.started_at + batch.skew,
            ended_at_device=r.ended_at,
            ended_at=r.ended_at + batch.skew if r.ended_at else None,
            end_reason=r.end_reason,
            clock_skew_ms=_ms(batch.skew),
            received_at=now,
            updated_at=now,
        )
        db.session.add(run)
        batch.runs[r.id] = run
        r.outcome = "created"
        return
    changed = False
    if r.ended_at is not None and stored.ended_at_device != r.ended_at:
        stored.ended_at_device, stored.ended_at = r.ended_at, r.ended_at + batch.skew
        changed = True
    if r.end_reason is not None and stored.end_reason != r.end_reason:
        stored.end_reason = r.end_reason
        changed = True
    if changed:
        stored.updated_at = now
    r.outcome = "updated" if changed else "duplicate"


def _ms(delta: timedelta) -> int:
    """Return a timedelta in whole milliseconds."""
    return int(delta / timedelta(milliseconds=1))


def _store_scan(
    batch: _Batch,
    s: ScanIn,
    checkpoints: dict[str, Checkpoint],
    stored: dict[uuid.UUID, CheckpointScan],
    now: datetime,
) -> dict[str, Any]:
    """Insert one scan with its flags (or answer duplicate or rejected)."""
    cp = _checkpoint_of(s, checkpoints, batch.org_id) if s.error is None else None
    if s.error is not None:
        return rejected(s.raw_id, s.error, flags=[])
    existing = stored.get(s.id)
    if existing is not None:
        if existing.device_id != batch.device_id:
            return rejected(s.raw_id, Refused("foreign_id", FOREIGN_ID), flags=[])
        return _scan_result(s.raw_id, "duplicate", existing, cp)
    run = batch.runs.get(s.round_run) if s.round_run else None
    if run is not None and run.org_id != batch.org_id:
        return rejected(
            s.raw_id, Refused("unknown_round_run", "This round run is not yours."), flags=[]
        )
    at = s.scanned_at + batch.skew
    row = CheckpointScan(
        id=s.id,
        org_id=batch.org_id,
        device_id=batch.device_id,
        checkpoint_id=cp.id,
        round_run_id=s.round_run,
        scanned_at_device=s.scanned_at,
        scanned_at=at,
        clock_skew_ms=_ms(batch.skew),
        method=s.method,
        typed=s.short_code is not None,
        lat=s.lat,
        lon=s.lon,
        accuracy_m=s.accuracy,
        received_at=now,
    )
    row.flags = scan_flags(_facts(batch, row, cp, run))
    db.session.add(row)
    batch.scans.append(row)
    stored[s.id] = row  # the same id again in this push is a duplicate
    return _scan_result(s.raw_id, "created", row, cp)


def _facts(batch: _Batch, row: CheckpointScan, cp: Checkpoint, run: RoundRun | None) -> ScanFacts:
    """Gather what the scan's flags depend on."""
    distance = None
    if row.lat is not None and row.lon is not None:
        distance = haversine_m(row.lat, row.lon, cp.lat, cp.lon)
    earlier = tuple(
        s.scanned_at
        for s in batch.scans
        if s.checkpoint_id == cp.id
        and (s.device_id == batch.device_id or (run is not None and s.round_run_id == run.id))
        and s is not row
        and abs(s.scanned_at - row.scanned_at) < RAPID_REPEAT
    )
    facts: dict[str, Any] = {}
    round_ = _round(batch, run.round_id) if run is not None else None
    if run is not None and round_ is not None:
        schedule = schedule_of(round_)
        night = run.started_at.astimezone(STOCKHOLM).date()
        planned = planned_runs(schedule, night - timedelta(days=1)) + planned_runs(schedule, night)
        stops = active_stops(round_.id)
        before = frozenset(
            s.checkpoint_id
            for s in batch.scans
            if s.round_run_id == run.id and s.scanned_at <= row.scanned_at and s is not row
        )
        facts = {
            "planned": match_run(planned, run.started_at),
            "order": tuple(st.checkpoint_id for st in stops) if round_.ordered else (),
            "required": frozenset(st.checkpoint_id for st in stops if st.required),
            "scanned_before": before,
        }
    return ScanFacts(
        checkpoint_id=cp.id,
        at=row.scanned_at,
        distance_m=distance,
        radius_m=cp.radius_m,
        accuracy_m=row.accuracy_m or 0.0,
        typed=row.typed,
        earlier_same=earlier,
        **facts,
    )


def _scan_result(
    raw_id: Any, status: str, row: CheckpointScan, cp: Checkpoint | None
) -> dict[str, Any]:
    """Render a created or duplicate scan's result."""
    body: dict[str, Any] = {"id": raw_id, "status": status, "flags": list(row.flags or [])}
    if cp is not None:
        body["checkpoint"] = {"id": cp.id, "name": cp.name}
    return body


def _run_result(r: RunIn) -> dict[str, Any]:
    """Render one round run's result."""
    if r.error is not None:
        return rejected(r.raw_id, r.error)
    return {"id": r.raw_id, "status": r.outcome}
