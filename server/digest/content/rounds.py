"""Guard rounds in the digest ("Ronder"): per area, planned against completed, what was
missed or left incomplete (the missing checkpoints by name), flagged scans, not synced.

Only the organisation's own rounds; nothing at all when it has none.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, time, timedelta

from sqlalchemy import select

from server.digest.content.model import FlaggedCheckpoint, RoundArea, RoundMiss
from server.digest.models import DigestSettings
from server.extensions import db
from server.geography.models import Area
from server.rounds.models import Checkpoint, CheckpointScan
from server.rounds.service import rounds
from server.rounds.status import DEFAULT_CUTOFF, RunRow, statuses
from sync.rounds import STOCKHOLM

# Checkpoints listed with their flags per area; the counts cover them all.
FLAGGED_LIMIT = 3


def rounds_of(
    org_id: int, start: datetime, end: datetime, now: datetime
) -> tuple[RoundArea, ...] | None:
    """Return the period's rounds per area, or None when the organisation has no rounds."""
    if not rounds(org_id, active_only=True):
        return None
    first = start.astimezone(STOCKHOLM).date() - timedelta(days=1)
    last = end.astimezone(STOCKHOLM).date()
    # As at the period's end at the latest: a digest sent at its cut-off, or caught up a
    # little after it, still names the runs whose devices have not synced.
    as_of = min(now, end)
    found = statuses(org_id, first, last, as_of, _cutoff(org_id))
    rows = [r for r in found if start <= r.start < end]
    by_area: dict[int | None, list[RunRow]] = defaultdict(list)
    for r in rows:
        by_area[r.area_id].append(r)
    flagged = _flagged(org_id, start, end)
    names = dict(db.session.execute(select(Area.id, Area.name).where(Area.org_id == org_id)).all())
    out = []
    for area_id in sorted(set(by_area) | set(flagged), key=lambda a: (a is None, names.get(a, ""))):
        runs = by_area.get(area_id, [])
        counts, checkpoints = flagged.get(area_id, (Counter(), {}))
        out.append(
            RoundArea(
                area_id=area_id,
                name=names.get(area_id),
                planned=len(runs),
                completed=sum(r.status == "completed" for r in runs),
                late=sum(r.status == "late" for r in runs),
                incomplete=_misses(runs, "incomplete"),
                missed=_misses(runs, "missed"),
                not_synced=_misses(runs, "not_synced"),
                flags=tuple(counts.most_common()),
                flagged=tuple(
                    sorted(checkpoints.values(), key=lambda c: (-c.scans, c.name))[:FLAGGED_LIMIT]
                ),
            )
        )
    return tuple(out)


def _cutoff(org_id: int) -> time:
    """Return the local time of the organisation's morning digest."""
    settings = db.session.get(DigestSettings, org_id)
    try:
        return time.fromisoformat(settings.send_time) if settings else DEFAULT_CUTOFF
    except ValueError:
        return DEFAULT_CUTOFF


def _misses(rows: list[RunRow], status: str) -> tuple[RoundMiss, ...]:
    """Return the runs of one status as the digest lists them."""
    return tuple(
        RoundMiss(r.round_name, r.start, r.missing, r.reason) for r in rows if r.status == status
    )


def _flagged(
    org_id: int, start: datetime, end: datetime
) -> dict[int | None, tuple[Counter[str], dict[int, FlaggedCheckpoint]]]:
    """Count the period's flagged scans per area: by flag, and per checkpoint."""
    rows = db.session.execute(
        select(CheckpointScan.flags, Checkpoint.id, Checkpoint.name, Checkpoint.area_id)
        .join(Checkpoint, Checkpoint.id == CheckpointScan.checkpoint_id)
        .where(
            CheckpointScan.org_id == org_id,
            CheckpointScan.scanned_at >= start,
            CheckpointScan.scanned_at < end,
        )
    )
    per_area: dict[int | None, Counter[str]] = defaultdict(Counter)
    per_cp: dict[int, Counter[str]] = defaultdict(Counter)
    scans: Counter[int] = Counter()
    where: dict[int, tuple[str, int | None]] = {}
    for flags, cp_id, name, area_id in rows:
        if not flags:
            continue
        per_area[area_id].update(flags)
        per_cp[cp_id].update(flags)
        scans[cp_id] += 1
        where[cp_id] = (name, area_id)
    out: dict[int | None, tuple[Counter[str], dict[int, FlaggedCheckpoint]]] = {}
    for area_id, counts in per_area.items():
        cps = {
            cp: FlaggedCheckpoint(where[cp][0], scans[cp], tuple(per_cp[cp].most_common()))
            for cp in per_cp
            if where[cp][1] == area_id
        }
        out[area_id] = (counts, cps)
    return out
