"""The pull's answer is built without marshmallow: it must stay exactly what PullOut dumps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from server.categories.schemas import CategoryOut
from server.devices import service as devices
from server.extensions import db
from server.incidents import feedback
from server.incidents import service as incidents
from server.protocol import pull as pull_service
from server.protocol.pullout import dump_pull
from server.protocol.schemas import (
    CommentOut,
    PullOut,
    ReportStateOut,
)
from server.reports.models import Report
from tests.support import factories
from tests.support import rounds as rounds_support
from tests.support import walks as walks_support

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
HASH_A = "a" * 64


def _rich_pull(client, org, device) -> dict[str, Any]:
    """Give the device every kind of item a pull carries, then return the raw pull."""
    near = {"lat": 55.6398, "lon": 13.2083, "accuracy_m": 12.0}
    reports = [
        factories.report(photos=[HASH_A], location=near),
        factories.report(location=near),  # the same incident as the first
        factories.report(location={"lat": 55.70, "lon": 13.30, "accuracy_m": 5.0}),
        factories.report(description="Borttagen", location={"lat": 55.75, "lon": 13.1}),
    ]
    resp = client.post(PUSH, json={"reports": reports}, headers=device.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    first, second, third, gone = (uuid.UUID(r["id"]) for r in reports)
    feedback.set_status(first, "bedomd", comment="Vi har sett det")
    feedback.add_comment(third, "Patrull skickad.")
    incident_id = db.session.scalar(select(Report.incident_id).where(Report.id == second))
    assert incident_id is not None
    incidents.add_comment(org.id, incident_id, "Hela händelsen: åtgärdad", None)
    feedback.delete_report(gone, "retention")
    walks_support.make_walk(org)
    cp = rounds_support.checkpoint(org.id)
    rounds_support.round_over(org.id, [cp, rounds_support.checkpoint(org.id, "Port B")])
    devices.request_wipe(device.device.id)
    db.session.expire_all()
    return pull_service.pull(db.session.get(type(device.device), device.device.id), None)


def test_the_pull_answer_is_what_the_schema_dumps(client, org, device):
    raw = _rich_pull(client, org, device)
    # What the rota and the alerts give, shaped as server.alerts.phone returns them.
    raw["acknowledged"] = [{"report_id": str(uuid.uuid4()), "at": datetime.now(UTC)}]
    raw["on_call"] = {"phone": "+46701234567"}

    fast = dump_pull(raw)

    assert fast == PullOut().dump(raw)
    # Every kind of item is there, so the comparison covered each field.
    assert {k for k, v in fast.items() if v in ([], None)} == set()
    states = fast["reports"]
    assert len(states) == 3 and fast["deleted"]
    assert {len(s["comments"]) for s in states} == {1, 2}
    assert [s["missing_photos"] for s in states].count([HASH_A]) == 1
    assert fast["wipe"] is True


def test_the_answer_has_exactly_the_schemas_fields(client, org, device):
    raw = _rich_pull(client, org, device)
    raw["on_call"] = None

    fast = dump_pull(raw)

    assert set(fast) == set(PullOut().fields)
    assert fast["on_call"] is None and PullOut().dump(raw)["on_call"] is None
    assert set(fast["reports"][0]) == set(ReportStateOut().fields)
    comments = [c for s in fast["reports"] for c in s["comments"]]
    assert comments and all(set(c) == set(CommentOut().fields) for c in comments)
    assert all(set(c) == set(CategoryOut().fields) for c in fast["categories"])


def test_the_endpoint_answers_with_the_fast_dump(client, org, device):
    raw = _rich_pull(client, org, device)

    body = client.get(PULL, headers=device.headers).get_json()

    expected = PullOut().dump(raw)
    # Only the server's clock moved between the two pulls.
    assert datetime.fromisoformat(body.pop("server_time")) - datetime.fromisoformat(
        expected.pop("server_time")
    ) < timedelta(minutes=1)
    assert body == expected


def test_an_empty_pull_is_what_the_schema_dumps(client, device):
    raw = pull_service.pull(device.device, None)

    assert raw["reports"] == [] and raw["walks"] == []
    assert dump_pull(raw) == PullOut().dump(raw)
