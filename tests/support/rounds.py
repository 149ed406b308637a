"""Helpers for the guard round tests: checkpoints, rounds, scan and run payloads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from server.devices.models import Device
from server.extensions import db
from server.orgs.models import Organisation
from server.rounds import service as rounds
from server.rounds.models import Checkpoint, CheckpointScan, Round, RoundRun
from tests.support import factories
from tests.support.factories import STOCKHOLM_WINTER

PUSH = "/api/v1/sync/push"
# Around Staffanstorp's station.
LAT, LON = 55.6410, 13.2060


def checkpoint(org_id: int, name: str = "Port A", lat: float = LAT, lon: float = LON) -> Checkpoint:
    """Create a checkpoint of the organisation."""
    return rounds.create_checkpoint(org_id, rounds.CheckpointPlan(name=name, lat=lat, lon=lon))


def round_over(
    org_id: int,
    cps: list[Checkpoint],
    *,
    window: str = "22:00-02:00",
    ordered: bool = False,
    name: str = "Nattrond",
    optional: frozenset[int] = frozenset(),
) -> Round:
    """Create a round over the checkpoints."""
    plan = rounds.RoundPlan(
        name=name,
        checkpoint_ids=tuple(c.id for c in cps),
        window=window,
        ordered=ordered,
        optional_ids=optional,
    )
    created = rounds.create_round(org_id, plan)
    # Planned since the start of the year, so the fixed nights of the tests count.
    created.created_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    return created


def at(moment: datetime | None = None) -> str:
    """Return a device time with a +01:00 offset (ten minutes ago by default)."""
    moment = moment or datetime.now(UTC) - timedelta(minutes=10)
    return moment.astimezone(STOCKHOLM_WINTER).isoformat()


def scan(cp: Checkpoint | None = None, **overrides: Any) -> dict[str, Any]:
    """Build a scan payload of a checkpoint's token, at its position, ten minutes ago."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "scanned_at": at(),
        "location": {"lat": LAT, "lon": LON, "accuracy": 10},
        "method": "qr",
    }
    if cp is not None:
        body["token"] = cp.token
    body.update(overrides)
    return body


def run(round_id: int, started: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """Build a round run payload started ten minutes ago."""
    body = {"id": str(uuid.uuid4()), "round_id": round_id, "started_at": at(started)}
    body.update(overrides)
    return body


def push(client: Any, dev: Any, **body: Any) -> dict[str, Any]:
    """Push a body and return the 200 answer."""
    resp = client.post(PUSH, json=body, headers=dev.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


# --- one night of four rounds: completed, incomplete, missed, not synced ------------------

NIGHT = date(2026, 5, 1)  # a Friday; 22:00-02:00 is 20:00-00:00 UTC
BEFORE_CUTOFF = datetime(2026, 5, 2, 3, 0, tzinfo=UTC)  # 05:00 local
AFTER_CUTOFF = datetime(2026, 5, 2, 5, 0, tzinfo=UTC)  # 07:00 local


def utc(hour: int, minute: int = 0, day: int = 1) -> datetime:
    """Return a UTC moment of the night (day 1 is the evening, 2 the morning)."""
    return datetime(2026, 5, day, hour, minute, tzinfo=UTC)


def stored_run(
    dev: Device,
    rnd: Round,
    started: datetime,
    scans: list[tuple[Checkpoint, datetime]],
    *,
    ended: datetime | None = None,
    reason: str | None = None,
    flags: tuple[str, ...] = (),
) -> RoundRun:
    """Store a run with its scans as the push would have."""
    run_row = RoundRun(
        id=uuid.uuid4(),
        org_id=rnd.org_id,
        device_id=dev.id,
        round_id=rnd.id,
        started_at_device=started,
        started_at=started,
        ended_at_device=ended,
        ended_at=ended,
        end_reason=reason,
    )
    db.session.add(run_row)
    for cp, when in scans:
        db.session.add(
            CheckpointScan(
                id=uuid.uuid4(),
                org_id=rnd.org_id,
                device_id=dev.id,
                checkpoint_id=cp.id,
                round_run_id=run_row.id,
                scanned_at_device=when,
                scanned_at=when,
                lat=cp.lat,
                lon=cp.lon,
                accuracy_m=5.0,
                flags=list(flags),
            )
        )
    db.session.commit()
    return run_row


@dataclass
class FourRounds:
    """The four rounds of NIGHT and their checkpoints."""

    cps: dict[str, Checkpoint]
    rounds: dict[str, Round]
    silent: Device


def four_rounds(org_id: int, area_id: int | None = None) -> FourRounds:
    """Store one night: a completed, an incomplete, a missed and a not-synced round."""
    names = ("Entré", "Garage", "Källare", "Tak", "Förråd", "Gård", "Port", "Cykelrum")
    cps = {
        n: rounds.create_checkpoint(
            org_id, rounds.CheckpointPlan(name=n, lat=LAT, lon=LON, area_id=area_id)
        )
        for n in names
    }
    made = {
        "completed": round_over(org_id, [cps["Entré"], cps["Garage"]], name="Rond Centrum"),
        "incomplete": round_over(org_id, [cps["Källare"], cps["Tak"]], name="Rond Hamnen"),
        "missed": round_over(org_id, [cps["Förråd"], cps["Gård"]], name="Rond Skolan"),
        "not_synced": round_over(org_id, [cps["Port"], cps["Cykelrum"]], name="Rond Torget"),
    }
    org = db.session.get(Organisation, org_id)
    walker = factories.make_device(org).device
    silent = factories.make_device(org).device
    stored_run(
        walker,
        made["completed"],
        utc(20, 5),
        [(cps["Entré"], utc(20, 10)), (cps["Garage"], utc(21))],
        ended=utc(21, 5),
    )
    stored_run(
        walker,
        made["incomplete"],
        utc(21, 30),
        [(cps["Källare"], utc(21, 40))],
        ended=utc(22),
        reason="Taket var avspärrat.",
        flags=("too_far",),
    )
    stored_run(silent, made["not_synced"], utc(20, 30), [(cps["Port"], utc(20, 35))])
    # The walker synced this morning; the silent phone last spoke just after starting.
    walker.last_seen_at = utc(2, day=2)
    silent.last_seen_at = utc(20, 36)
    db.session.commit()
    return FourRounds(cps, made, silent)
