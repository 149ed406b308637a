"""The demo guard company's rounds: checkpoints in Staffanstorp and Hjärup, two rounds and
a few nights of scans through the real push path (a completed night, an incomplete round
with its reason, a missed one, a late scan, a typed code and a scan too far away)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from server.devices.models import Device
from server.extensions import db
from server.geography.models import Area
from server.rounds import service as rounds
from server.rounds.models import Checkpoint
from server.rounds.receive import receive
from sync.rounds import STOCKHOLM

NIGHTS = 4
# (name, area code, lat, lon, instructions)
CHECKPOINTS = (
    ("Rådhuset, entrén", "staffanstorp", 55.6421, 13.2063, "Känn på dörren; lås om den är öppen."),
    ("Torget, parkeringen", "staffanstorp", 55.6418, 13.2070, ""),
    ("Storegårdsskolan, gympasalen", "staffanstorp", 55.6411, 13.2128, "Titta efter krossat glas."),
    ("Sockerbruksparken, förrådet", "staffanstorp", 55.6373, 13.2163, ""),
    (
        "Hjärups station, cykelgaraget",
        "hjarup",
        55.6697,
        13.1428,
        "Se att grinden är stängd.",
    ),
    ("Hjärups centrum, lastkajen", "hjarup", 55.6689, 13.1498, ""),
    ("Hjärupslundsskolan, baksidan", "hjarup", 55.6701, 13.1556, ""),
)


def seed_rounds(org_id: int, device: Device, today: date) -> dict[str, int]:
    """Create the checkpoints, the two rounds and NIGHTS nights of scans before `today`."""
    areas = dict(db.session.execute(select(Area.code, Area.id).where(Area.org_id == org_id)).all())
    cps = [
        rounds.create_checkpoint(
            org_id,
            rounds.CheckpointPlan(
                name=name, lat=lat, lon=lon, area_id=areas.get(code), instructions=text
            ),
        )
        for name, code, lat, lon, text in CHECKPOINTS
    ]
    centrum = rounds.create_round(
        org_id,
        rounds.RoundPlan(
            name="Rond Centrum",
            checkpoint_ids=tuple(c.id for c in cps[:4]),
            window="22:00-02:00",
            ordered=True,
        ),
    )
    hjarup = rounds.create_round(
        org_id,
        rounds.RoundPlan(
            name="Rond Hjärup", checkpoint_ids=tuple(c.id for c in cps[4:]), window="23:30-03:30"
        ),
    )
    # Planned since the first demo night, so the week view counts those nights.
    start = _at(today - timedelta(days=NIGHTS), 12, 0)
    centrum.created_at = hjarup.created_at = start
    db.session.commit()
    runs = scans = 0
    for back in range(NIGHTS, 0, -1):
        night = today - timedelta(days=back)
        body = _night(back, night, centrum.id, hjarup.id, cps)
        answer = receive(device, body)
        runs += sum(r["status"] == "created" for r in answer.get("round_run_results", []))
        scans += sum(r["status"] == "created" for r in answer.get("scan_results", []))
    return {"checkpoints": len(cps), "rounds": 2, "runs": runs, "scans": scans}


def _at(night: date, hh: int, mm: int) -> datetime:
    """Return a local time of the night (hours before 12 are after midnight; mm may pass 59)."""
    day = night + timedelta(days=1) if hh < 12 else night
    return datetime.combine(day, time(hh), tzinfo=STOCKHOLM) + timedelta(minutes=mm)


def _night(
    back: int, night: date, centrum: int, hjarup: int, cps: list[Checkpoint]
) -> dict[str, Any]:
    """Return one night's push: what the guard's phone would send."""
    scans: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []

    def run(round_id: int, start: datetime, end: datetime, reason: str | None = None) -> str:
        rid = str(uuid.uuid4())
        runs.append(
            {
                "id": rid,
                "round_id": round_id,
                "started_at": start.isoformat(),
                "ended_at": end.isoformat(),
                "end_reason": reason,
            }
        )
        return rid

    def scan(cp: Checkpoint, rid: str, when: datetime, **extra: Any) -> None:
        scans.append(
            {
                "id": str(uuid.uuid4()),
                "token": cp.token,
                "scanned_at": when.isoformat(),
                "location": {"lat": cp.lat, "lon": cp.lon, "accuracy": 8},
                "round_run": rid,
                "method": "qr",
                **extra,
            }
        )

    # Rond Centrum, 22:00-02:00: every night but one it is walked in full.
    if back == 2:
        rid = run(centrum, _at(night, 22, 10), _at(night, 22, 40), "Skolgården avspärrad av polis.")
        for i, cp in enumerate(cps[:2]):
            scan(cp, rid, _at(night, 22, 15 + 10 * i))
    else:
        rid = run(centrum, _at(night, 22, 5), _at(night, 2, 25 if back == 3 else 0))
        for i, cp in enumerate(cps[:4]):
            when = _at(night, 22, 10 + 12 * i)
            if back == 3 and i == 3:
                when = _at(night, 2, 20)  # after the window and its grace: late
            if back == 4 and i == 1:
                # A damaged label: the guard typed the short code.
                scan(cp, rid, when, token=None, short_code=cp.short_code, method="code")
                scans[-1].pop("token")
                continue
            scan(cp, rid, when)
    # Rond Hjärup, 23:30-03:30: missed one night, a scan far off another.
    if back != 1:
        rid = run(hjarup, _at(night, 23, 40), _at(night, 0, 30))
        for i, cp in enumerate(cps[4:]):
            scan(cp, rid, _at(night, 23, 45 + 10 * i))
        if back == 3:
            scans[-1]["location"] = {"lat": cps[4].lat, "lon": cps[4].lon, "accuracy": 10}
    return {"scans": scans, "round_runs": runs}
