"""The demo's guard company: checkpoints, two rounds and a few nights of scans."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from server.cli import main
from server.extensions import db
from server.orgs.models import Organisation
from server.rounds.models import CheckpointScan
from server.rounds.status import statuses
from server.rounds.week import week
from server.sharing.scope import scope_for
from sync.clock import utcnow
from sync.rounds import STOCKHOLM


def test_the_demo_guard_company_walks_two_rounds(runner, app) -> None:
    result = runner.invoke(main, ["demo", "--json", "--weeks", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rounds"]["checkpoints"] == 7 and data["rounds"]["rounds"] == 2
    assert data["rounds"]["runs"] == 7 and data["rounds"]["scans"] == 23
    guards = db.session.scalar(select(Organisation).where(Organisation.kind == "vaktbolag"))
    today = utcnow().astimezone(STOCKHOLM).date()
    found = {
        r.status
        for r in statuses(guards.id, today - timedelta(days=4), today - timedelta(days=2), utcnow())
    }
    assert found == {"completed", "incomplete", "late"}
    flags = {f for s in db.session.scalars(select(CheckpointScan)) for f in s.flags}
    assert {"typed_code", "too_far"} <= flags
    # The municipality sees them in its week view through the guard company's agreement.
    municipality = db.session.scalar(select(Organisation).where(Organisation.slug == data["org"]))
    shared = week(scope_for(municipality.id), today - timedelta(days=today.weekday()), utcnow())
    earlier = week(
        scope_for(municipality.id), today - timedelta(days=today.weekday() + 7), utcnow()
    )
    assert any(g.owner == guards.id for g in shared + earlier)
