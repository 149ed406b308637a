"""Helpers for the guard round tests: checkpoints, rounds, scan and run payloads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from server.rounds import service as rounds
from server.rounds.models import Checkpoint, Round
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
    return rounds.create_round(org_id, plan)


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
